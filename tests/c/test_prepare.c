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
        ASSERT_EQ_INT(i * 10, one_int(c, "SELECT $1::int * 10", p));
        ASSERT_EQ_INT(i < 3 ? 0 : 1, pga_conn_prepared_count(c));
    }
    ASSERT_EQ_INT(1, ours_on_server(c));
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

TEST(statement_lost_by_the_server_fails_once)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(6, one_int(c, "SELECT 6", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
    /* Dropped behind the engine's back: only the DO command shows. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "DO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 6", NULL, NULL));
    ASSERT_EQ_STR("26000", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(6, one_int(c, "SELECT 6", NULL));
    ASSERT_EQ_INT(1, pga_conn_prepared_count(c));
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
    ASSERT_EQ_INT(3, pga_conn_prepared_count(c));
    ASSERT_EQ_INT(8, one_int(c, "SELECT 8", NULL));
    pga_conn_free(c);
}

TEST(changed_table_falls_back_to_unnamed)
{
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS prep_shape; CREATE TABLE prep_shape (a int);"
                                    "INSERT INTO prep_shape VALUES (1)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_prepare_threshold(c, 1));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(PGA_OK, test_exec("ALTER TABLE prep_shape ADD COLUMN b int"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT * FROM prep_shape", NULL, NULL));
    ASSERT_EQ_STR("0A000", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
    ASSERT_EQ_INT(1, one_int(c, "SELECT * FROM prep_shape", NULL));
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
