/* test_prepare.c -- statements a session runs often are prepared there
 * once (pgatomic.h "Prepared statements"), and nothing else changes. */
#include <stdlib.h>

#include "harness.h"

/* The one integer sql answers on c, or -1000 on any failure. */
static long long one_int(pga_conn *c, const char *sql, const pga_params *p)
{
    pga_result *res = NULL;
    if (pga_query(c, sql, p, &res) != PGA_OK || res == NULL) {
        return -1000;
    }
    const char *text = pga_result_text(res, 0, 0, NULL);
    long long v = text != NULL ? atoll(text) : -1000;
    pga_result_free(res);
    return v;
}

static long long ours_on_server(pga_conn *c)
{
    return one_int(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pga\\_%'",
                   NULL);
}

/* Ours on the server, not counting the statement that asks (which a low
 * threshold prepares too). */
static long long others_on_server(pga_conn *c)
{
    return one_int(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pga\\_%'"
                      " AND statement NOT LIKE '%pg\\_prepared\\_statements%'", NULL);
}

TEST(statement_is_prepared_at_the_threshold)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 3));
    ASSERT_EQ_INT(3, pga_conn_get_prepare_threshold(c));
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    for (int i = 1; i <= 6; i++) {
        pga_params_clear(p);
        ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, i));
        uint64_t t0 = pga_conn_round_trips(c);
        ASSERT_EQ_INT(i * 10, one_int(c, "SELECT $1::int * 10", p));
        /* The first text due on a session goes unnamed once more, with
         * SELECT pg_backend_pid() behind it in the same round trip. */
        ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
        ASSERT_EQ_INT(i <= 3 ? 0 : 1, pga_conn_prepared_count(c));
    }
    ASSERT_EQ_INT(1, ours_on_server(c));
    /* The session's backend is known now: the next text is prepared at the
     * threshold itself. */
    for (int i = 1; i <= 3; i++) {
        ASSERT_EQ_INT(2, one_int(c, "SELECT 2", NULL));
        ASSERT_EQ_INT(i < 3 ? 1 : 2, pga_conn_prepared_count(c));
    }
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(prepare_threshold_zero_never_prepares)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_conn_set_prepare_threshold(c, -1));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 0));
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ_INT(7, one_int(c, "SELECT 7", NULL));
    }
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(0, ours_on_server(c));
    pga_conn_free(c);
}

TEST(prepared_block_statements_keep_their_round_trips)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_ins; CREATE TABLE prep_ins (id int)"));
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 2));
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    for (int i = 0; i < 5; i++) {
        pga_params_clear(p);
        ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, i));
        uint64_t t0 = pga_conn_round_trips(c);
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO prep_ins VALUES ($1)", p, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
        ASSERT_EQ_INT(2, pga_conn_round_trips(c) - t0);
    }
    /* The INSERT; control statements keep their text on the wire. */
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(5, test_scalar_int("SELECT count(*) FROM prep_ins"));
    ASSERT_EQ_INT(10, test_scalar_int("SELECT sum(id) FROM prep_ins"));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(failing_prepare_is_the_statements_error)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_later"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT count(*) FROM prep_later", NULL, NULL));
        ASSERT_EQ_STR("42P01", pga_conn_sqlstate(c));
        ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    }
    /* In a block: the block fails at that statement, as unprepared. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT count(*) FROM prep_later", NULL, NULL));
    ASSERT_EQ_STR("42P01", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "CREATE TABLE prep_later (id int)", NULL, NULL));
    ASSERT_EQ_INT(0, one_int(c, "SELECT count(*) FROM prep_later", NULL));
    ASSERT_EQ_INT(0, one_int(c, "SELECT count(*) FROM prep_later", NULL));
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE prep_later"));
}

TEST(deallocate_all_makes_the_session_prepare_again)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(5, one_int(c, "SELECT 5", NULL));    /* learns the backend's pid */
    ASSERT_EQ_INT(5, one_int(c, "SELECT 5", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "DEALLOCATE ALL", NULL, NULL));
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(5, one_int(c, "SELECT 5", NULL));
    ASSERT_EQ_INT(5, one_int(c, "SELECT 5", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "DISCARD ALL", NULL, NULL));
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(5, one_int(c, "SELECT 5", NULL));
    pga_conn_free(c);
}

