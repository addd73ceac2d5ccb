/* helpers.c -- server and proxy helpers shared by the C tests.  The server
 * comes from the usual PG* variables (scripts/pgtmp sets them). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

pga_conn *test_connect_to(const char *conninfo)
{
    pga_conn *conn = NULL;
    if (pga_conn_new(&conn) != PGA_OK) {
        return NULL;
    }
    if (pga_conn_connect(conn, conninfo) != PGA_OK) {
        fprintf(stdout, "    cannot connect: %s\n", pga_conn_errmsg(conn));
        pga_conn_free(conn);
        return NULL;
    }
    return conn;
}

pga_conn *test_connect(void)
{
    return test_connect_to(NULL);
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

int test_backend_pid(pga_conn *c)
{
    pga_result *r = NULL;
    int pid = -1;
    if (pga_query(c, "SELECT pg_backend_pid()", NULL, &r) == PGA_OK) {
        pid = atoi(pga_result_text(r, 0, 0, NULL));
    }
    pga_result_free(r);
    return pid;
}

int test_terminate(int pid)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 5000)", pid);
    return test_exec(sql);
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

int test_proxy_start(test_proxy *px)
{
    char cmd[600], line[128];
    const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
    snprintf(cmd, sizeof(cmd),
             "exec ${PGPROXY:-out/pgproxy} --listen 127.0.0.1:0 --upstream unix:%s/.s.PGSQL.%s "
             "--control 127.0.0.1:0", host ? host : "/tmp", port ? port : "5432");
    px->out = popen(cmd, "r");
    if (px->out == NULL || fgets(line, sizeof(line), px->out) == NULL
        || sscanf(line, "listen=%d control=%d", &px->port, &px->control) != 2) {
        return -1;
    }
    return 0;
}

int test_proxy_say(const test_proxy *px, const char *command, char *reply, size_t cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->control)};
    char buf[256] = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0
        && write(fd, command, strlen(command)) == (ssize_t)strlen(command)
        && read(fd, buf, sizeof(buf) - 1) > 0) {
        ok = (strncmp(buf, "ok", 2) == 0 || strncmp(buf, "conns=", 6) == 0) ? 0 : -1;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (reply != NULL) {
        snprintf(reply, cap, "%s", buf);
    }
    return ok;
}

void test_proxy_stop(test_proxy *px)
{
    if (px->out != NULL) {
        test_proxy_say(px, "quit\n", NULL, 0);
        pclose(px->out);
        px->out = NULL;
    }
}

pga_conn *test_proxy_connect(const test_proxy *px)
{
    char dsn[128];
    pga_conn *c = NULL;
    snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d sslmode=disable connect_timeout=5", px->port);
    if (pga_conn_new(&c) != PGA_OK || pga_conn_connect(c, dsn) != PGA_OK) {
        pga_conn_free(c);
        return NULL;
    }
    return c;
}

long test_proxy_round_trips(const test_proxy *px)
{
    char reply[256];
    const char *p;
    if (test_proxy_say(px, "stats\n", reply, sizeof(reply)) != 0
        || (p = strstr(reply, "round_trips=")) == NULL) {
        return -1;
    }
    return strtol(p + strlen("round_trips="), NULL, 10);
}
