/* test_server_errors.c -- server errors as values: SQLSTATE, kind and the
 * diagnostic fields, for the violations users meet most. */
#include <stdint.h>

#include "harness.h"

static pga_conn *schema(void)
{
    if (test_exec("DROP TABLE IF EXISTS se_child, se_parent;"
                  "CREATE TABLE se_parent (id int PRIMARY KEY, email text UNIQUE,"
                  " name text NOT NULL, age int CONSTRAINT age_positive CHECK (age > 0));"
                  "CREATE TABLE se_child (id int PRIMARY KEY, parent_id int REFERENCES se_parent);"
                  "INSERT INTO se_parent VALUES (1, 'a@example.com', 'A', 30)") != PGA_OK) {
        return NULL;
    }
    return test_connect();
}

TEST(unique_violation_fields)
{
    pga_conn *c = schema();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO se_parent VALUES (2, 'a@example.com', 'B', 1)", NULL, NULL));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_UNIQUE_VIOLATION, pga_conn_error_kind(c));
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(pga_conn_error_kind(c)));
    ASSERT_EQ_STR("se_parent_email_key", pga_conn_diag(c, PGA_DIAG_CONSTRAINT_NAME));
    ASSERT_EQ_STR("se_parent", pga_conn_diag(c, PGA_DIAG_TABLE_NAME));
    ASSERT_EQ_STR("public", pga_conn_diag(c, PGA_DIAG_SCHEMA_NAME));
    ASSERT_EQ_STR("Key (email)=(a@example.com) already exists.", pga_conn_diag(c, PGA_DIAG_DETAIL));
    ASSERT(strstr(pga_conn_errmsg(c), "duplicate key value") != NULL);
    pga_conn_free(c);
}

TEST(foreign_key_violation_fields)
{
    pga_conn *c = schema();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO se_child VALUES (1, 999)", NULL, NULL));
    ASSERT_EQ_STR("23503", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_FOREIGN_KEY_VIOLATION, pga_conn_error_kind(c));
    ASSERT_EQ_STR("se_child_parent_id_fkey", pga_conn_diag(c, PGA_DIAG_CONSTRAINT_NAME));
    pga_conn_free(c);
}

TEST(not_null_violation_fields)
{
    pga_conn *c = schema();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO se_parent (id) VALUES (3)", NULL, NULL));
    ASSERT_EQ_STR("23502", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_NOT_NULL_VIOLATION, pga_conn_error_kind(c));
    ASSERT_EQ_STR("name", pga_conn_diag(c, PGA_DIAG_COLUMN_NAME));
    pga_conn_free(c);
}

TEST(check_violation_fields)
{
    pga_conn *c = schema();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO se_parent VALUES (4, NULL, 'D', -1)", NULL, NULL));
    ASSERT_EQ_STR("23514", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_CHECK_VIOLATION, pga_conn_error_kind(c));
    ASSERT_EQ_STR("age_positive", pga_conn_diag(c, PGA_DIAG_CONSTRAINT_NAME));
    pga_conn_free(c);
}

TEST(syntax_error_fields)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELEC 1", NULL, NULL));
    ASSERT_EQ_STR("42601", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_KIND_PROGRAMMING, pga_conn_error_kind(c));
    ASSERT_EQ_STR("1", pga_conn_diag(c, PGA_DIAG_STATEMENT_POSITION));
    ASSERT_EQ_STR("ERROR", pga_conn_diag(c, PGA_DIAG_SEVERITY));
    ASSERT_EQ_STR("scan.l", pga_conn_diag(c, PGA_DIAG_SOURCE_FILE));
    ASSERT(pga_conn_diag(c, PGA_DIAG_SOURCE_LINE) != NULL);
    ASSERT_EQ_STR("scanner_yyerror", pga_conn_diag(c, PGA_DIAG_SOURCE_FUNCTION));
    ASSERT(pga_conn_diag(c, PGA_DIAG_CONTEXT) == NULL);
    /* The connection stays usable after an error outside a block. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(parameter_count_is_checked_before_sending)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_params_add_int64(p, 1));
    uint64_t trips = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_EPARAMCOUNT, pga_query(c, "SELECT $1, $2", p, NULL));
    ASSERT_EQ_STR("the query has 2 placeholders but 1 parameter was passed", pga_conn_errmsg(c));
    ASSERT_EQ_INT(PGA_EPARAMCOUNT, pga_query(c, "SELECT 1", p, NULL));
    ASSERT_EQ_INT(trips, pga_conn_round_trips(c));
    /* '$1' inside a literal is not a placeholder. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT '$2', $1::int", p, NULL));
    pga_params_free(p);
    pga_conn_free(c);
}

/* COPY needs a data channel pgatomic does not offer: PGA_ENOTSUPPORTED,
 * never the query_canceled the server reports for the abandoned copy; the
 * session stays usable and a block around it is broken like by any
 * error. */
TEST(copy_is_refused_as_not_supported)
{
    static const char *const statements[] = {
        "COPY (SELECT 1) TO STDOUT",
        "COPY copy_refused_t FROM STDIN",
        "SELECT 1; COPY copy_refused_t FROM STDIN; SELECT 2",
        "COPY (SELECT 1) TO STDOUT; SELECT 1/0",
    };
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "CREATE TEMP TABLE copy_refused_t (x int)", NULL, NULL));
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        int rc = pga_query(c, statements[i], NULL, NULL);
        if (rc != PGA_ENOTSUPPORTED) {
            test_fail(__FILE__, __LINE__, "%s: expected ENOTSUPPORTED, got %s (%s)",
                      statements[i], pga_err_name(rc), pga_conn_errmsg(c));
            return;
        }
        ASSERT(pga_conn_sqlstate(c) == NULL);
        ASSERT(strstr(pga_conn_errmsg(c), "COPY") != NULL);
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    }
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO copy_refused_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ENOTSUPPORTED, pga_query(c, "COPY copy_refused_t FROM STDIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT(strstr(pga_conn_errmsg(c), "COPY FROM STDIN") != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    pga_conn_free(c);
}

TEST(error_context_and_internal_query_fields)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    /* An error inside PL/pgSQL: the server says where (context) and, for
     * a query it built itself, that query and the position in it. */
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c,
        "DO $$BEGIN PERFORM nosuchcolumn FROM pg_class; END$$", NULL, NULL));
    ASSERT_EQ_STR("42703", pga_conn_sqlstate(c));
    ASSERT(strstr(pga_conn_diag(c, PGA_DIAG_CONTEXT), "PL/pgSQL function") != NULL);
    ASSERT_EQ_STR("SELECT nosuchcolumn FROM pg_class", pga_conn_diag(c, PGA_DIAG_INTERNAL_QUERY));
    ASSERT_EQ_STR("8", pga_conn_diag(c, PGA_DIAG_INTERNAL_POSITION));
    ASSERT(pga_conn_diag(c, PGA_DIAG_STATEMENT_POSITION) == NULL);
    ASSERT(pga_conn_diag(c, PGA_DIAG__COUNT) == NULL);
    pga_conn_free(c);
}
