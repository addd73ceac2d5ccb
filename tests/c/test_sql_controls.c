/* test_sql_controls.c -- the SQL control mode against the real server.
 * Every scenario runs twice on a fresh table: once through the engine with
 * pga_conn_set_sql_controls() on, once sent statement by statement on a
 * plain libpq connection.  Each statement must succeed or fail the same
 * way (same SQLSTATE; the same command tag and first value), the session
 * must end in the same transaction status and the table must hold the same
 * rows.  The one difference by design: a COMMIT or PREPARE the server
 * answers with ROLLBACK is PGA_EROLLEDBACK.  The scenarios are every
 * string of research/orm-integration.md §6.1 (the ORMs' sequences of §2)
 * and every case of §6.4. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

#define MAX_STEPS 24

/* What one statement gave. */
typedef struct answer {
    int kind;             /* 1 success, 2 answered ROLLBACK to COMMIT/PREPARE, 0 error */
    char sqlstate[6];
    char tag[64];
    char value[64];       /* first column of the first row, if any */
} answer;

typedef struct run {
    answer a[MAX_STEPS];
    char status;          /* transaction status after a last SELECT 1 */
    char rows[256];       /* the table's ids, in order */
} run;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static PGconn *raw_connect(void)
{
    PGconn *pg = PQconnectdb(getenv("DATABASE_URL") ? getenv("DATABASE_URL") : "");
    if (PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return NULL;
    }
    /* The server's WARNINGs (BEGIN twice, COMMIT with no transaction) are
     * expected here; keep them off the test output. */
    PQclear(PQexec(pg, "SET client_min_messages = error"));
    return pg;
}

static int reset_table(void)
{
    PGconn *pg = raw_connect();
    if (pg == NULL) {
        return -1;
    }
    /* Prepared transactions of an earlier run hold locks on the table. */
    PGresult *r = PQexec(pg, "SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'sc_%'");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "ROLLBACK PREPARED '%s'", PQgetvalue(r, i, 0));
        PQclear(PQexec(pg, sql));
    }
    PQclear(r);
    r = PQexec(pg, "DROP TABLE IF EXISTS sc_t; CREATE TABLE sc_t (id int PRIMARY KEY)");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(pg);
    return ok ? 0 : -1;
}

static void read_rows(char *out, size_t cap)
{
    PGconn *pg = raw_connect();
    PGresult *r = pg ? PQexec(pg, "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') "
                                  "|| (SELECT CASE WHEN count(*) > 0 THEN ' prepared:' || count(*) "
                                  "ELSE '' END FROM pg_prepared_xacts WHERE gid LIKE 'sc_%') "
                                  "FROM sc_t")
                     : NULL;
    copy(out, cap, PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "(unreadable)");
    PQclear(r);
    PQfinish(pg);
}

static int ends_transaction(const char *sql)
{
    pga_control c;
    int kind = pga_sql_classify(sql, &c);
    return kind == PGA_CTL_COMMIT || kind == PGA_CTL_PREPARE;
}

static void by_server(const char *const *sql, int n, run *out)
{
    memset(out, 0, sizeof(*out));
    PGconn *pg = raw_connect();
    for (int i = 0; pg != NULL && i < n; i++) {
        answer *a = &out->a[i];
        PGresult *r = PQexec(pg, sql[i]);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            copy(a->tag, sizeof(a->tag), PQcmdStatus(r));
            a->kind = ends_transaction(sql[i]) && strcmp(a->tag, "ROLLBACK") == 0 ? 2 : 1;
            if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) {
                copy(a->value, sizeof(a->value), PQgetvalue(r, 0, 0));
            }
        }
        else {
            copy(a->sqlstate, sizeof(a->sqlstate), PQresultErrorField(r, PG_DIAG_SQLSTATE));
        }
        PQclear(r);
    }
    if (pg != NULL) {
        PQclear(PQexec(pg, "SELECT 1"));
        PGTransactionStatusType t = PQtransactionStatus(pg);
        out->status = t == PQTRANS_IDLE ? 'I' : t == PQTRANS_INTRANS ? 'T' : t == PQTRANS_INERROR ? 'E' : 'U';
    }
    PQfinish(pg);
    read_rows(out->rows, sizeof(out->rows));
}

/* manual: the DB-API's way, autocommit off (the BEGIN is implicit). */
static pga_conn *engine_connect(int manual)
{
    pga_conn *c = test_connect();
    if (c != NULL && (pga_conn_set_sql_controls(c, 1) != PGA_OK
                      || pga_query(c, "SET client_min_messages = error", NULL, NULL) != PGA_OK
                      || (manual && pga_conn_set_autocommit(c, 0) != PGA_OK))) {
        pga_conn_free(c);
        return NULL;
    }
    return c;
}