/* Dropped behind the engine's back: only the DO command shows. */
#define DEALLOCATE_UNSEEN "DO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$"

TEST(prepared_statement_lost_outside_a_block_runs_again_unnamed)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 6));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(6, one_int(c, "SELECT $1::int", p));
    ASSERT_EQ_INT(6, one_int(c, "SELECT $1::int", p));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, DEALLOCATE_UNSEEN, NULL, NULL));
    /* The server answers 26000 to the name; nothing of the statement ran
     * and it had a sync of its own, so it goes again unnamed (one more
     * round trip) and the caller sees its answer. */
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(6, one_int(c, "SELECT $1::int", p));
    ASSERT_EQ_INT(2, pga_conn_round_trips(c) - t0);
    /* The connection prepares nothing from then on. */
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ_INT(6, one_int(c, "SELECT $1::int", p));
        ASSERT_EQ_INT(7, one_int(c, "SELECT 7", NULL));
    }
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(0, ours_on_server(c));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(prepared_statement_lost_inside_a_block_fails_once)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_lost; CREATE TABLE prep_lost (id int)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO prep_lost VALUES (1)", NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    }
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, DEALLOCATE_UNSEEN, NULL, NULL));
    /* Inside a transaction the failure aborted it: the statement cannot go
     * again on its own, so the block sees the server's error, once. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO prep_lost VALUES (1)", NULL, NULL));
    ASSERT_EQ_STR("26000", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO prep_lost VALUES (1)", NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    }
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(5, test_scalar_int("SELECT count(*) FROM prep_lost"));
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE prep_lost"));
}

TEST(name_already_on_the_server_runs_unnamed)
{
    char name[64], sql[128];
    pga_conn *a = test_connect();
    pga_conn *b = test_connect();
    pga_result *res = NULL;
    ASSERT(a != NULL && b != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(a, 1));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(b, 1));
    ASSERT_EQ_INT(42, one_int(a, "SELECT 42", NULL));
    ASSERT_EQ_INT(42, one_int(a, "SELECT 42", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(a, "SELECT name FROM pg_prepared_statements"
                                       " WHERE statement = 'SELECT 42'", NULL, &res));
    ASSERT(res != NULL && pga_result_text(res, 0, 0, NULL) != NULL);
    snprintf(name, sizeof(name), "%s", pga_result_text(res, 0, 0, NULL));
    pga_result_free(res);
    /* Session b holds that name already (as a pooler's shared server
     * session would): its Parse answers 42P05 and skips the statement. */
    ASSERT_EQ_INT(0, one_int(b, "SELECT 0", NULL));    /* learns the backend's pid */
    snprintf(sql, sizeof(sql), "PREPARE %s AS SELECT 42", name);
    ASSERT_EQ_INT(PGA_OK, pga_query(b, sql, NULL, NULL));
    long long on_server = ours_on_server(b);
    ASSERT_EQ_INT(42, one_int(b, "SELECT 42", NULL));
    ASSERT_EQ_INT(0, one_int(b, "SELECT 0", NULL));
    ASSERT_EQ_INT(0, pga_conn_prepared_count(b));
    ASSERT_EQ_INT(on_server, ours_on_server(b));     /* nothing prepared since */
    pga_conn_free(a);
    pga_conn_free(b);
}

/* A PgBouncer in transaction mode makes up the backend key; the backend
 * pid asked once differs, so nothing is prepared (PGA_BOUNCER_URL). */
