/* test_roundtrips.c -- the round-trip plan: BEGIN, SAVEPOINT and RELEASE
 * ride with statements; an empty block sends nothing. */
#include "harness.h"

static uint64_t trips_of(pga_conn *c, uint64_t before)
{
    return pga_conn_round_trips(c) - before;
}

TEST(empty_block_sends_nothing)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, trips_of(c, t0));
    pga_conn_free(c);
}

TEST(insert_block_costs_two_round_trips)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS rt_ins; CREATE TABLE rt_ins (id int)"));
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 7));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO rt_ins VALUES ($1)", p, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(7, test_scalar_int("SELECT id FROM rt_ins"));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(transfer_block_costs_three_round_trips)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS rt_acc; CREATE TABLE rt_acc (id int, b int);"
                                    "INSERT INTO rt_acc VALUES (1, 100), (2, 0)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "UPDATE rt_acc SET b = b - 10 WHERE id = 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "UPDATE rt_acc SET b = b + 10 WHERE id = 2", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(3, trips_of(c, t0));
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM rt_acc WHERE id = 2"));
    pga_conn_free(c);
}

TEST(nested_block_costs_three_round_trips)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS rt_nest; CREATE TABLE rt_nest (id int)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO rt_nest VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO rt_nest VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(3, trips_of(c, t0));
    ASSERT_EQ_INT(2, test_scalar_int("SELECT count(*) FROM rt_nest"));
    pga_conn_free(c);
}

TEST(failed_savepoint_is_reported_at_the_statement)
{
    /* Clearing the rollback flag after an error (Django allows it) leaves
     * the server transaction aborted; the SAVEPOINT riding with the next
     * statement then fails, and that failure is what the statement reports. */
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS rt_sp; CREATE TABLE rt_sp (id int PRIMARY KEY)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO rt_sp VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO rt_sp VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_set_rollback(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_STR("25P02", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));   /* nothing to roll back to */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM rt_sp"));
    pga_conn_free(c);
}

TEST(deferred_constraint_failure_at_commit_rolls_back)
{
    /* A deferred constraint fails at COMMIT: the error is reported and the
     * transaction is rolled back. */
    ASSERT_EQ_INT(PGA_OK, test_exec(
        "DROP TABLE IF EXISTS rt_def; CREATE TABLE rt_def (id int, "
        "CONSTRAINT u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO rt_def VALUES (1), (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM rt_def"));
    pga_conn_free(c);
}
