/* test_results.c -- every result of a statement is reachable: a script of
 * several commands gives one result per command, taken one after another. */
#include <stdlib.h>

#include "harness.h"

static int run(pga_conn *c, const char *sql)
{
    int rc = pga_query_start(c, sql, NULL);
    while (rc == PGA_OK && (rc = pga_conn_wait(c, -1)) > 0) {
    }
    return rc;
}

/* "^A script of several commands gives one result per command, taken one
 * after another in the order the commands ran; a single statement gives
 * one.  ^NULL when none is left" */
TEST(script_gives_every_result)
{
    pga_conn *c = test_connect();
    pga_result *r;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, run(c, "SELECT 1 AS a; SELECT 2 AS b, 3 AS c UNION ALL SELECT 4, 5;"
                                 " CREATE TEMP TABLE script_t (x int); INSERT INTO script_t VALUES (7), (8)"));
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_STR("a", pga_result_colname(r, 0));
    ASSERT_EQ_STR("1", pga_result_text(r, 0, 0, NULL));
    ASSERT_EQ_STR("SELECT 1", pga_result_status(r));
    pga_result_free(r);
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_INT(2, pga_result_nrows(r));
    ASSERT_EQ_INT(2, pga_result_ncols(r));
    ASSERT_EQ_STR("5", pga_result_text(r, 1, 1, NULL));
    pga_result_free(r);
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_STR("CREATE TABLE", pga_result_status(r));
    pga_result_free(r);
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_STR("INSERT 0 2", pga_result_status(r));
    ASSERT_EQ_INT(2, pga_result_rowcount(r));
    pga_result_free(r);
    ASSERT(pga_conn_take_result(c) == NULL);

    /* A single statement gives one. */
    ASSERT_EQ_INT(PGA_OK, run(c, "SELECT 42"));
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    pga_result_free(r);
    ASSERT(pga_conn_take_result(c) == NULL);
    pga_conn_free(c);
}

/* A script in a nested block travels after its prelude (SAVEPOINT): still
 * every result. */
TEST(script_in_nested_block_gives_every_result)
{
    pga_conn *c = test_connect();
    pga_result *r;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, run(c, "SELECT 'x'; SELECT 'y'; SELECT 'z'"));
    const char *want[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        r = pga_conn_take_result(c);
        ASSERT(r != NULL);
        ASSERT_EQ_STR(want[i], pga_result_text(r, 0, 0, NULL));
        pga_result_free(r);
    }
    ASSERT(pga_conn_take_result(c) == NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

/* "^a script that failed part-way gives none, only its error" */
TEST(script_failing_part_way_gives_no_result)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, run(c, "SELECT 1; SELECT 1/0; SELECT 3"));
    ASSERT_EQ_STR("22012", pga_conn_sqlstate(c));
    ASSERT(pga_conn_take_result(c) == NULL);
    pga_conn_free(c);
}

/* pga_query() hands over the first; the rest follow from take_result, and
 * those never taken are freed by the next statement (valgrind checks). */
TEST(script_first_result_from_blocking_query)
{
    pga_conn *c = test_connect();
    pga_result *r = NULL, *next;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 'first'; SELECT 'second'; SELECT 'third'", NULL, &r));
    ASSERT(r != NULL);
    ASSERT_EQ_STR("first", pga_result_text(r, 0, 0, NULL));
    pga_result_free(r);
    next = pga_conn_take_result(c);
    ASSERT(next != NULL);
    ASSERT_EQ_STR("second", pga_result_text(next, 0, 0, NULL));
    pga_result_free(next);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT(pga_conn_take_result(c) == NULL);
    pga_conn_free(c);
}

/* pga_result_coltypmod(): "-1 when the type has none; else type-specific";
 * pga_result_colsize(): "-1 when it varies". */
TEST(result_reports_type_modifiers_and_sizes)
{
    pga_conn *c = test_connect();
    pga_result *r;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, run(c, "SELECT 1::int4, 'x'::varchar(10), 1.5::numeric(7, 2),"
                                 " now()::timestamp(3), 'y'::text"));
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_INT(23, pga_result_coltype(r, 0));
    ASSERT_EQ_INT(-1, pga_result_coltypmod(r, 0));
    ASSERT_EQ_INT(4, pga_result_colsize(r, 0));
    ASSERT_EQ_INT(10 + 4, pga_result_coltypmod(r, 1));
    ASSERT_EQ_INT(-1, pga_result_colsize(r, 1));
    ASSERT_EQ_INT(((7 << 16) | 2) + 4, pga_result_coltypmod(r, 2));
    ASSERT_EQ_INT(3, pga_result_coltypmod(r, 3));
    ASSERT_EQ_INT(8, pga_result_colsize(r, 3));
    ASSERT_EQ_INT(-1, pga_result_coltypmod(r, 4));
    pga_result_free(r);
    pga_conn_free(c);
}
