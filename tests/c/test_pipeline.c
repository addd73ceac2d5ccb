/* test_pipeline.c -- pipelined transactions (PGA_PIPELINE): one round trip
 * when nothing is read before COMMIT, and what surfaces later than in
 * normal mode (docs/core.md "Pipelined transactions").  The same scenario
 * names run in tests/python/test_pipeline.py and tests/node/pipeline.test.js. */
#include <stdint.h>
#include <string.h>

#include "harness.h"

static uint64_t trips_of(pga_conn *c, uint64_t before)
{
    return pga_conn_round_trips(c) - before;
}

static int q(pga_conn *c, const char *sql)
{
    return pga_query(c, sql, NULL, NULL);
}

static pga_conn *setup(void)
{
    if (test_exec("DROP TABLE IF EXISTS pl_acc, pl_items;"
                  "CREATE TABLE pl_acc (id int PRIMARY KEY, b int);"
                  "CREATE TABLE pl_items (id int PRIMARY KEY);"
                  "INSERT INTO pl_acc VALUES (1, 100), (2, 0)") != PGA_OK) {
        return NULL;
    }
    return test_connect();
}

static void note(void *data)
{
    (void)data;
}

static int hook(pga_conn *c)
{
    pga_hook h = {note, NULL, NULL};
    return pga_hook_add(c, &h);
}

/* "r" per hook handed back to run, "d" per dropped one. */
static void hooks_of(pga_conn *c, char *out, size_t cap)
{
    pga_hook h;
    int disp;
    size_t n = 0;
    out[0] = '\0';
    while ((disp = pga_hook_next(c, &h)) != 0 && n + 2 < cap) {
        out[n++] = disp == PGA_HOOK_RUN ? 'r' : 'd';
        out[n] = '\0';
    }
}

