/* helpers.c -- server helpers shared by the C tests.  The server comes
 * from the usual PG* variables (scripts/pgtmp sets them). */
#include <stdlib.h>

#include "harness.h"

pga_conn *test_connect(void)
{
    pga_conn *conn = NULL;
    if (pga_conn_new(&conn) != PGA_OK) {
        return NULL;
    }
    if (pga_conn_connect(conn, NULL) != PGA_OK) {
        fprintf(stdout, "    cannot connect: %s\n", pga_conn_errmsg(conn));
        pga_conn_free(conn);
        return NULL;
    }
    return conn;
}

int test_exec(const char *sql)
{
    pga_conn *conn = test_connect();
    if (conn == NULL) {
        return -1;
    }
    int rc = pga_query(conn, sql, NULL, NULL);
    if (rc != PGA_OK) {
        fprintf(stdout, "    %s: %s\n", sql, pga_conn_errmsg(conn));
    }
    pga_conn_free(conn);
    return rc;
}

long long test_scalar_int(const char *sql)
{
    pga_conn *conn = test_connect();
    pga_result *res = NULL;
    long long v = -999999;
    if (conn != NULL && pga_query(conn, sql, NULL, &res) == PGA_OK
        && pga_result_nrows(res) > 0 && !pga_result_isnull(res, 0, 0)) {
        v = strtoll(pga_result_text(res, 0, 0, NULL), NULL, 10);
    }
    pga_result_free(res);
    pga_conn_free(conn);
    return v;
}
