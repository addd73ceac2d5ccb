/* test_atomic.c -- atomic blocks against a real server: commit, rollback,
 * nesting in all four combinations, merged blocks, durable, options, the
 * broken-block guard and raw COMMIT detection. */
#include "harness.h"

static pga_conn *fresh_table(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int PRIMARY KEY, v text)", table, table);
    if (test_exec(sql) != PGA_OK) {
        return NULL;
    }
    return test_connect();
}

static int insert(pga_conn *conn, const char *table, int id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (%d, 'x')", table, id);
    return pga_query(conn, sql, NULL, NULL);
}

static long long count(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return test_scalar_int(sql);
}

TEST(outermost_block_commits_on_success)
{
    pga_conn *c = fresh_table("ta_commit");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_commit", 1));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_commit", 2));
    ASSERT_EQ_INT(0, count("ta_commit"));   /* not visible before COMMIT */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_commit"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(outermost_block_rolls_back_on_failure)
{
    pga_conn *c = fresh_table("ta_rollback");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rollback", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, count("ta_rollback"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

/* outer ok/fail x inner ok/fail */
static void nested_case(const char *table, int inner_fails, int outer_fails,
                        long long expect)
{
    pga_conn *c = fresh_table(table);
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, table, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, insert(c, table, 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, inner_fails));
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, insert(c, table, 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, outer_fails));
    ASSERT_EQ_INT(expect, count(table));
    pga_conn_free(c);
}

TEST(nested_success_in_successful_outer_commits_both)
{
    nested_case("ta_n_ok_ok", 0, 0, 3);
}

TEST(nested_failure_rolls_back_to_savepoint)
{
    nested_case("ta_n_fail_ok", 1, 0, 2);
}

TEST(nested_success_in_failed_outer_rolls_back_all)
{
    nested_case("ta_n_ok_fail", 0, 1, 0);
}

TEST(nested_failure_in_failed_outer_rolls_back_all)
{
    nested_case("ta_n_fail_fail", 1, 1, 0);
}

TEST(merged_block_failure_marks_outer_for_rollback)
{
    pga_conn *c = fresh_table("ta_merged");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_merged", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));       /* savepoint=False */
    ASSERT(pga_atomic_savepoint_name(c, 2) == NULL);
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_merged", 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));        /* caller caught it */
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_EBROKEN, insert(c, "ta_merged", 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));        /* rolls back anyway */
    ASSERT_EQ_INT(0, count("ta_merged"));
    pga_conn_free(c);
}

TEST(merged_failure_stops_at_nearest_savepoint)
{
    pga_conn *c = fresh_table("ta_merged_sp");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_merged_sp", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_merged_sp", 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));        /* savepoint undoes it */
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_merged_sp", 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_merged_sp"));
    ASSERT_EQ_INT(3, test_scalar_int("SELECT sum(id) FROM ta_merged_sp") - 1);
    pga_conn_free(c);
}

TEST(durable_block_cannot_be_nested)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_DURABLE));
    ASSERT_EQ_INT(PGA_EDURABLE, pga_atomic_enter(c, PGA_DURABLE | PGA_SAVEPOINT));
    ASSERT_EQ_INT(1, pga_atomic_depth(c));               /* stack unchanged */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

TEST(transaction_options_only_on_outermost_block)
{
    pga_conn *c = test_connect();
    pga_result *r = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_ISO_SERIALIZABLE | PGA_READ_ONLY));
    ASSERT_EQ_INT(PGA_EOPTIONS, pga_atomic_enter(c, PGA_SAVEPOINT | PGA_ISO_REPEATABLE_READ));
    ASSERT_EQ_INT(1, pga_atomic_depth(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT current_setting('transaction_isolation'), "
                                       "current_setting('transaction_read_only')", NULL, &r));
    ASSERT_EQ_STR("serializable", pga_result_text(r, 0, 0, NULL));
    ASSERT_EQ_STR("on", pga_result_text(r, 0, 1, NULL));
    pga_result_free(r);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

TEST(error_breaks_block_until_savepoint_exits)
{
    pga_conn *c = fresh_table("ta_broken");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_broken", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, insert(c, "ta_broken", 1));   /* duplicate key */
    uint64_t trips = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_EBROKEN, insert(c, "ta_broken", 2));
    ASSERT(pga_conn_has_cause(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));            /* the cause */
    ASSERT_EQ_INT(trips, pga_conn_round_trips(c));           /* nothing sent */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_broken", 3));        /* outer is fine */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_broken"));
    pga_conn_free(c);
}

