/* test_batch.c -- several statements in one round trip, each with its own
 * outcome: one sync inside a transaction, one each outside. */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

static pga_conn *table(const char *name)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int PRIMARY KEY)", name, name);
    return test_exec(sql) == PGA_OK ? test_connect() : NULL;
}

static int add_insert(pga_conn *c, pga_params *p, const char *sql, int id)
{
    pga_params_clear(p);
    pga_params_add_int64(p, id);
    return pga_batch_add(c, sql, p);
}

static int run(pga_conn *c)
{
    int rc = pga_batch_send(c);
    while (rc == PGA_OK && (rc = pga_conn_wait(c, -1)) > 0) {
    }
    return rc;
}

TEST(batch_in_block_is_one_round_trip)
{
    pga_conn *c = table("bt_block");
    pga_params *p = NULL;
    pga_result *r = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_EBUSY, pga_query_start(c, "SELECT 1", NULL));
    for (int i = 1; i <= 3; i++) {
        ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_block VALUES ($1) RETURNING id * 10", i));
    }
    ASSERT_EQ_INT(PGA_OK, run(c));
    ASSERT_EQ_INT(3, pga_batch_size(c));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, i, &r));
        ASSERT(r != NULL);
        ASSERT_EQ_INT((i + 1) * 10, atoi(pga_result_text(r, 0, 0, NULL)));
        pga_result_free(r);
    }
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(2, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(3, test_scalar_int("SELECT count(*) FROM bt_block"));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(batch_failure_in_block_skips_the_rest)
{
    pga_conn *c = table("bt_fail");
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_fail VALUES ($1)", 1));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_fail VALUES ($1)", 1));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_fail VALUES ($1)", 2));
    ASSERT_EQ_INT(PGA_ESERVER, run(c));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 0, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_batch_outcome(c, 2, NULL));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));   /* the cause */
    ASSERT_EQ_INT(1, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM bt_fail"));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(batch_outside_block_runs_each_statement_on_its_own)
{
    pga_conn *c = table("bt_auto");
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    uint64_t t0 = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_OK, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_auto VALUES ($1)", 1));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_auto VALUES ($1)", 1));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_auto VALUES ($1)", 3));
    ASSERT_EQ_INT(PGA_ESERVER, run(c));
    ASSERT_EQ_INT(1, pga_conn_round_trips(c) - t0);
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 0, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_batch_outcome(c, 2, NULL));
    ASSERT_EQ_INT(2, test_scalar_int("SELECT count(*) FROM bt_auto"));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(batch_refuses_scripts_and_bad_counts_but_goes_on)
{
    pga_conn *c = table("bt_refuse");
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_batch_add(c, "SELECT 1", NULL));   /* none open */
    ASSERT_EQ_INT(PGA_OK, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_batch_add(c, "SELECT 1; SELECT 2", NULL));
    ASSERT_EQ_INT(PGA_EPARAMCOUNT, pga_batch_add(c, "SELECT $1, $2", NULL));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_refuse VALUES ($1)", 5));
    ASSERT_EQ_INT(PGA_OK, run(c));
    ASSERT_EQ_INT(1, pga_batch_size(c));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_batch_outcome(c, 1, NULL));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM bt_refuse"));
    pga_params_free(p);
    pga_conn_free(c);
}

TEST(batch_in_nested_block_fails_alone)
{
    pga_conn *c = table("bt_nested");
    pga_params *p = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO bt_nested VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_batch_begin(c));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_nested VALUES ($1)", 2));
    ASSERT_EQ_INT(PGA_OK, add_insert(c, p, "INSERT INTO bt_nested VALUES ($1)", 1));
    ASSERT_EQ_INT(PGA_ESERVER, run(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_EQ_INT(0, pga_atomic_get_rollback(c));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO bt_nested VALUES (3)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM bt_nested"));
    pga_params_free(p);
    pga_conn_free(c);
}