static void by_engine(const char *const *sql, int n, run *out)
{
    memset(out, 0, sizeof(*out));
    pga_conn *c = engine_connect(0);
    for (int i = 0; c != NULL && i < n; i++) {
        answer *a = &out->a[i];
        pga_result *res = NULL, *next;
        int rc = pga_query(c, sql[i], NULL, &res);
        /* PQexec keeps a script's last result; compare with that one. */
        while (rc == PGA_OK && (next = pga_conn_take_result(c)) != NULL) {
            pga_result_free(res);
            res = next;
        }
        if (rc == PGA_OK) {
            a->kind = 1;
            copy(a->tag, sizeof(a->tag), pga_result_status(res));
            if (pga_result_nrows(res) > 0 && pga_result_ncols(res) > 0) {
                copy(a->value, sizeof(a->value), pga_result_text(res, 0, 0, NULL));
            }
        }
        else if (rc == PGA_EROLLEDBACK) {
            a->kind = 2;
            copy(a->tag, sizeof(a->tag), "ROLLBACK");
        }
        else if (rc == PGA_ESERVER) {
            copy(a->sqlstate, sizeof(a->sqlstate), pga_conn_sqlstate(c));
        }
        else {
            snprintf(a->sqlstate, sizeof(a->sqlstate), "E%02d", -rc % 100);
        }
        pga_result_free(res);
    }
    if (c != NULL) {
        pga_query(c, "SELECT 1", NULL, NULL);
        out->status = pga_conn_txn_status(c);
    }
    pga_conn_free(c);
    read_rows(out->rows, sizeof(out->rows));
}

/* Run both ways and compare; returns 0 and fails the test on a mismatch. */
static int same_both_ways(const char *name, const char *const *sql, int n, const char *rows)
{
    run server, engine;
    if (n > MAX_STEPS || reset_table() != 0) {
        test_fail(__FILE__, __LINE__, "%s: setup", name);
        return 0;
    }
    by_server(sql, n, &server);
    if (reset_table() != 0) {
        test_fail(__FILE__, __LINE__, "%s: setup", name);
        return 0;
    }
    by_engine(sql, n, &engine);
    for (int i = 0; i < n; i++) {
        const answer *s = &server.a[i], *e = &engine.a[i];
        if (s->kind != e->kind || strcmp(s->sqlstate, e->sqlstate) != 0
            || strcmp(s->tag, e->tag) != 0 || strcmp(s->value, e->value) != 0) {
            test_fail(__FILE__, __LINE__,
                      "%s, statement %d [%s]: server %d %s \"%s\" \"%s\", engine %d %s \"%s\" \"%s\"",
                      name, i + 1, sql[i], s->kind, s->sqlstate, s->tag, s->value, e->kind,
                      e->sqlstate, e->tag, e->value);
            return 0;
        }
    }
    if (server.status != engine.status || strcmp(server.rows, engine.rows) != 0) {
        test_fail(__FILE__, __LINE__, "%s: server ends %c with [%s], engine %c with [%s]", name,
                  server.status, server.rows, engine.status, engine.rows);
        return 0;
    }
    if (rows != NULL && strcmp(rows, engine.rows) != 0) {
        test_fail(__FILE__, __LINE__, "%s: both give [%s], expected [%s]", name, engine.rows, rows);
        return 0;
    }
    return 1;
}

#define SAME(name, rows, ...)                                               \
    do {                                                                    \
        static const char *const sql_[] = {__VA_ARGS__};                    \
        if (!same_both_ways(name, sql_, (int)(sizeof(sql_) / sizeof(sql_[0])), rows)) { \
            return;                                                         \
        }                                                                   \
    } while (0)

/* ---- §2 / §6.1: each ORM's sequence, as it sends it ---------------------
 * outer transaction; INSERT; a nested one that INSERTs and fails (caught);
 * a nested one that INSERTs and succeeds; commit; then a SERIALIZABLE one. */

TEST(sql_controls_sequelize_sequence)
{
    SAME("sequelize", "1,3", "START TRANSACTION;", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";",
         "SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-2\";", "INSERT INTO sc_t VALUES (3)",
         "COMMIT;", "START TRANSACTION;", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
         "SELECT current_setting('transaction_isolation')", "COMMIT;");
}

TEST(sql_controls_knex_sequence)
{
    SAME("knex", "1,3", "BEGIN;", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT trx3;",
         "INSERT INTO sc_t VALUES (1)", "ROLLBACK TO SAVEPOINT trx3", "SAVEPOINT trx4;",
         "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT trx4;", "COMMIT;",
         "BEGIN TRANSACTION ISOLATION LEVEL serializable READ ONLY;",
         "SELECT current_setting('transaction_isolation')", "SELECT current_setting('transaction_read_only')",
         "ROLLBACK");
}

TEST(sql_controls_kysely_sequence)
{
    SAME("kysely", "1,3", "begin", "INSERT INTO sc_t VALUES (1)", "savepoint \"sp1\"",
         "INSERT INTO sc_t VALUES (1)", "rollback to \"sp1\"", "savepoint \"sp2\"",
         "INSERT INTO sc_t VALUES (3)", "release \"sp2\"", "commit",
         "start transaction isolation level serializable",
         "SELECT current_setting('transaction_isolation')", "commit");
}

