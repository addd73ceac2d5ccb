/* test_stream.c -- a statement's rows in batches (pga_stream_*): batch
 * sizes, the last batch's tag, the deferred BEGIN / SAVEPOINT riding with
 * the statement, errors mid-stream, early stop (drain), the connection
 * being the stream's meanwhile.  Python's tests/python/test_stream.py
 * uses the same scenario names. */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

/* Read a whole stream; counts rows and batches, checks the values are
 * 1, 2, 3 ... in the first column.  Returns the last step's code. */
static int read_all(pga_conn *c, int rc, pga_result *b, int max_rows, long *rows, int *batches,
                    char *tag, size_t tag_cap)
{
    *rows = 0;
    *batches = 0;
    while (rc == PGA_OK) {
        (*batches)++;
        if (pga_result_nrows(b) > max_rows) {
            pga_result_free(b);
            return -999;
        }
        for (int r = 0; r < pga_result_nrows(b); r++) {
            if (atol(pga_result_text(b, r, 0, NULL)) != *rows + 1) {
                pga_result_free(b);
                return -998;
            }
            (*rows)++;
        }
        if (!pga_stream_more(c)) {
            snprintf(tag, tag_cap, "%s", pga_result_status(b));
            pga_result_free(b);
            return PGA_OK;
        }
        if (pga_result_status(b)[0] != '\0' || pga_result_rowcount(b) != -1) {
            pga_result_free(b);
            return -997;
        }
        pga_result_free(b);
        rc = pga_stream_next(c, &b);
    }
    return rc;
}

TEST(stream_reads_rows_in_batches)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    long rows;
    int batches;
    char tag[64] = "";
    ASSERT(c != NULL);
    int rc = pga_stream(c, "SELECT i, 'x' || i AS name, NULL::int AS nothing "
                           "FROM generate_series(1, 2500) i", NULL, 1000, &b);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(1000, pga_result_nrows(b));
    ASSERT_EQ_INT(3, pga_result_ncols(b));
    ASSERT_EQ_STR("name", pga_result_colname(b, 1));
    ASSERT_EQ_INT(23, pga_result_coltype(b, 2));
    ASSERT_EQ_STR("x7", pga_result_text(b, 6, 1, NULL));
    ASSERT_EQ_INT(1, pga_result_isnull(b, 6, 2));
    ASSERT_EQ_INT(0, pga_result_isnull(b, 6, 1));
    ASSERT_EQ_INT(1, pga_stream_more(c));
    ASSERT_EQ_INT(PGA_OK, read_all(c, rc, b, 1000, &rows, &batches, tag, sizeof(tag)));
    ASSERT_EQ_INT(2500, rows);
    ASSERT(batches == 3 || batches == 4);
    ASSERT_EQ_STR("SELECT 2500", tag);
    ASSERT_EQ_INT(0, pga_stream_more(c));
    /* The connection is free again. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(stream_last_batch_has_the_tag_and_row_count)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    /* Fewer rows than a batch: the first batch is the last. */
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 5) i", NULL, 10, &b));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(5, pga_result_nrows(b));
    ASSERT_EQ_STR("SELECT 5", pga_result_status(b));
    ASSERT_EQ_INT(5, pga_result_rowcount(b));
    pga_result_free(b);
    /* No rows at all. */
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT 1 AS one WHERE false", NULL, 10, &b));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(0, pga_result_nrows(b));
    ASSERT_EQ_INT(1, pga_result_ncols(b));
    ASSERT_EQ_STR("one", pga_result_colname(b, 0));
    ASSERT_EQ_STR("SELECT 0", pga_result_status(b));
    pga_result_free(b);
    /* Exactly one batch's worth: a last, empty batch says the end. */
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 4) i", NULL, 4, &b));
    ASSERT_EQ_INT(4, pga_result_nrows(b));
    ASSERT_EQ_INT(1, pga_stream_more(c));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_stream_next(c, &b));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(0, pga_result_nrows(b));
    ASSERT_EQ_STR("SELECT 4", pga_result_status(b));
    pga_result_free(b);
    /* A command without rows. */
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "CREATE TEMP TABLE st_tag (id int)", NULL, 10, &b));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_STR("CREATE TABLE", pga_result_status(b));
    pga_result_free(b);
    pga_conn_free(c);
}