TEST(statement_through_pgbouncer_is_never_prepared)
{
    const char *bouncer = getenv("PGA_BOUNCER_URL");
    if (bouncer == NULL || bouncer[0] == '\0') {
        fprintf(stdout, "    not run: PGA_BOUNCER_URL is unset (scripts/suite-c.sh sets it)\n");
        return;
    }
    pga_conn *c = test_connect_to(bouncer);
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ_INT(9, one_int(c, "SELECT 9", NULL));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(10, one_int(c, "SELECT 10", NULL));
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    }
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    pga_conn_free(c);
}

TEST(statement_raising_26000_itself_keeps_the_prepared_ones)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "CREATE FUNCTION pg_temp.raise_26000() RETURNS int"
                                       " LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'mine'"
                                       " USING ERRCODE = '26000'; END$$", NULL, NULL));
    ASSERT_EQ_INT(8, one_int(c, "SELECT 8", NULL));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT pg_temp.raise_26000()", NULL, NULL));
        ASSERT_EQ_STR("26000", pga_conn_sqlstate(c));
    }
    /* SELECT 8 and the call (CREATE FUNCTION learnt the backend's pid). */
    ASSERT_EQ_INT(2, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(8, one_int(c, "SELECT 8", NULL));
    pga_conn_free(c);
}

TEST(changed_table_is_prepared_again)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_shape; CREATE TABLE prep_shape (a int);"
                                    "INSERT INTO prep_shape VALUES (1)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(PGA_OK, test_exec("ALTER TABLE prep_shape ADD COLUMN b int"));
    /* "cached plan must not change result type" (0A000) at Bind: nothing
     * ran, so outside a block it goes again unnamed; the texts count again
     * and the old statements are dropped (as after a rollback), so the
     * next use prepares it for the table as it is now. */
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(2, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(1, others_on_server(c));
    /* In a block the block sees it, once. */
    ASSERT_EQ_INT(1, one_int(c, "SELECT a FROM prep_shape", NULL));
    ASSERT_EQ_INT(1, one_int(c, "SELECT a FROM prep_shape", NULL));
    ASSERT_EQ_INT(PGA_OK, test_exec("ALTER TABLE prep_shape ALTER COLUMN a TYPE bigint"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT a FROM prep_shape", NULL, NULL));
    ASSERT_EQ_STR("0A000", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(1, one_int(c, "SELECT a FROM prep_shape", NULL));
    pga_conn_free(c);
}

TEST(session_tracks_at_most_a_hundred_texts)
{
    pga_conn *c = test_connect();
    char sql[64];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int i = 0; i < 130; i++) {
        snprintf(sql, sizeof(sql), "SELECT %d", i);
        ASSERT_EQ_INT(i, one_int(c, sql, NULL));
    }
    ASSERT_EQ_INT(100, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(100, ours_on_server(c));
    ASSERT_EQ_INT(129, one_int(c, "SELECT 129", NULL));
    pga_conn_free(c);
}

/* The SQLAlchemy suite's pattern: a table dropped and made again with
 * another column type on the same session, inside transactions. */
TEST(drop_on_the_session_makes_its_texts_count_again)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int round = 0; round < 3; round++) {
        ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "DROP TABLE IF EXISTS prep_again", NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, round % 2 ? "CREATE TABLE prep_again (a text)"
                                                     : "CREATE TABLE prep_again (a int)",
                                        NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO prep_again VALUES ('1')", NULL, NULL));
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_again", NULL));
        }
        ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    }
    ASSERT(pga_conn_prepared_count(c) > 0);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "DROP TABLE prep_again", NULL, NULL));
    /* The server drops them too: DEALLOCATE ALL leads the next flight. */
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(0, others_on_server(c));
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    pga_conn_free(c);
}


/* psycopg's rule: a rollback forgets every prepared text and the server
 * drops them (DEALLOCATE ALL), here behind the ROLLBACK in its flight. */