TEST(sql_controls_drizzle_sequence)
{
    /* drizzle reuses the name sp1 for siblings */
    SAME("drizzle", "1,3", "begin", "INSERT INTO sc_t VALUES (1)", "savepoint sp1",
         "INSERT INTO sc_t VALUES (1)", "rollback to savepoint sp1", "savepoint sp1",
         "INSERT INTO sc_t VALUES (3)", "release savepoint sp1", "commit",
         "begin isolation level serializable read only",
         "SELECT current_setting('transaction_isolation')", "rollback");
}

TEST(sql_controls_typeorm_sequence)
{
    SAME("typeorm", "1,3", "START TRANSACTION", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT typeorm_1", "INSERT INTO sc_t VALUES (1)", "ROLLBACK TO SAVEPOINT typeorm_1",
         "SAVEPOINT typeorm_1", "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT typeorm_1",
         "COMMIT", "START TRANSACTION", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
         "SELECT current_setting('transaction_isolation')", "COMMIT");
}

TEST(sql_controls_prisma_sequence)
{
    SAME("prisma", "1,3", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT prisma_sp_0", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO SAVEPOINT prisma_sp_0", "RELEASE SAVEPOINT prisma_sp_0",
         "SAVEPOINT prisma_sp_1", "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT prisma_sp_1",
         "COMMIT", "BEGIN", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
         "SELECT current_setting('transaction_isolation')", "COMMIT");
}

TEST(sql_controls_django_psycopg_sequence)
{
    SAME("django", "1,3", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT \"s139781145897856_x1\"", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO SAVEPOINT \"s139781145897856_x1\"",
         "RELEASE SAVEPOINT \"s139781145897856_x1\"", "SAVEPOINT \"s139781145897856_x2\"",
         "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT \"s139781145897856_x2\"", "COMMIT",
         "BEGIN ISOLATION LEVEL SERIALIZABLE", "SELECT current_setting('transaction_isolation')",
         "COMMIT");
}

TEST(sql_controls_sqlalchemy_psycopg_sequence)
{
    SAME("sqlalchemy", "1,3", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT sa_savepoint_1", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO SAVEPOINT sa_savepoint_1", "SAVEPOINT sa_savepoint_2",
         "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT sa_savepoint_2", "COMMIT",
         "BEGIN ISOLATION LEVEL SERIALIZABLE", "SELECT current_setting('transaction_isolation')",
         "COMMIT");
}

TEST(sql_controls_pg8000_asyncpg_psycopg_sequences)
{
    SAME("pg8000", "1,3", "begin transaction", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT sa_savepoint_1", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO SAVEPOINT sa_savepoint_1", "SAVEPOINT sa_savepoint_2",
         "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT sa_savepoint_2", "commit");
    SAME("asyncpg", "1,3", "BEGIN;", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT __asyncpg_savepoint_9f1c2e__;", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO __asyncpg_savepoint_9f1c2e__;", "SAVEPOINT __asyncpg_savepoint_0a2b3c__;",
         "INSERT INTO sc_t VALUES (3)", "RELEASE SAVEPOINT __asyncpg_savepoint_0a2b3c__;",
         "COMMIT;", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;",
         "SELECT current_setting('transaction_deferrable')", "ROLLBACK;");
    SAME("psycopg", "1,3", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT \"_pg3_1\"", "INSERT INTO sc_t VALUES (1)", "ROLLBACK TO \"_pg3_1\"",
         "RELEASE \"_pg3_1\"", "SAVEPOINT \"_pg3_2\"", "INSERT INTO sc_t VALUES (3)",
         "RELEASE \"_pg3_2\"", "COMMIT");
}

/* ---- §6.4: PostgreSQL's behaviour in every edge case ----------------- */

TEST(sql_controls_set_transaction_outside_a_block_does_nothing)
{
    SAME("set outside", "", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
         "BEGIN", "SELECT current_setting('transaction_isolation')", "COMMIT");
}