TEST(stream_with_parameters)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    pga_result *b = NULL;
    long rows;
    int batches;
    char tag[64];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 321));
    int rc = pga_stream(c, "SELECT i FROM generate_series(1, $1::int) i", p, 100, &b);
    ASSERT_EQ_INT(PGA_OK, read_all(c, rc, b, 100, &rows, &batches, tag, sizeof(tag)));
    ASSERT_EQ_INT(321, rows);
    ASSERT_EQ_INT(4, batches);
    ASSERT_EQ_INT(PGA_EPARAMCOUNT, pga_stream_start(c, "SELECT $1, $2", p, 10));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(stream_in_block_rides_with_begin)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS st_block; CREATE TABLE st_block (id int)"));
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    long rows;
    int batches;
    char tag[64];
    ASSERT(c != NULL);
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    /* BEGIN and SAVEPOINT go with the statement: one round trip. */
    int rc = pga_stream(c, "INSERT INTO st_block SELECT i FROM generate_series(1, 250) i "
                           "RETURNING id", NULL, 100, &b);
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(PGA_OK, read_all(c, rc, b, 100, &rows, &batches, tag, sizeof(tag)));
    ASSERT_EQ_INT('T', pga_conn_txn_status(c));
    ASSERT_EQ_INT(250, rows);
    ASSERT_EQ_STR("INSERT 0 250", tag);
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    /* RELEASE rides with COMMIT. */
    ASSERT_EQ_INT(2, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(250, test_scalar_int("SELECT count(*) FROM st_block"));
    pga_conn_free(c);
}

TEST(stream_error_mid_stream_breaks_the_block)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    long rows;
    int batches;
    char tag[64];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    /* The division fails at row 30000, long after the first rows left. */
    int rc = pga_stream(c, "SELECT CASE WHEN i < 30000 THEN i ELSE 1 / (i - i) END "
                           "FROM generate_series(1, 40000) i", NULL, 1000, &b);
    ASSERT_EQ_INT(PGA_OK, rc);
    rc = read_all(c, rc, b, 1000, &rows, &batches, tag, sizeof(tag));
    ASSERT_EQ_INT(PGA_ESERVER, rc);
    ASSERT_EQ_STR("22012", pga_conn_sqlstate(c));
    ASSERT(rows >= 1000 && rows < 30000);
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(NULL, pga_conn_take_result(c));
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(stream_error_outside_a_block_leaves_the_connection_usable)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_stream(c, "SELECT 1 / 0", NULL, 10, &b));
    ASSERT_EQ_INT(NULL, b);
    ASSERT_EQ_STR("22012", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_stream(c, "SELEC 1", NULL, 10, &b));
    ASSERT_EQ_STR("42601", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(stream_stopped_early_drains_and_keeps_the_block)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS st_drain; CREATE TABLE st_drain (id int);"
                                    "INSERT INTO st_drain SELECT generate_series(1, 5000)"));
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "UPDATE st_drain SET id = -id RETURNING id", NULL, 10, &b));
    ASSERT_EQ_INT(10, pga_result_nrows(b));
    pga_result_free(b);
    ASSERT_EQ_INT(1, pga_stream_more(c));
    ASSERT_EQ_INT(PGA_OK, pga_stream_close(c));
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(NULL, pga_conn_take_result(c));
    /* The statement completed: every row updated, the block healthy. */
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT count(*) FROM st_drain WHERE id < 0", NULL, &b));
    ASSERT_EQ_STR("5000", pga_result_text(b, 0, 0, NULL));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(5000, test_scalar_int("SELECT count(*) FROM st_drain WHERE id < 0"));
    /* Closing with no stream open does nothing. */
    ASSERT_EQ_INT(PGA_OK, pga_stream_close(c));
    pga_conn_free(c);
}

TEST(stream_cancelled_then_closed)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    /* 100 million rows, produced as they are sent (a function scan alone
     * would build its whole result first). */
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT a * 100000 + b FROM generate_series(0, 999) a, "
                                        "generate_series(1, 100000) b", NULL, 100, &b));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_conn_cancel(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_stream_close(c));
    ASSERT_EQ_STR("57014", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(stream_owns_the_connection_while_open)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 100) i", NULL, 10, &b));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_EBUSY, pga_query_start(c, "SELECT 1", NULL));
    ASSERT_EQ_INT(PGA_EBUSY, pga_stream_start(c, "SELECT 1", NULL, 10));
    ASSERT_EQ_INT(PGA_EBUSY, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_EBUSY, pga_batch_begin(c));
    ASSERT_EQ_INT(1, pga_conn_probe(c));
    /* Probing read nothing of the rows. */
    ASSERT_EQ_INT(PGA_OK, pga_stream_next(c, &b));
    ASSERT_EQ_STR("11", pga_result_text(b, 0, 0, NULL));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_stream_close(c));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_next_start(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "SELECT 1", NULL, 10));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

