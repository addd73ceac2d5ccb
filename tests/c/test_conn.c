/* test_conn.c -- the session: non-blocking connect and query driven by the
 * test's own poll loop, cancel, a dropped connection, and passwords kept
 * out of messages. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

/* An event loop in miniature: only pga_conn_step, the socket and poll. */
static int drive_by_hand(pga_conn *c, int *steps)
{
    int rc = pga_conn_step(c, 0);
    while (rc > 0) {
        struct pollfd p = {pga_conn_socket(c), 0, 0};
        p.events = (short)(((rc & PGA_WANT_READ) ? POLLIN : 0) | ((rc & PGA_WANT_WRITE) ? POLLOUT : 0));
        if (poll(&p, 1, 5000) <= 0) {
            return -999;
        }
        int ready = ((p.revents & (POLLIN | POLLHUP | POLLERR)) ? PGA_READY_READ : 0)
                    | ((p.revents & POLLOUT) ? PGA_READY_WRITE : 0);
        rc = pga_conn_step(c, ready);
        (*steps)++;
    }
    return rc;
}

TEST(non_blocking_connect_and_query)
{
    pga_conn *c = NULL;
    pga_result *r = NULL;
    int steps = 0;
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect_start(c, NULL));
    ASSERT_EQ_INT(PGA_OK, drive_by_hand(c, &steps));
    ASSERT(pga_conn_is_open(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query_start(c, "SELECT 40 + 2", NULL));
    ASSERT_EQ_INT(PGA_EBUSY, pga_query_start(c, "SELECT 1", NULL));
    ASSERT_EQ_INT(PGA_OK, drive_by_hand(c, &steps));
    r = pga_conn_take_result(c);
    ASSERT(r != NULL);
    ASSERT_EQ_STR("42", pga_result_text(r, 0, 0, NULL));
    ASSERT_EQ_STR("SELECT 1", pga_result_status(r));
    ASSERT_EQ_INT(1, pga_result_rowcount(r));
    pga_result_free(r);
    ASSERT(pga_conn_take_result(c) == NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit_start(c, 0));
    ASSERT_EQ_INT(PGA_OK, drive_by_hand(c, &steps));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(cancel_stops_a_running_statement)
{
    pga_conn *c = test_connect();
    int steps = 0;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query_start(c, "SELECT pg_sleep(30)", NULL));
    ASSERT(pga_conn_step(c, 0) > 0);
    /* A cancel that reaches the backend before it runs the statement (it
     * is 'active' from the Parse on, before the Execute is read) is
     * dropped: wait until it sleeps.  The bound only ends a hang. */
    for (int i = 0; i < 500 && test_scalar_int("SELECT count(*) FROM pg_stat_activity "
                                               "WHERE query = 'SELECT pg_sleep(30)' AND wait_event = 'PgSleep'") != 1; i++) {
        poll(NULL, 0, 20);
    }
    ASSERT_EQ_INT(PGA_OK, pga_conn_cancel(c));
    ASSERT_EQ_INT(PGA_ESERVER, drive_by_hand(c, &steps));
    ASSERT_EQ_STR("57014", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_QUERY_CANCELED, pga_conn_error_kind(c));
    /* A cancelled statement breaks its block like any other error. */
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

/* pga_conn_cancel() never waits, so its request reaches the server a
 * moment later; one written while nothing runs must not cancel the
 * statement that follows (the core holds that statement until the server
 * has read the request, as PQcancel() holds its caller; without that about
 * one statement in two here was cancelled). */
TEST(cancel_sent_while_idle_never_cancels_the_next_statement)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ_INT(PGA_OK, pga_conn_cancel(c));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT pg_sleep(0.01)", NULL, NULL));
    }
    pga_conn_free(c);
}

/* The same for a request written after the statement's answer arrived
 * but before it was read (a deadline or a caller cancelling as the
 * statement ends): it is the next statement's that waits.  A request with
 * the descriptor of an earlier one must get a deadline of its own (the
 * earlier one's had passed, and the wait was skipped). */
