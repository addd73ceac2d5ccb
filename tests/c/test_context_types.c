/* test_context_types.c -- untyped parameters against a server: the column
 * decides the type (pga_params_add_untyped, pga_params_add_local_timestamp). */
#include <stdlib.h>

#include "harness.h"

/* The text the server stored in column col of ct_t, read back in UTC. */
static int stored(pga_conn *c, const char *col, char *out, size_t cap)
{
    char sql[128];
    pga_result *res = NULL;
    snprintf(sql, sizeof sql, "SELECT %s::text FROM ct_t", col);
    int rc = pga_query(c, sql, NULL, &res);
    if (rc == PGA_OK && pga_result_nrows(res) == 1) {
        snprintf(out, cap, "%s", pga_result_text(res, 0, 0, NULL));
    }
    pga_result_free(res);
    return rc;
}

/* ^a timestamptz column stores the instant, ^a timestamp column the
 * wall-clock fields and ^a date column the day, whatever the server's
 * TimeZone. */
TEST(local_timestamp_is_stored_by_the_column_whatever_the_server_zone)
{
    static const char *zones[] = {"UTC", "Pacific/Auckland", "America/Los_Angeles"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        char sql[128], ts[64], tz[64], d[64];
        pga_conn *c = test_connect();
        pga_params *p = NULL;
        ASSERT(c != NULL);
        ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
        snprintf(sql, sizeof sql, "SET TimeZone = '%s'", zones[z]);
        ASSERT_EQ_INT(PGA_OK, pga_query(c, sql, NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "CREATE TEMP TABLE ct_t (ts timestamp, tz timestamptz, d date)", NULL, NULL));
        /* 23:30 on 10 March at +05:30 is 18:00 UTC the same day. */
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ_INT(PGA_OK, pga_params_add_local_timestamp(p, 2024, 3, 10, 23, 30, 0, 250000, 19800));
        }
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO ct_t VALUES ($1, $2, $3)", p, NULL));
        ASSERT_EQ_INT(PGA_OK, pga_query(c, "SET TimeZone = 'UTC'", NULL, NULL));
        ASSERT_EQ_INT(PGA_OK, stored(c, "ts", ts, sizeof ts));
        ASSERT_EQ_INT(PGA_OK, stored(c, "tz", tz, sizeof tz));
        ASSERT_EQ_INT(PGA_OK, stored(c, "d", d, sizeof d));
        ASSERT_EQ_STR("2024-03-10 23:30:00.25", ts);
        ASSERT_EQ_STR("2024-03-10 18:00:00.25+00", tz);
        ASSERT_EQ_STR("2024-03-10", d);
        pga_params_free(p);
        pga_conn_free(c);
    }
}

TEST(untyped_numbers_take_the_column_type)
{
    pga_conn *c = test_connect();
    pga_params *p = NULL;
    pga_result *res = NULL;
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "CREATE TEMP TABLE ct_n (i int4, b int8, n numeric, a numeric[])", NULL, NULL));
    pga_params_add_untyped(p, "5", 1);
    pga_params_add_untyped(p, "5000000000", 10);
    pga_params_add_untyped(p, "2.5", 3);
    pga_params_array_begin(p);
    pga_params_add_untyped(p, "1", 1);
    pga_params_add_untyped(p, "2.5", 3);
    pga_params_array_end(p);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO ct_n VALUES ($1, $2, $3, $4)", p, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT i, b, n, a::text FROM ct_n", NULL, &res));
    ASSERT_EQ_STR("5", pga_result_text(res, 0, 0, NULL));
    ASSERT_EQ_STR("5000000000", pga_result_text(res, 0, 1, NULL));
    ASSERT_EQ_STR("2.5", pga_result_text(res, 0, 2, NULL));
    ASSERT_EQ_STR("{1,2.5}", pga_result_text(res, 0, 3, NULL));
    pga_result_free(res);
    /* Too big for the column: the column's own overflow, whatever the value. */
    pga_params_clear(p);
    pga_params_add_untyped(p, "5000000000", 10);
    pga_params_add_null(p);
    pga_params_add_null(p);
    pga_params_add_null(p);
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO ct_n VALUES ($1, $2, $3, $4)", p, NULL));
    ASSERT_EQ_STR("22003", pga_conn_sqlstate(c));
    pga_params_free(p);
    pga_conn_free(c);
}