TEST(stream_refuses_scripts_controls_and_empty_batches)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "SELECT 1; SELECT 2", NULL, 10));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "BEGIN", NULL, 10));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "savepoint x", NULL, 10));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "SELECT 1", NULL, 0));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, NULL, NULL, 10));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_next_start(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_PIPELINE));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_stream_start(c, "SELECT 1", NULL, 10));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

TEST(stream_closed_or_freed_while_open)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 100000) i", NULL, 10, &b));
    pga_result_free(b);
    pga_conn_close(c);
    ASSERT_EQ_INT(0, pga_stream_more(c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 100000) i", NULL, 10, &b));
    /* A batch not taken and a stream still open go with the handle. */
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_stream_next_start(c));
    ASSERT(pga_conn_wait(c, -1) >= 0);
    pga_conn_free(c);
}

TEST(stream_values_in_another_datestyle)
{
    pga_conn *c = test_connect();
    pga_result *b = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SET DateStyle = 'SQL, DMY'", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT DATE '2024-03-01' + i FROM generate_series(0, 2) i",
                                     NULL, 2, &b));
    ASSERT_EQ_STR("2024-03-01", pga_result_text(b, 0, 0, NULL));
    ASSERT_EQ_STR("2024-03-02", pga_result_text(b, 1, 0, NULL));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_stream_next(c, &b));
    ASSERT_EQ_STR("2024-03-03", pga_result_text(b, 0, 0, NULL));
    pga_result_free(b);
    pga_conn_free(c);
}

/* Non-blocking use, as a driver does it: start, step on readiness, take. */
TEST(stream_driven_step_by_step)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    long rows = 0;
    int rc = pga_stream_start(c, "SELECT i FROM generate_series(1, 20000) i", NULL, 512);
    for (;;) {
        ASSERT_EQ_INT(PGA_OK, rc);
        while ((rc = pga_conn_step(c, PGA_READY_READ | PGA_READY_WRITE)) > 0) {
            ASSERT(pga_conn_wait(c, 0) >= 0 || 1);
        }
        ASSERT_EQ_INT(PGA_OK, rc);
        pga_result *b = pga_conn_take_result(c);
        ASSERT(b != NULL);
        ASSERT(pga_result_nrows(b) <= 512);
        rows += pga_result_nrows(b);
        pga_result_free(b);
        ASSERT_EQ_INT(NULL, pga_conn_take_result(c));
        if (!pga_stream_more(c)) {
            break;
        }
        rc = pga_stream_next_start(c);
    }
    ASSERT_EQ_INT(20000, rows);
    pga_conn_free(c);
}

/* Through a stock PgBouncer in transaction mode: the rows of a block's
 * statement in batches, the block committed.  Needs PGA_BOUNCER_URL
 * (scripts/suite-c.sh starts one). */
TEST(stream_through_pgbouncer)
{
    const char *bouncer = getenv("PGA_BOUNCER_URL");
    if (bouncer == NULL || bouncer[0] == '\0') {
        fprintf(stdout, "    not run: PGA_BOUNCER_URL is unset (scripts/suite-c.sh sets it)\n");
        return;
    }
    pga_conn *c = NULL;
    pga_result *b = NULL;
    long rows;
    int batches;
    char tag[64];
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, bouncer));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    int rc = pga_stream(c, "SELECT i FROM generate_series(1, 5000) i", NULL, 700, &b);
    ASSERT_EQ_INT(PGA_OK, read_all(c, rc, b, 700, &rows, &batches, tag, sizeof(tag)));
    ASSERT_EQ_INT(5000, rows);
    ASSERT_EQ_INT(PGA_OK, pga_stream(c, "SELECT i FROM generate_series(1, 5000) i", NULL, 700, &b));
    pga_result_free(b);
    ASSERT_EQ_INT(PGA_OK, pga_stream_close(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

/* The same statement streamed again and again on one connection: once a
 * text is used often enough to be prepared on the session, its Parse
 * answers ahead of the rows, and single-row mode must still apply to
 * them (every batch within max_rows). */
TEST(stream_repeated_on_one_connection)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    for (int k = 0; k < 8; k++) {
        pga_result *b = NULL;
        long rows;
        int batches;
        char tag[64];
        pga_params_clear(p);
        ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 1000 + k));
        int rc = pga_stream(c, "SELECT i FROM generate_series(1, $1::int) i", p, 300, &b);
        ASSERT_EQ_INT(PGA_OK, read_all(c, rc, b, 300, &rows, &batches, tag, sizeof(tag)));
        ASSERT_EQ_INT(1000 + k, rows);
        ASSERT_EQ_INT(4, batches);
    }
    pga_params_free(p);
    pga_conn_free(c);
}