TEST(cancel_racing_the_end_of_a_statement_never_cancels_the_next)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    for (int i = 0; i < 20; i++) {
        int rc;
        ASSERT_EQ_INT(PGA_OK, pga_query_start(c, "SELECT 1", NULL));
        while ((rc = pga_conn_step(c, 0)) > 0 && (rc & PGA_WANT_WRITE)) {
        }
        poll(NULL, 0, 20);              /* answered; not read yet */
        ASSERT_EQ_INT(PGA_OK, pga_conn_cancel(c));
        while ((rc = pga_conn_wait(c, 1000)) > 0) {
        }
        ASSERT(rc == PGA_OK || pga_conn_error_kind(c) == PGA_KIND_QUERY_CANCELED);
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT pg_sleep(0.01)", NULL, NULL));
    }
    pga_conn_free(c);
}

TEST(dropped_connection_inside_block)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS cn_drop; CREATE TABLE cn_drop (id int)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    int pid = test_backend_pid(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO cn_drop VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, test_terminate(pid));
    ASSERT_EQ_INT(PGA_ECONN, pga_query(c, "INSERT INTO cn_drop VALUES (2)", NULL, NULL));
    ASSERT(!pga_conn_is_open(c));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "INSERT INTO cn_drop VALUES (3)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM cn_drop"));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(connection_dropped_before_commit_is_a_certain_failure)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS cn_drop2; CREATE TABLE cn_drop2 (id int)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    int pid = test_backend_pid(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO cn_drop2 VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, test_terminate(pid));
    /* The server said goodbye before COMMIT left: not "unknown". */
    ASSERT_EQ_INT(PGA_ECONN, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM cn_drop2"));
    pga_conn_free(c);
}

TEST(password_never_in_messages)
{
    static const char *bad[] = {
        "host=/nonexistent-dir password=hunter2secret",
        "postgresql://someone:hunter2secret@/db?host=/nonexistent-dir",
        "postgresql://someone:hunter2secret@/db?bogus=1",
        "password=hunter2secret bogus",
        "password='hunter2secret' host=/nonexistent-dir",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pga_conn *c = NULL;
        ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
        ASSERT_EQ_INT(PGA_ECONN, pga_conn_connect(c, bad[i]));
        ASSERT(pga_conn_errmsg(c)[0] != '\0');
        if (strstr(pga_conn_errmsg(c), "hunter2") != NULL) {
            test_fail(__FILE__, __LINE__, "password in: %s", pga_conn_errmsg(c));
        }
        pga_conn_free(c);
    }
}

TEST(statements_on_closed_connection_fail_cleanly)
{
    pga_conn *c = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_ECLOSED, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_ECLOSED, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_ENOATOMIC, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT('U', pga_conn_txn_status(c));
    pga_conn_close(c);
    pga_conn_free(c);
    pga_conn_free(NULL);
}

TEST(output_formats_are_pinned_but_user_options_kept)
{
    pga_conn *c = NULL;
    pga_result *r = NULL;
    char dsn[512];
    const char *host = getenv("PGHOST");
    snprintf(dsn, sizeof(dsn), "host=%s options='-c DateStyle=German -c search_path=pg_catalog,public'",
             host ? host : "/tmp");
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, dsn));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT '2024-01-02'::date, current_setting('search_path'), "
                                       "current_setting('client_encoding')", NULL, &r));
    ASSERT_EQ_STR("2024-01-02", pga_result_text(r, 0, 0, NULL));
    ASSERT_EQ_STR("pg_catalog,public", pga_result_text(r, 0, 1, NULL));
    ASSERT_EQ_STR("UTF8", pga_result_text(r, 0, 2, NULL));
    pga_result_free(r);
    pga_conn_free(c);
}

TEST(probe_sees_a_session_the_server_closed_while_idle)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(1, pga_conn_probe(c));
    uint64_t trips = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, test_terminate(test_backend_pid(c)));
    int open = 1;
    for (int i = 0; i < 100 && (open = pga_conn_probe(c)) == 1; i++) {
        poll(NULL, 0, 10);   /* the FIN may trail the FATAL by a moment */
    }
    ASSERT_EQ_INT(0, open);
    ASSERT_EQ_INT(trips + 1, pga_conn_round_trips(c));   /* only backend_pid() */
    pga_conn_free(c);
}
