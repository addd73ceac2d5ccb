/* test_wire_round_trips.c -- issue 6's table counted on the wire by the
 * proxy, not by the core's own counter: a regression in the plan fails
 * here even if the counter were wrong too. */
#include "harness.h"

typedef int (*shape_fn)(pga_conn *c);

static int q(pga_conn *c, const char *sql)
{
    return pga_query(c, sql, NULL, NULL);
}

static int shape_insert(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (1)");
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_transfer(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b - 1 WHERE id = 1");
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b + 1 WHERE id = 2");
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_nested(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (2)");
    rc = rc ? rc : pga_atomic_enter(c, PGA_SAVEPOINT);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (3)");
    rc = rc ? rc : pga_atomic_exit(c, 0);
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_empty(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : pga_atomic_enter(c, PGA_SAVEPOINT);
    rc = rc ? rc : pga_atomic_exit(c, 0);
    return rc ? rc : pga_atomic_exit(c, 0);
}

static void count_shape(shape_fn shape, long expected)
{
    test_proxy px = {0};
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS wr_items, wr_acc;"
                                    "CREATE TABLE wr_items (id int);"
                                    "CREATE TABLE wr_acc (id int, b int);"
                                    "INSERT INTO wr_acc VALUES (1, 10), (2, 0)"));
    ASSERT_EQ_INT(0, test_proxy_start(&px));
    pga_conn *c = test_proxy_connect(&px);
    long trips = -1;
    int rc = -1;
    if (c != NULL && test_proxy_say(&px, "reset\n", NULL, 0) == 0) {
        rc = shape(c);
        trips = test_proxy_round_trips(&px);
    }
    pga_conn_free(c);
    test_proxy_stop(&px);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(expected, trips);
}

TEST(wire_insert_block_is_two_round_trips)
{
    count_shape(shape_insert, 2);
}

TEST(wire_transfer_block_is_three_round_trips)
{
    count_shape(shape_transfer, 3);
}

TEST(wire_nested_block_is_three_round_trips)
{
    count_shape(shape_nested, 3);
}

TEST(wire_empty_block_is_no_round_trip)
{
    count_shape(shape_empty, 0);
}