TEST(pipeline_transfer_is_one_round_trip)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(1, pga_pipeline_active(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(2, pga_pipeline_queued(c));
    ASSERT_EQ_INT(0, trips_of(c, t0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    /* The results stay to be taken after the exit. */
    pga_result *r = NULL;
    ASSERT_EQ_INT(2, pga_batch_size(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 1, &r));
    ASSERT(r != NULL);
    ASSERT_EQ_STR("UPDATE 1", pga_result_status(r));
    pga_result_free(r);
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM pl_acc WHERE id = 2"));
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    ASSERT_EQ_INT(PGA_OUTCOME_COMMITTED, o.state);
    pga_conn_free(c);
}

TEST(pipeline_nested_is_one_round_trip)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(2, test_scalar_int("SELECT count(*) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_read_forces_a_round_trip)
{
    pga_conn *c = setup();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT b FROM pl_acc WHERE id = 1", NULL, &r));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT(r != NULL);
    ASSERT_EQ_STR("90", pga_result_text(r, 0, 0, NULL));
    pga_result_free(r);
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM pl_acc WHERE id = 2"));
    pga_conn_free(c);
}

TEST(pipeline_error_surfaces_at_commit)
{
    /* Nothing read: the failing INSERT's error is what the exit returns;
     * nothing is committed and the hooks are dropped. */
    pga_conn *c = setup();
    char hooks[8];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, test_exec("INSERT INTO pl_items VALUES (5)"));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(PGA_OK, hook(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    hooks_of(c, hooks, sizeof(hooks));
    ASSERT_EQ_STR("d", hooks);
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    ASSERT_EQ_INT(PGA_OUTCOME_ROLLED_BACK, o.state);
    ASSERT_EQ_INT(1, o.unasked);
    ASSERT(o.cause != 0);
    /* The flight, then the ROLLBACK of the aborted transaction. */
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    /* The connection goes on. */
    ASSERT_EQ_INT(PGA_OK, q(c, "SELECT 1"));
    pga_conn_free(c);
}

TEST(pipeline_error_surfaces_when_a_result_is_read)
{
    /* Reading any result forces the flight; the force returns its first
     * failure; each statement keeps its own outcome; the block is broken. */
    pga_conn *c = setup();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, test_exec("INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_pipeline_sync(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 0, &r));
    pga_result_free(r);
    ASSERT_EQ_INT(PGA_ESERVER, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_batch_outcome(c, 2, NULL));
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_EBROKEN, q(c, "SELECT 1"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    ASSERT_EQ_INT(PGA_OUTCOME_ROLLED_BACK, o.state);
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    pga_conn_free(c);
}

TEST(pipeline_on_commit_runs_after_commit)
{
    pga_conn *c = setup();
    char hooks[8];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, hook(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, hook(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    hooks_of(c, hooks, sizeof(hooks));
    ASSERT_EQ_STR("", hooks);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    hooks_of(c, hooks, sizeof(hooks));
    ASSERT_EQ_STR("rr", hooks);
    pga_conn_free(c);
}

TEST(pipeline_nested_failure_rolls_back_the_transaction)
{
    /* The inner block exits (released) before its failure is known; the
     * statements after it never ran, so the whole transaction rolls back
     * and the outer exit reports the failure. */
    pga_conn *c = setup();
    char hooks[8];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, test_exec("INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, hook(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    hooks_of(c, hooks, sizeof(hooks));
    ASSERT_EQ_STR("d", hooks);
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_nested_failure_read_inside_rolls_back_only_the_savepoint)
{
    /* Read inside the inner block, the failure is the inner block's, as in
     * normal mode: ROLLBACK TO, and the outer block carries on. */
    pga_conn *c = setup();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, test_exec("INSERT INTO pl_items VALUES (5)"));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO pl_items VALUES (5)", NULL, &r));
    ASSERT(r == NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(3, test_scalar_int("SELECT count(*) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_block_left_by_an_exception_rolls_back_in_one_round_trip)
{
    pga_conn *c = setup();
    char hooks[8];
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));     /* inner: ROLLBACK TO owed */
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_OK, hook(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    hooks_of(c, hooks, sizeof(hooks));
    ASSERT_EQ_STR("d", hooks);
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pl_items"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(pipeline_inner_rollback_undoes_only_the_savepoint)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_deferred_constraint_fails_at_commit)
{
    pga_conn *c = NULL;
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS pl_def;"
                                    "CREATE TABLE pl_def (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"));
    c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_def VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_def VALUES (1)"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pl_def"));
    pga_conn_free(c);
}

TEST(pipeline_commit_answered_with_rollback_raises)
{
    /* A failure read and then the flag cleared (Django allows it): the
     * server's transaction is still aborted, its COMMIT answers ROLLBACK. */
    pga_conn *c = setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, q(c, "SELECT 1/0"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_pipeline_sync(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_set_rollback(c, 0));
    ASSERT_EQ_INT(PGA_EROLLEDBACK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_flag_on_a_nested_block_is_ignored)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT | PGA_PIPELINE));
    ASSERT_EQ_INT(0, pga_pipeline_active(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    pga_conn_free(c);
}

TEST(pipeline_refuses_a_script_and_other_operations_in_flight)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_EMISUSE, q(c, "SELECT 1; SELECT 2"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_EBUSY, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM pl_items"));
    pga_conn_free(c);
}

TEST(pipeline_savepoint_calls_ride_in_the_flight)
{
    pga_conn *c = setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "a", NULL));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "a"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM pl_items"));
    pga_conn_free(c);
}

/* ---- the connection's pipeline mode (pga_conn_set_pipeline): the
 * DB-API's conn.pipeline(), a manual transaction pipelined.  The same
 * scenario names run in tests/python/test_dbapi_pipeline.py. */

static pga_conn *manual_setup(void)
{
    pga_conn *c = setup();
    if (c != NULL && (pga_conn_set_autocommit(c, 0) != PGA_OK
                      || pga_conn_set_sql_controls(c, 1) != PGA_OK
                      || pga_conn_set_pipeline(c, 1) != PGA_OK)) {
        pga_conn_free(c);
        return NULL;
    }
    return c;
}

/* A manual transaction's flight whose second statement fails (23505)
 * and whose third the failure skips. */
static int queue_a_failure(pga_conn *c)
{
    int rc = test_exec("INSERT INTO pl_items VALUES (5)");
    rc = rc ? rc : q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1");
    rc = rc ? rc : q(c, "INSERT INTO pl_items VALUES (5)");
    return rc ? rc : q(c, "INSERT INTO pl_items VALUES (6)");
}

TEST(dbapi_pipeline_transfer_is_one_round_trip)
{
    pga_conn *c = manual_setup();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(1, pga_pipeline_active(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(2, pga_pipeline_queued(c));
    ASSERT_EQ_INT(0, trips_of(c, t0));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(2, pga_batch_size(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 1, &r));
    ASSERT(r != NULL);
    ASSERT_EQ_STR("UPDATE 1", pga_result_status(r));
    pga_result_free(r);
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    ASSERT_EQ_INT(PGA_OUTCOME_COMMITTED, o.state);
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM pl_acc WHERE id = 2"));
    /* The next manual transaction is pipelined too. */
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(1, pga_pipeline_queued(c));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(80, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_error_surfaces_at_commit)
{
    /* Nothing read: commit returns the failing statement's error, the
     * statement after it did not run, everything is rolled back. */
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, test_exec("INSERT INTO pl_items VALUES (5)"));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (5)"));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (6)"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_commit(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    ASSERT_EQ_INT(PGA_OUTCOME_ROLLED_BACK, o.state);
    ASSERT_EQ_INT(1, o.unasked);
    /* The flight, then the ROLLBACK of the aborted transaction. */
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pl_items WHERE id = 6"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(0, pga_conn_in_manual_txn(c));
    /* The connection goes on, in a new pipelined transaction. */
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (6)"));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM pl_items WHERE id = 6"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_error_read_at_sync_then_commit_is_rolled_back)
{
    /* A sync returns the flight's first failure; the transaction is then
     * failed, as after a failed statement in normal mode: the commit is
     * answered with ROLLBACK and says so, naming the failure. */
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, queue_a_failure(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_pipeline_sync(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 0, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_batch_outcome(c, 2, NULL));
    /* Skipped because of the failure, which it names as its cause. */
    ASSERT_EQ_INT(PGA_FACTS_CAUSE, pga_conn_error_facts(c, PGA_EBROKEN));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT('E', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_EROLLEDBACK, pga_commit(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pl_items WHERE id = 6"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_rollback_rides_in_the_flight)
{
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, pga_rollback(c));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_savepoints_and_blocks_ride_in_the_flight)
{
    /* Named savepoints and atomic blocks inside a pipelined manual
     * transaction join its flight: still one round trip. */
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s1", NULL));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (2)"));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "s1"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (3)"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, trips_of(c, t0));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM pl_items"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_autocommit_statements_run_at_once)
{
    /* Outside a transaction a statement is its own: read at once; an
     * atomic block is a transaction, pipelined by the mode. */
    pga_conn *c = setup();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_pipeline(c, 1));
    ASSERT_EQ_INT(0, pga_pipeline_active(c));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1", NULL, &r));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    pga_result_free(r);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(1, pga_pipeline_active(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, trips_of(c, t0));
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM pl_acc WHERE id = 2"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_control_statement_as_sql_waits_for_the_flight)
{
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(0, pga_pipeline_must_sync(c, "COMMIT", NULL));
    ASSERT_EQ_INT(PGA_OK, q(c, "INSERT INTO pl_items VALUES (1)"));
    ASSERT_EQ_INT(1, pga_pipeline_must_sync(c, "COMMIT", NULL));
    ASSERT_EQ_INT(1, pga_pipeline_must_sync(c, "savepoint a", NULL));
    ASSERT_EQ_INT(0, pga_pipeline_must_sync(c, "INSERT INTO pl_items VALUES (2)", NULL));
    ASSERT_EQ_INT(PGA_EBUSY, q(c, "COMMIT"));
    /* Nothing was lost by the refusal; turning the mode off is refused
     * too while the flight waits. */
    ASSERT_EQ_INT(PGA_EBUSY, pga_conn_set_pipeline(c, 0));
    ASSERT_EQ_INT(1, pga_pipeline_queued(c));
    ASSERT_EQ_INT(PGA_OK, pga_pipeline_sync(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "COMMIT"));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM pl_items"));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_pipeline(c, 0));
    ASSERT_EQ_INT(0, pga_pipeline_active(c));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_rollback_after_an_unread_failure_reports_it)
{
    /* The transaction is rolled back all the same; the failure is the
     * rollback's news, and every statement keeps its own outcome: the one
     * the failure skipped says so. */
    pga_conn *c = manual_setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, queue_a_failure(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_rollback(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(3, pga_batch_size(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 0, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_batch_outcome(c, 2, NULL));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(100, test_scalar_int("SELECT b FROM pl_acc WHERE id = 1"));
    pga_conn_free(c);
}

TEST(dbapi_pipeline_transaction_begun_as_sql_is_pipelined)
{
    /* Autocommit on, BEGIN given as SQL (psycopg's pipeline idiom): the
     * transaction it opens is pipelined; pga_commit() ends it in the flight. */
    pga_conn *c = setup();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_sql_controls(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_pipeline(c, 1));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, q(c, "BEGIN"));
    ASSERT_EQ_INT(1, pga_pipeline_active(c));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b - 10 WHERE id = 1"));
    ASSERT_EQ_INT(PGA_OK, q(c, "UPDATE pl_acc SET b = b + 10 WHERE id = 2"));
    ASSERT_EQ_INT(0, trips_of(c, t0));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(1, trips_of(c, t0));
    ASSERT_EQ_INT(0, pga_pipeline_active(c));
    ASSERT_EQ_INT(10, test_scalar_int("SELECT b FROM pl_acc WHERE id = 2"));
    pga_conn_free(c);
}
