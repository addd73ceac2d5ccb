/* pipeline_client -- a tiny libpq client for tests/proxy/check.sh.
 *
 *   pipeline_client CONNINFO pipeline N   N SELECTs in one pipeline, one Sync
 *   pipeline_client CONNINFO naive N      N SELECTs, each awaited in turn
 *   pipeline_client CONNINFO txn ID       BEGIN; INSERT INTO proxy_t VALUES
 *                                         (ID); COMMIT in one pipeline
 *   pipeline_client CONNINFO cancel MS     pg_sleep(10), cancelled after MS
 *                                         ms with PQcancel (a second
 *                                         connection, through the proxy)
 *
 * Prints "ok elapsed_us=N" and exits 0 on success; prints "connlost ..." and
 * exits 3 when the connection broke, "error ..." and exits 1 otherwise. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long usec_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int fail(PGconn *conn, const char *what)
{
    /* A dead socket is what the fault tests expect; tell it apart. */
    int lost = PQstatus(conn) == CONNECTION_BAD;
    printf("%s %s: %s", lost ? "connlost" : "error", what, PQerrorMessage(conn));
    PQfinish(conn);
    return lost ? 3 : 1;
}

/* Reads one query's results up to its terminating NULL. */
static int expect_one(PGconn *conn, ExecStatusType want, const char *value)
{
    PGresult *res = PQgetResult(conn);
    if (res == NULL) {
        return -1;
    }
    int ok = PQresultStatus(res) == want;
    if (ok && value != NULL) {
        ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), value) == 0;
    }
    PQclear(res);
    res = PQgetResult(conn);
    if (res != NULL) {
        PQclear(res);
        return -1;
    }
    return ok ? 0 : -1;
}

static int expect_sync(PGconn *conn)
{
    PGresult *res = PQgetResult(conn);
    if (res == NULL) {
        return -1;
    }
    int ok = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pipeline_client CONNINFO pipeline|naive|txn|cancel N\n");
        return 2;
    }
    const char *mode = argv[2];
    int n = atoi(argv[3]);
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        return fail(conn, "connect");
    }
    long long t0 = usec_now();
    char num[32];
    const char *params[1] = {num};
    if (strcmp(mode, "naive") == 0) {
        for (int i = 0; i < n; i++) {
            snprintf(num, sizeof num, "%d", i);
            PGresult *res = PQexecParams(conn, "SELECT $1::int", 1, NULL, params, NULL, NULL, 0);
            int ok = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), num) == 0;
            PQclear(res);
            if (!ok) {
                return fail(conn, "select");
            }
        }
    } else if (strcmp(mode, "pipeline") == 0) {
        if (!PQenterPipelineMode(conn)) {
            return fail(conn, "enter pipeline");
        }
        for (int i = 0; i < n; i++) {
            snprintf(num, sizeof num, "%d", i);
            if (!PQsendQueryParams(conn, "SELECT $1::int", 1, NULL, params, NULL, NULL, 0)) {
                return fail(conn, "send");
            }
        }
        if (!PQpipelineSync(conn)) {
            return fail(conn, "sync");
        }
        for (int i = 0; i < n; i++) {
            snprintf(num, sizeof num, "%d", i);
            if (expect_one(conn, PGRES_TUPLES_OK, num) != 0) {
                return fail(conn, "result");
            }
        }
        if (expect_sync(conn) != 0) {
            return fail(conn, "pipeline sync");
        }
    } else if (strcmp(mode, "txn") == 0) {
        snprintf(num, sizeof num, "%d", n);
        if (!PQenterPipelineMode(conn)
            || !PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)
            || !PQsendQueryParams(conn, "INSERT INTO proxy_t VALUES ($1::int)", 1, NULL, params, NULL, NULL, 0)
            || !PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)
            || !PQpipelineSync(conn)) {
            return fail(conn, "send");
        }
        if (expect_one(conn, PGRES_COMMAND_OK, NULL) != 0
            || expect_one(conn, PGRES_COMMAND_OK, NULL) != 0
            || expect_one(conn, PGRES_COMMAND_OK, NULL) != 0
            || expect_sync(conn) != 0) {
            return fail(conn, "txn");
        }
    } else if (strcmp(mode, "cancel") == 0) {
        if (!PQsendQuery(conn, "SELECT pg_sleep(10)")) {
            return fail(conn, "send");
        }
        struct timespec pause = {n / 1000, (long)(n % 1000) * 1000000};
        nanosleep(&pause, NULL);
        PGcancel *cancel = PQgetCancel(conn);
        char errbuf[256];
        int sent = cancel != NULL && PQcancel(cancel, errbuf, sizeof errbuf);
        PQfreeCancel(cancel);
        if (!sent) {
            printf("error cancel: %s\n", errbuf);
            PQfinish(conn);
            return 1;
        }
        PGresult *res = PQgetResult(conn);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        int cancelled = state != NULL && strcmp(state, "57014") == 0;
        PQclear(res);
        while ((res = PQgetResult(conn)) != NULL) {
            PQclear(res);
        }
        if (!cancelled) {
            return fail(conn, "not cancelled");
        }
    } else {
        fprintf(stderr, "pipeline_client: unknown mode %s\n", mode);
        PQfinish(conn);
        return 2;
    }
    printf("ok elapsed_us=%lld\n", usec_now() - t0);
    PQfinish(conn);
    return 0;
}