TEST(rollback_deallocates_in_the_same_round_trip)
{
    test_proxy px = {0};
    long trips = -1;
    long long before = -1, after = -1, again = -1;
    int prepared = -1, rc = -1;
    pga_conn *c = test_proxy_start(&px) == 0 ? test_proxy_connect(&px) : NULL;
    if (c != NULL && pga_conn_set_prepare_threshold(c, 1) == PGA_OK
        && one_int(c, "SELECT 3", NULL) == 3 /* learns the backend's pid */
        && one_int(c, "SELECT 3", NULL) == 3) {
        before = others_on_server(c);
        test_proxy_say(&px, "reset\n", NULL, 0);
        rc = pga_atomic_enter(c, 0);
        rc = rc ? rc : one_int(c, "SELECT 3", NULL) == 3 ? PGA_OK : PGA_ESERVER;
        rc = rc ? rc : pga_atomic_exit(c, 1);
        trips = test_proxy_round_trips(&px);
        prepared = pga_conn_prepared_count(c);
        after = others_on_server(c);
        /* The texts count again from the start. */
        again = one_int(c, "SELECT 3", NULL) == 3 ? others_on_server(c) : -1;
    }
    pga_conn_free(c);
    test_proxy_stop(&px);
    ASSERT_EQ_INT(1, before);
    ASSERT_EQ_INT(PGA_OK, rc);
    /* BEGIN + SELECT, then ROLLBACK + DEALLOCATE ALL. */
    ASSERT_EQ_INT(2, trips);
    ASSERT_EQ_INT(0, prepared);
    ASSERT_EQ_INT(0, after);
    ASSERT_EQ_INT(1, again);
}

/* Nothing prepared, nothing sent: a rollback is the ROLLBACK alone. */
TEST(rollback_without_prepared_texts_sends_no_deallocate)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "PREPARE mine AS SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(1, one_int(c, "EXECUTE mine", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(1, one_int(c, "EXECUTE mine", NULL));
    pga_conn_free(c);
}

/* A COMMIT the server turns into a rollback (a deferred constraint): no
 * ROLLBACK of the engine's follows it, so the DEALLOCATE ALL leads the
 * next flight, in that flight's round trip. */
TEST(failed_commit_deallocates_with_the_next_statement)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_defer;"
                                    "CREATE TABLE prep_defer (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(4, one_int(c, "SELECT 4", NULL));   /* learns the backend's pid */
    ASSERT_EQ_INT(4, one_int(c, "SELECT 4", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO prep_defer VALUES (1), (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(0, others_on_server(c));
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE prep_defer"));
}

/* pgatomic/pg and the DB-API send ROLLBACK as SQL (the SQL control mode):
 * it ends the transaction as the engine's own does. */
TEST(rollback_as_sql_deallocates_in_the_same_round_trip)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_sql_controls(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(6, one_int(c, "SELECT 6", NULL));   /* learns the backend's pid */
    ASSERT_EQ_INT(6, one_int(c, "SELECT 6", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(6, one_int(c, "SELECT 6", NULL));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(0, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(0, others_on_server(c));
    pga_conn_free(c);
}

/* SQLAlchemy's compliance suite: a table made again with another column
 * type by another pooled connection, read inside a transaction by a
 * session that prepared the text before; the pool's reset (a rollback)
 * came in between, as it always does.  No 0A000. */
TEST(table_recreated_by_another_session_after_a_rollback)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_re; CREATE TABLE prep_re (x int);"
                                    "INSERT INTO prep_re VALUES (1)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
            ASSERT_EQ_INT(1, one_int(c, "SELECT x FROM prep_re", NULL));
            ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));   /* the pool's reset */
        }
        ASSERT_EQ_INT(PGA_OK, test_exec(round % 2 ? "DROP TABLE prep_re; CREATE TABLE prep_re (x int);"
                                                    "INSERT INTO prep_re VALUES (1)"
                                                  : "DROP TABLE prep_re; CREATE TABLE prep_re (x text);"
                                                    "INSERT INTO prep_re VALUES ('1')"));
    }
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(1, one_int(c, "SELECT x FROM prep_re", NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE prep_re"));
}