TEST(sql_controls_set_transaction_folds_into_the_owed_begin)
{
    SAME("fold", "1", "START TRANSACTION", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
         "SET TRANSACTION READ ONLY", "SET TRANSACTION READ WRITE, DEFERRABLE",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')",
         "INSERT INTO sc_t VALUES (1)", "COMMIT");
    SAME("fold over begin modes", "", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
         "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
         "SELECT current_setting('transaction_isolation')", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK");
}

TEST(sql_controls_set_transaction_after_a_query_is_the_servers)
{
    SAME("after query", "", "BEGIN", "SELECT 1", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
         "SELECT 2", "ROLLBACK");
    SAME("after savepoint", "", "BEGIN", "SAVEPOINT a",
         "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "ROLLBACK TO a", "SELECT 2", "ROLLBACK");
    SAME("read only after query", "", "BEGIN", "SELECT 1", "SET TRANSACTION READ ONLY",
         "INSERT INTO sc_t VALUES (1)", "ROLLBACK");
}

TEST(sql_controls_begin_inside_a_transaction_does_nothing)
{
    SAME("begin twice", "1", "BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION",
         "INSERT INTO sc_t VALUES (1)", "BEGIN", "SELECT current_setting('transaction_isolation')",
         "COMMIT");
    SAME("begin modes after a query", "", "BEGIN", "SELECT 1", "BEGIN READ ONLY",
         "INSERT INTO sc_t VALUES (1)", "BEGIN ISOLATION LEVEL SERIALIZABLE", "ROLLBACK");
    SAME("begin modes in a savepoint", "", "BEGIN", "SAVEPOINT a", "BEGIN READ ONLY",
         "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "ROLLBACK");
}

TEST(sql_controls_savepoint_outside_a_transaction_is_25P01)
{
    SAME("outside", "", "SAVEPOINT a", "RELEASE SAVEPOINT a", "ROLLBACK TO SAVEPOINT a",
         "RELEASE a", "SELECT 1");
}

TEST(sql_controls_invalid_mode_text_is_the_servers_syntax_error)
{
    SAME("bad mode", "", "BEGIN ISOLATION LEVEL FOO", "SELECT 1", "BEGIN READ ONLY READ",
         "START TRANSACTION ISOLATION LEVEL", "SAVEPOINT select", "COMMIT AND NO CHAIN");
}

TEST(sql_controls_unknown_savepoint_is_3B001)
{
    SAME("unknown release", "", "BEGIN", "INSERT INTO sc_t VALUES (1)", "RELEASE nope",
         "INSERT INTO sc_t VALUES (2)", "ROLLBACK TO nope", "COMMIT");
    SAME("unknown rollback to", "2", "BEGIN", "SAVEPOINT a", "INSERT INTO sc_t VALUES (1)",
         "ROLLBACK TO b", "ROLLBACK TO a", "INSERT INTO sc_t VALUES (2)", "COMMIT");
    SAME("unknown first", "", "BEGIN", "RELEASE x", "COMMIT");
}

TEST(sql_controls_commit_or_rollback_without_a_transaction)
{
    SAME("no transaction", "1", "COMMIT", "ROLLBACK", "END", "ABORT",
         "INSERT INTO sc_t VALUES (1)", "COMMIT WORK", "ROLLBACK TRANSACTION");
}

TEST(sql_controls_commit_of_an_aborted_transaction_is_rolled_back)
{
    SAME("aborted commit", "", "BEGIN", "INSERT INTO sc_t VALUES (1)", "SELECT 1/0", "COMMIT",
         "SELECT 1");
    SAME("aborted end", "", "BEGIN", "INSERT INTO sc_t VALUES (1)", "INSERT INTO sc_t VALUES (1)",
         "END");
}

TEST(sql_controls_statements_in_an_aborted_transaction_are_25P02)
{
    SAME("aborted", "1,5", "BEGIN", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT a",
         "INSERT INTO sc_t VALUES (2)", "SELECT 1/0", "RELEASE a", "SAVEPOINT b", "BEGIN",
         "SET TRANSACTION READ ONLY", "SELECT 1", "ROLLBACK TO a", "RELEASE a",
         "INSERT INTO sc_t VALUES (5)", "COMMIT");
}

TEST(sql_controls_scripts_pass_through_and_are_adopted)
{
    SAME("script begin", "", "SET search_path TO public; START TRANSACTION;",
         "INSERT INTO sc_t VALUES (1)", "ROLLBACK");
    SAME("script commit", "1,2,3", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "INSERT INTO sc_t VALUES (2); COMMIT", "SAVEPOINT a", "INSERT INTO sc_t VALUES (3)");
}

/* ---- PostgreSQL's savepoint rules --------------------------------------- */

TEST(sql_controls_savepoint_survives_rollback_to)
{
    SAME("keep", "1,4", "BEGIN", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT a",
         "INSERT INTO sc_t VALUES (2)", "ROLLBACK TO a", "INSERT INTO sc_t VALUES (3)",
         "ROLLBACK TO a", "ROLLBACK TO a", "INSERT INTO sc_t VALUES (4)", "RELEASE a", "COMMIT");
    SAME("gone after release", "", "BEGIN", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT a",
         "RELEASE a", "ROLLBACK TO a", "COMMIT");
}

TEST(sql_controls_release_of_an_outer_savepoint_ends_the_inner)
{
    SAME("cascade", "", "BEGIN", "SAVEPOINT a", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT b",
         "INSERT INTO sc_t VALUES (2)", "RELEASE a", "ROLLBACK TO b", "ROLLBACK", "BEGIN",
         "SAVEPOINT a", "SAVEPOINT b", "RELEASE a", "RELEASE b", "COMMIT");
    SAME("cascade unsent", "", "BEGIN", "SAVEPOINT a", "SAVEPOINT b", "SAVEPOINT c", "RELEASE b",
         "RELEASE c", "RELEASE a", "SELECT 1", "COMMIT");
}

TEST(sql_controls_repeated_name_shadows_the_older)
{
    SAME("shadow", "5", "BEGIN", "SAVEPOINT a", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT b",
         "INSERT INTO sc_t VALUES (2)", "SAVEPOINT a", "INSERT INTO sc_t VALUES (3)",
         "RELEASE a", "ROLLBACK TO a", "RELEASE b", "ROLLBACK TO a", "INSERT INTO sc_t VALUES (5)",
         "COMMIT");
    SAME("shadow rollback", "1,3", "BEGIN", "SAVEPOINT a", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT a", "INSERT INTO sc_t VALUES (2)", "ROLLBACK TO a", "RELEASE a",
         "INSERT INTO sc_t VALUES (3)", "RELEASE a", "COMMIT");
}

TEST(sql_controls_names_quoted_folded_and_odd)
{
    SAME("names", "1,2", "BEGIN", "SAVEPOINT \"a\"\"b; -- x\"", "INSERT INTO sc_t VALUES (1)",
         "SAVEPOINT Foo", "INSERT INTO sc_t VALUES (2)", "RELEASE \"foo\"",
         "RELEASE SAVEPOINT \"a\"\"b; -- x\"", "SAVEPOINT savepoint", "RELEASE SAVEPOINT",
         "SAVEPOINT \"select\"", "ROLLBACK TO SAVEPOINT \"select\"", "SAVEPOINT \"Foo\"",
         "RELEASE Foo", "ROLLBACK TO \"Foo\"", "COMMIT");
}

TEST(sql_controls_empty_transactions_and_savepoints)
{
    SAME("empty", "", "BEGIN", "COMMIT", "BEGIN", "SAVEPOINT a", "RELEASE a", "COMMIT",
         "START TRANSACTION", "SAVEPOINT x", "ROLLBACK TO x", "ROLLBACK", "BEGIN", "SAVEPOINT y",
         "COMMIT", "BEGIN WORK", "END WORK", "BEGIN", "ABORT");
}

TEST(sql_controls_read_only_transaction_refuses_writes)
{
    SAME("read only", "", "START TRANSACTION READ ONLY", "INSERT INTO sc_t VALUES (1)", "COMMIT",
         "BEGIN", "SET TRANSACTION READ ONLY", "INSERT INTO sc_t VALUES (2)", "ROLLBACK");
}

TEST(sql_controls_prepare_transaction_as_sql)
{
    SAME("prepare", "1,3", "BEGIN", "INSERT INTO sc_t VALUES (1)", "SAVEPOINT a",
         "PREPARE TRANSACTION 'sc_1'", "COMMIT PREPARED 'sc_1'", "BEGIN",
         "INSERT INTO sc_t VALUES (2)", "PREPARE TRANSACTION 'sc_2'", "ROLLBACK PREPARED 'sc_2'",
         "BEGIN", "INSERT INTO sc_t VALUES (3)", "COMMIT");
    SAME("prepare empty", " prepared:1", "BEGIN", "PREPARE TRANSACTION 'sc_e'");
    SAME("prepare aborted", "", "BEGIN", "SELECT 1/0", "PREPARE TRANSACTION 'sc_a'",
         "SELECT 1");
    SAME("prepare outside", "", "PREPARE TRANSACTION 'sc_o'", "SELECT 1");
    SAME("gid in use", "1 prepared:1", "BEGIN", "INSERT INTO sc_t VALUES (1)",
         "PREPARE TRANSACTION 'sc_u'", "BEGIN", "INSERT INTO sc_t VALUES (2)",
         "PREPARE TRANSACTION 'sc_u'", "COMMIT PREPARED 'sc_u'", "COMMIT PREPARED 'sc_u'",
         "BEGIN", "COMMIT PREPARED 'sc_x'", "ROLLBACK", "BEGIN", "PREPARE TRANSACTION 'sc_p'",
         "ROLLBACK PREPARED 'sc_p'", "BEGIN", "INSERT INTO sc_t VALUES (2)",
         "PREPARE TRANSACTION 'sc_p'");
}

/* ---- §6.1 forms the ORMs of §2 do not all use, against the server ------ */

/* ^Every mode list the classifier takes, each level and each mode. */
TEST(sql_controls_every_mode_list_is_the_servers)
{
    SAME("levels", "", "BEGIN ISOLATION LEVEL READ UNCOMMITTED",
         "SELECT current_setting('transaction_isolation')", "COMMIT",
         "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE, NOT DEFERRABLE",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')"
         " || current_setting('transaction_deferrable')", "COMMIT",
         "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY DEFERRABLE",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')"
         " || current_setting('transaction_deferrable')", "COMMIT",
         "begin work read only, isolation level serializable, deferrable",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')"
         " || current_setting('transaction_deferrable')", "END WORK");
    SAME("set transaction forms", "1", "BEGIN", "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
         "SET TRANSACTION READ WRITE, NOT DEFERRABLE",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')",
         "INSERT INTO sc_t VALUES (1)", "COMMIT TRANSACTION", "START TRANSACTION READ ONLY",
         "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, DEFERRABLE",
         "SET TRANSACTION READ WRITE",
         "SELECT current_setting('transaction_isolation') || current_setting('transaction_read_only')"
         " || current_setting('transaction_deferrable')", "ROLLBACK WORK");
}

/* ^Blanks, comments and one ';' around and between the words; what the
 * classifier refuses (two ';', a script, CHAIN) goes to the server as it is
 * and the engine follows what it did. */
TEST(sql_controls_blanks_comments_and_near_misses_are_the_servers)
{
    SAME("blanks and comments", "1,3", "  /* orm */ BEGIN ;  ", "INSERT INTO sc_t VALUES (1)",
         "\n\tSAVEPOINT\n a -- trailing\n", "INSERT INTO sc_t VALUES (2)",
         "-- lead\nROLLBACK  TO /* x */ SAVEPOINT a;", "SAVEPOINT\"b\";",
         "INSERT INTO sc_t VALUES (3)", "RELEASE /**/ b ;", "/* a /* nested */ one */ COMMIT ; -- done");
    SAME("two semicolons", "1", "BEGIN;;", "INSERT INTO sc_t VALUES (1)", "COMMIT;;");
    SAME("chain", "1,2", "BEGIN", "INSERT INTO sc_t VALUES (1)", "COMMIT AND CHAIN",
         "INSERT INTO sc_t VALUES (2)", "SAVEPOINT a", "ROLLBACK TO a", "COMMIT AND NO CHAIN",
         "BEGIN", "ROLLBACK AND CHAIN", "SELECT 1", "ROLLBACK");
    SAME("chain keeps the modes", "", "BEGIN ISOLATION LEVEL SERIALIZABLE", "SELECT 1",
         "COMMIT AND CHAIN", "SELECT current_setting('transaction_isolation')", "ROLLBACK");
}

/* The other statements §2's ORMs send around their transactions: pg8000's
 * session characteristics, Sequelize's deferrable option. */
TEST(sql_controls_session_characteristics_and_constraints)
{
    SAME("pg8000 isolation", "1",
         "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", "COMMIT",
         "begin transaction", "SELECT current_setting('transaction_isolation')",
         "INSERT INTO sc_t VALUES (1)", "commit",
         "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED");
    SAME("sequelize deferrable", "1", "START TRANSACTION;",
         "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;", "SET CONSTRAINTS ALL DEFERRED",
         "SELECT current_setting('transaction_isolation')", "INSERT INTO sc_t VALUES (1)",
         "COMMIT;");
}

/* ---- §6.4's two documented differences, shown against the server ------- */

/* How far now() is behind the statement that reads it, in ms, after a
 * pause between BEGIN and that statement: by the engine (BEGIN rides with
 * the statement) or statement by statement. */
static long now_lag_ms(int engine)
{
    static const char *const lag =
        "SELECT (extract(epoch FROM statement_timestamp() - now()) * 1000)::int";
    const struct timespec pause = {0, 400 * 1000 * 1000};
    long ms = -1;
    if (engine) {
        pga_conn *c = engine_connect(0);
        pga_result *res = NULL;
        if (c != NULL && pga_query(c, "BEGIN", NULL, NULL) == PGA_OK) {
            nanosleep(&pause, NULL);
            if (pga_query(c, lag, NULL, &res) == PGA_OK) {
                ms = atol(pga_result_text(res, 0, 0, NULL));
            }
        }
        pga_result_free(res);
        pga_conn_free(c);
        return ms;
    }
    PGconn *pg = raw_connect();
    if (pg != NULL) {
        PQclear(PQexec(pg, "BEGIN"));
        nanosleep(&pause, NULL);
        PGresult *r = PQexec(pg, lag);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            ms = atol(PQgetvalue(r, 0, 0));
        }
        PQclear(r);
    }
    PQfinish(pg);
    return ms;
}

/* ^now() is the time of the first statement, not of the BEGIN text: the
 * pause between them is not in it.  Sent one by one, it is. */
TEST(sql_controls_now_is_the_first_statements_time)
{
    long server = now_lag_ms(0), engine = now_lag_ms(1);
    ASSERT(server >= 400);
    ASSERT(engine >= 0 && engine < 200);
}

/* Can another session lock row 1 at once? 1 yes, 0 no (55P03), -1 error. */
static int row_is_free(PGconn *other)
{
    PGresult *r = PQexec(other, "SELECT id FROM sc_t WHERE id = 1 FOR UPDATE NOWAIT");
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int free_ = PQresultStatus(r) == PGRES_TUPLES_OK ? 1
                : state != NULL && strcmp(state, "55P03") == 0 ? 0 : -1;
    PQclear(r);
    return free_;
}

/* ^A lock taken inside a savepoint is released when the deferred ROLLBACK
 * TO reaches the server, with the next statement; sent one by one, at once. */
TEST(sql_controls_rollback_to_releases_locks_with_the_next_statement)
{
    static const char *const lock[] = {"BEGIN", "SELECT 1", "SAVEPOINT a",
                                       "SELECT id FROM sc_t WHERE id = 1 FOR UPDATE",
                                       "ROLLBACK TO a"};
    ASSERT_EQ_INT(0, reset_table());
    ASSERT_EQ_INT(0, test_exec("INSERT INTO sc_t VALUES (1)"));
    PGconn *other = raw_connect(), *pg = raw_connect();
    ASSERT(other != NULL && pg != NULL);
    for (size_t i = 0; i < sizeof(lock) / sizeof(lock[0]); i++) {
        PQclear(PQexec(pg, lock[i]));
    }
    ASSERT_EQ_INT(1, row_is_free(other));
    PQfinish(pg);

    pga_conn *c = engine_connect(0);
    ASSERT(c != NULL);
    for (size_t i = 0; i < sizeof(lock) / sizeof(lock[0]); i++) {
        ASSERT_EQ_INT(PGA_OK, pga_query(c, lock[i], NULL, NULL));
    }
    ASSERT_EQ_INT(0, row_is_free(other));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 2", NULL, NULL));
    ASSERT_EQ_INT(1, row_is_free(other));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    pga_conn_free(c);
    PQfinish(other);
}

/* ^A COMMIT, ROLLBACK or PREPARE TRANSACTION written as SQL inside one of
 * the engine's own blocks is sent as it is and reported PGA_ETXNENDED, in
 * the SQL control mode as without it (§6.4's last row). */
TEST(sql_controls_raw_end_inside_an_atomic_block_is_etxnended)
{
    static const char *const ends[] = {"COMMIT", "ROLLBACK", "END", "ABORT"};
    ASSERT_EQ_INT(0, reset_table());
    pga_conn *c = engine_connect(0);
    ASSERT(c != NULL);
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        char sql[64];
        pga_outcome o;
        snprintf(sql, sizeof(sql), "INSERT INTO sc_t VALUES (%d)", (int)i + 1);
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, sql, NULL, NULL));
        ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, ends[i], NULL, NULL));
        ASSERT_EQ_INT('I', pga_conn_txn_status(c));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
        pga_atomic_outcome(c, &o);
        ASSERT_EQ_INT(PGA_OUTCOME_ROLLED_BACK, o.state);
        ASSERT_EQ_INT(1, o.unasked);
    }
    pga_conn_free(c);
    /* what the server did with each: COMMIT and END committed */
    ASSERT_EQ_INT(4, test_scalar_int("SELECT coalesce(sum(id), 0) FROM sc_t"));
}

