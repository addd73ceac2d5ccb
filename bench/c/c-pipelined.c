/* c-pipelined -- the physical limit: libpq pipeline mode, the whole
 * transaction (BEGIN, its statements, SAVEPOINT/RELEASE, COMMIT) queued
 * and sent with one sync, then every result read: one round trip per
 * transaction.  It does not wait for a statement before sending the next,
 * which application code that looks at results cannot do.  The empty block
 * sends nothing at all (its limit is zero round trips). */
#include <libpq-fe.h>

#include "common.h"

static const char *client_name(void) { return "c-pipelined"; }

static PGconn *pg;
static int queued;

static void q(const char *sql, int n, long a, long b)
{
    char s1[24], s2[24];
    snprintf(s1, sizeof s1, "%ld", a);
    snprintf(s2, sizeof s2, "%ld", b);
    const char *vals[2] = {s1, s2};
    if (!PQsendQueryParams(pg, sql, n, NULL, vals, NULL, NULL, 0)) {
        fprintf(stderr, "c-pipelined: send: %s", PQerrorMessage(pg));
        exit(1);
    }
    queued++;
}

/* Sync, then read one result set per queued statement and the sync. */
static void flush_all(void)
{
    if (!PQpipelineSync(pg)) {
        fprintf(stderr, "c-pipelined: sync: %s", PQerrorMessage(pg));
        exit(1);
    }
    for (int k = 0; k < queued; k++) {
        PGresult *r;
        while ((r = PQgetResult(pg)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                fprintf(stderr, "c-pipelined: %s", PQresultErrorMessage(r));
                exit(1);
            }
            if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
                (void)PQgetvalue(r, 0, 1);
            }
            PQclear(r);
        }
    }
    PGresult *r = PQgetResult(pg);
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
        fprintf(stderr, "c-pipelined: expected the sync: %s", PQerrorMessage(pg));
        exit(1);
    }
    PQclear(r);
    queued = 0;
}

static void *client_connect(const struct bench_opts *o)
{
    pg = PQconnectdb(o->conninfo);
    if (PQstatus(pg) != CONNECTION_OK || !PQenterPipelineMode(pg)) {
        fprintf(stderr, "c-pipelined: connect: %s", PQerrorMessage(pg));
        exit(1);
    }
    return pg;
}

static void client_txn(void *ctx, int shape, long i)
{
    (void)ctx;
    long from = 1 + i % N_ACCOUNTS, to = 1 + (i + 1) % N_ACCOUNTS;
    switch (shape) {
    case SH_INSERT:
        q("BEGIN", 0, 0, 0);
        q(SQL_INSERT, 1, i, 0);
        q("COMMIT", 0, 0, 0);
        break;
    case SH_TRANSFER:
        q("BEGIN", 0, 0, 0);
        q(SQL_DEBIT, 2, 1, from);
        q(SQL_CREDIT, 2, 1, to);
        q("COMMIT", 0, 0, 0);
        break;
    case SH_NESTED:
        q("BEGIN", 0, 0, 0);
        q(SQL_INSERT, 1, i, 0);
        q("SAVEPOINT s1", 0, 0, 0);
        q(SQL_INSERT, 1, i, 0);
        q("RELEASE SAVEPOINT s1", 0, 0, 0);
        q("COMMIT", 0, 0, 0);
        break;
    case SH_EMPTY:
        return;
    case SH_TEN:
        q("BEGIN", 0, 0, 0);
        for (int k = 0; k < 10; k++) {
            q(SQL_INSERT, 1, i, 0);
        }
        q("COMMIT", 0, 0, 0);
        break;
    case SH_SELECT:
        q(SQL_SELECT, 1, from, 0);
        break;
    }
    flush_all();
}

int main(int argc, char **argv) { return bench_main(argc, argv); }