TEST(set_rollback_breaks_without_cause)
{
    pga_conn *c = fresh_table("ta_setrb");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ENOATOMIC, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_ENOATOMIC, pga_atomic_set_rollback(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_setrb", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_set_rollback(c, 1));
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_EBROKEN, insert(c, "ta_setrb", 2));
    ASSERT(!pga_conn_has_cause(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, count("ta_setrb"));
    pga_conn_free(c);
}

TEST(raw_commit_inside_block_is_detected)
{
    pga_conn *c = fresh_table("ta_raw");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_raw", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, "COMMIT", NULL, NULL));
    ASSERT_EQ_INT(PGA_EBROKEN, insert(c, "ta_raw", 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, pga_atomic_depth(c));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    /* The connection is consistent again: a new block works. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_raw", 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_raw"));
    pga_conn_free(c);
}

TEST(raw_rollback_inside_block_is_detected)
{
    pga_conn *c = fresh_table("ta_rawrb");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rawrb", 1));
    ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, "ROLLBACK", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, count("ta_rawrb"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(c);
}

TEST(manual_mode_commit_and_rollback)
{
    pga_conn *c = fresh_table("ta_manual");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_manual", 1));
    ASSERT(pga_conn_in_manual_txn(c));
    ASSERT_EQ_INT(0, count("ta_manual"));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(1, count("ta_manual"));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_manual", 2));
    ASSERT_EQ_INT(PGA_OK, pga_rollback(c));
    ASSERT_EQ_INT(1, count("ta_manual"));
    /* A failed statement leaves the manual transaction for rollback(). */
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_manual", 3));
    ASSERT_EQ_INT(PGA_ESERVER, insert(c, "ta_manual", 3));
    ASSERT_EQ_INT(PGA_OK, pga_rollback(c));
    ASSERT_EQ_INT(1, count("ta_manual"));
    /* Blocks inside a manual transaction are savepoints. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT(pga_atomic_savepoint_name(c, 1) != NULL);
    ASSERT_EQ_INT(PGA_EINATOMIC, pga_commit(c));
    ASSERT_EQ_INT(PGA_EINATOMIC, pga_conn_set_autocommit(c, 1));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_manual", 4));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_manual", 5));
    ASSERT_EQ_INT(PGA_EINTRANS, pga_conn_set_autocommit(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 1));
    ASSERT_EQ_INT(2, count("ta_manual"));
    pga_conn_free(c);
}

TEST(manual_savepoints)
{
    pga_conn *c = fresh_table("ta_msp");
    const char *name = NULL;
    char sid[32];
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, NULL, &name));        /* autocommit: no-op */
    ASSERT(name == NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_msp", 1));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, NULL, &name));
    ASSERT(name != NULL);
    snprintf(sid, sizeof(sid), "%s", name);
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_msp", 2));
    ASSERT_EQ_INT(PGA_ESERVER, insert(c, "ta_msp", 2));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, sid));
    ASSERT_EQ_INT(PGA_ESAVEPOINT, pga_savepoint_rollback(c, "x; DROP TABLE ta_msp"));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_msp", 3));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_release(c, sid));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_msp"));
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM ta_msp"));
    pga_conn_free(c);
}

TEST(closed_connection_inside_block)
{
    pga_conn *c = fresh_table("ta_closed");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_closed", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    pga_conn_close(c);
    ASSERT_EQ_INT(PGA_ECLOSED, insert(c, "ta_closed", 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, count("ta_closed"));
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, NULL));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_closed", 3));
    ASSERT_EQ_INT(1, count("ta_closed"));
    pga_conn_free(c);
}

TEST(syntax_error_in_first_statement_of_nested_block_stays_nested)
{
    /* The SAVEPOINT rides with the statement; a statement that does not
     * even parse must not take the savepoint down with it. */
    pga_conn *c = fresh_table("ta_syntax");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_syntax", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO ta_syntax VALUES (2, 'y'", NULL, NULL));
    ASSERT_EQ_STR("42601", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_syntax", 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_syntax"));
    pga_conn_free(c);
}

TEST(script_of_several_commands_inside_nested_block)
{
    pga_conn *c = fresh_table("ta_script");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_script", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO ta_script VALUES (2, 'a'); SELEC 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO ta_script VALUES (4, 'a'); "
                                       "INSERT INTO ta_script VALUES (5, 'b')", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(3, count("ta_script"));
    pga_conn_free(c);
}

TEST(params_statement_failing_inside_nested_block)
{
    pga_conn *c = fresh_table("ta_pfail");
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO ta_pfail VALUES ($1, 'a')", p, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO ta_pfail VALUES ($1, 'b')", p, NULL));
    ASSERT_EQ_INT(PGA_KIND_UNIQUE_VIOLATION, pga_conn_error_kind(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    pga_params_clear(p);
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 2));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO ta_pfail VALUES ($1, 'c')", p, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, count("ta_pfail"));
    pga_params_free(p);
    pga_conn_free(c);
}

/* "^one a BEGIN sent as SQL outside any block opened: a failing block then
 * never rolls back the work done before it" */
TEST(raw_begin_then_failing_block_keeps_earlier_work)
{
    pga_conn *c = fresh_table("ta_rawbegin");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rawbegin", 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rawbegin", 2));
    ASSERT_EQ_INT(PGA_ESERVER, insert(c, "ta_rawbegin", 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));  /* ROLLBACK TO rides with the next */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rawbegin", 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT('T', pga_conn_txn_status(c));   /* released, not committed */
    ASSERT_EQ_INT(0, count("ta_rawbegin"));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(2, count("ta_rawbegin"));       /* 1 and 3; 2 rolled back alone */
    /* The transaction is over: the next block is a transaction again. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, "ta_rawbegin", 4));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(2, count("ta_rawbegin"));
    pga_conn_free(c);
}

/* "^or inside a transaction a BEGIN sent as SQL opened" */
TEST(durable_block_inside_raw_begin_is_refused)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_EDURABLE, pga_atomic_enter(c, PGA_DURABLE));
    ASSERT_EQ_INT(0, pga_atomic_depth(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));   /* a plain one is a savepoint */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_DURABLE));     /* its own transaction again */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}