/* ---- the mode's own promises ------------------------------------------- */

/* ^nothing is sent; ... ^its result holds the server's command tag. */
TEST(sql_controls_answered_without_a_round_trip)
{
    pga_conn *c = engine_connect(0);
    ASSERT(c != NULL);
    ASSERT_EQ_INT(1, pga_conn_get_sql_controls(c));
    uint64_t before = pga_conn_round_trips(c);
    const char *const quiet[] = {"BEGIN", "SET TRANSACTION READ ONLY", "SAVEPOINT a",
                                 "SAVEPOINT b", "RELEASE b", "ROLLBACK TO a", "RELEASE a",
                                 "COMMIT", "COMMIT", "START TRANSACTION", "ROLLBACK"};
    const char *const tags[] = {"BEGIN", "SET", "SAVEPOINT", "SAVEPOINT", "RELEASE", "ROLLBACK",
                                "RELEASE", "COMMIT", "COMMIT", "START TRANSACTION", "ROLLBACK"};
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        pga_result *res = NULL;
        ASSERT_EQ_INT(PGA_OK, pga_query_start(c, quiet[i], NULL));
        ASSERT_EQ_INT(PGA_OK, pga_conn_step(c, 0));
        res = pga_conn_take_result(c);
        ASSERT(res != NULL);
        ASSERT_EQ_STR(tags[i], pga_result_status(res));
        ASSERT_EQ_INT(0, pga_result_nrows(res));
        ASSERT_EQ_INT(-1, pga_result_rowcount(res));
        pga_result_free(res);
    }
    ASSERT_EQ_INT(before, pga_conn_round_trips(c));
    pga_conn_free(c);
}

/* Off by default: the engine's own API keeps its rules. */
TEST(sql_controls_off_by_default)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(0, pga_conn_get_sql_controls(c));
    uint64_t before = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(before + 1, pga_conn_round_trips(c));
    ASSERT_EQ_INT('T', pga_conn_txn_status(c));
    pga_conn_free(c);
}

/* ^25P01 outside a transaction ... ^25P02 in a failed one, with the
 * server's words. */
TEST(sql_controls_local_errors_are_the_servers)
{
    pga_conn *c = engine_connect(0);
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SAVEPOINT a", NULL, NULL));
    ASSERT_EQ_STR("25P01", pga_conn_sqlstate(c));
    ASSERT_EQ_STR("SAVEPOINT can only be used in transaction blocks", pga_conn_errmsg(c));
    ASSERT_EQ_STR("ERROR", pga_conn_diag(c, PGA_DIAG_SEVERITY));
    ASSERT_EQ_INT(PGA_KIND_INTERNAL, pga_conn_error_kind(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    uint64_t before = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SAVEPOINT a", NULL, NULL));
    ASSERT_EQ_STR("25P02", pga_conn_sqlstate(c));
    ASSERT_EQ_STR("current transaction is aborted, commands ignored until end of transaction block",
                  pga_conn_diag(c, PGA_DIAG_MESSAGE_PRIMARY));
    ASSERT_EQ_INT(before, pga_conn_round_trips(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    pga_conn_free(c);
}

/* The DB-API's way: autocommit off, BEGIN implicit, savepoints as SQL,
 * commit() in C; the same data as psycopg's one-by-one statements. */
TEST(sql_controls_in_manual_mode)
{
    pga_conn *c = engine_connect(1);
    ASSERT(c != NULL);
    ASSERT_EQ_INT(0, reset_table());
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SAVEPOINT sa_savepoint_1", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO sc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK TO SAVEPOINT sa_savepoint_1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));   /* psycopg: already in one */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(0, pga_conn_in_manual_txn(c));
    /* COMMIT as SQL ends the manual transaction too */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (3)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    ASSERT_EQ_INT(0, pga_conn_in_manual_txn(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (4)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    pga_conn_free(c);
    ASSERT_EQ_INT(3, test_scalar_int("SELECT count(*) FROM sc_t"));
    ASSERT_EQ_INT(6, test_scalar_int("SELECT sum(id) FROM sc_t"));
}

/* ^Until BEGIN is sent the options still apply to the transaction in hand. */
TEST(sql_controls_late_transaction_options)
{
    pga_conn *c = engine_connect(1);
    pga_result *res = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_conn_set_txn_options(c, PGA_READ_ONLY | PGA_READ_WRITE));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_conn_set_txn_options(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SAVEPOINT early", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_txn_options(c, PGA_ISO_SERIALIZABLE | PGA_READ_ONLY));
    ASSERT_EQ_INT(PGA_ISO_SERIALIZABLE | PGA_READ_ONLY, pga_conn_get_txn_options(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT current_setting('transaction_isolation') || ' ' || "
                                       "current_setting('transaction_read_only')", NULL, &res));
    ASSERT_EQ_STR("serializable on", pga_result_text(res, 0, 0, NULL));
    pga_result_free(res);
    ASSERT_EQ_INT(PGA_EINTRANS, pga_conn_set_txn_options(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_rollback(c));
    /* kept for the next transaction, as psycopg's attributes are */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT current_setting('transaction_isolation')", NULL, &res));
    ASSERT_EQ_STR("serializable", pga_result_text(res, 0, 0, NULL));
    pga_result_free(res);
    ASSERT_EQ_INT(PGA_OK, pga_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_txn_options(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT current_setting('transaction_isolation')", NULL, &res));
    ASSERT_EQ_STR("read committed", pga_result_text(res, 0, 0, NULL));
    pga_result_free(res);
    pga_conn_free(c);
}

/* Savepoints by name from C (Django's _savepoint(sid), SQLAlchemy's
 * do_savepoint hooks): ^nothing is sent by these calls; ^a savepoint
 * survives a ROLLBACK TO it; ^releasing one ends every newer one; ^a
 * repeated name refers to the newest. */
TEST(named_savepoints_deferred)
{
    pga_conn *c = test_connect();
    const char *made = NULL;
    char longname[PGA_NAME_MAX + 2];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(0, reset_table());
    /* ^Outside a transaction they do nothing. */
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "x", &made));
    ASSERT(made == NULL);
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, "x"));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    uint64_t before = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s1_x1", &made));
    ASSERT_EQ_STR("s1_x1", made);
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, NULL, &made));
    ASSERT(made != NULL && strncmp(made, "pga_s", 5) == 0);
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, made));
    ASSERT_EQ_INT(before, pga_conn_round_trips(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(before + 1, pga_conn_round_trips(c));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "a\"b; DROP TABLE sc_t; --", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s1_x1", NULL));          /* shadows */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (3)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "s1_x1"));      /* the newer: undoes 3 */
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "s1_x1"));      /* it survived */
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, "s1_x1"));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "a\"b; DROP TABLE sc_t; --"));  /* undoes 2 */
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, "s1_x1"));       /* the older one now */
    ASSERT_EQ_INT(PGA_ESAVEPOINT, pga_savepoint_release(c, "a\"b; DROP TABLE sc_t; --"));
    ASSERT_EQ_INT(PGA_ESAVEPOINT, pga_savepoint_rollback(c, "nope"));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_savepoint(c, "", NULL));
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ASSERT_EQ_INT(PGA_EMISUSE, pga_savepoint(c, longname, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (4)", NULL, NULL));
    /* ^25P02 in a failed transaction, answered without a round trip */
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    before = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_ESERVER, pga_savepoint(c, "late", NULL));
    ASSERT_EQ_STR("25P02", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(before, pga_conn_round_trips(c));
    ASSERT_EQ_INT(PGA_EROLLEDBACK, pga_commit(c));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s2", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s3", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO sc_t VALUES (5)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, "s2"));          /* ends s3 too */
    ASSERT_EQ_INT(PGA_ESAVEPOINT, pga_savepoint_rollback(c, "s3"));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    pga_conn_free(c);
    ASSERT_EQ_INT(6, test_scalar_int("SELECT sum(id) FROM sc_t"));
}

/* pga_conn_txn_state(): the engine's view, 'T' from the BEGIN on even
 * while it is owed, 'E' once the transaction failed. */
TEST(sql_controls_txn_state_counts_an_owed_begin)
{
    pga_conn *c = engine_connect(0);
    ASSERT(c != NULL);
    ASSERT_EQ_INT('I', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT('T', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SAVEPOINT a", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    ASSERT_EQ_INT('E', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK TO a", NULL, NULL));
    ASSERT_EQ_INT('T', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    ASSERT_EQ_INT('I', pga_conn_txn_state(c));
    /* An atomic block is a transaction before anything is sent. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT('T', pga_conn_txn_state(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT('I', pga_conn_txn_state(c));
    pga_conn_free(c);
}
