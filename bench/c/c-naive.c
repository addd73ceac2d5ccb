/* c-naive -- the baseline: a hand-written libpq loop, as application code
 * writes it.  PQexec("BEGIN"), PQexecParams() for each statement (text
 * parameters, types inferred by the server), PQexec("COMMIT"); a nested
 * block is SAVEPOINT ... RELEASE.  Every call waits for its result. */
#include <libpq-fe.h>

#include "common.h"

static const char *client_name(void) { return "c-naive"; }

static void check(PGconn *pg, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "c-naive: %s: %s", what, PQerrorMessage(pg));
        exit(1);
    }
    PQclear(r);
}

static void exec0(PGconn *pg, const char *sql) { check(pg, PQexec(pg, sql), sql); }

static void exec_params(PGconn *pg, const char *sql, int n, long a, long b)
{
    char s1[24], s2[24];
    snprintf(s1, sizeof s1, "%ld", a);
    snprintf(s2, sizeof s2, "%ld", b);
    const char *vals[2] = {s1, s2};
    PGresult *r = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        (void)PQgetvalue(r, 0, 1);
    }
    check(pg, r, sql);
}

static void *client_connect(const struct bench_opts *o)
{
    PGconn *pg = PQconnectdb(o->conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "c-naive: connect: %s", PQerrorMessage(pg));
        exit(1);
    }
    return pg;
}

static void client_txn(void *ctx, int shape, long i)
{
    PGconn *pg = ctx;
    long from = 1 + i % N_ACCOUNTS, to = 1 + (i + 1) % N_ACCOUNTS;
    switch (shape) {
    case SH_INSERT:
        exec0(pg, "BEGIN");
        exec_params(pg, SQL_INSERT, 1, i, 0);
        exec0(pg, "COMMIT");
        break;
    case SH_TRANSFER:
        exec0(pg, "BEGIN");
        exec_params(pg, SQL_DEBIT, 2, 1, from);
        exec_params(pg, SQL_CREDIT, 2, 1, to);
        exec0(pg, "COMMIT");
        break;
    case SH_NESTED:
        exec0(pg, "BEGIN");
        exec_params(pg, SQL_INSERT, 1, i, 0);
        exec0(pg, "SAVEPOINT s1");
        exec_params(pg, SQL_INSERT, 1, i, 0);
        exec0(pg, "RELEASE SAVEPOINT s1");
        exec0(pg, "COMMIT");
        break;
    case SH_EMPTY:
        exec0(pg, "BEGIN");
        exec0(pg, "COMMIT");
        break;
    case SH_TEN:
        exec0(pg, "BEGIN");
        for (int k = 0; k < 10; k++) {
            exec_params(pg, SQL_INSERT, 1, i, 0);
        }
        exec0(pg, "COMMIT");
        break;
    case SH_SELECT:
        exec_params(pg, SQL_SELECT, 1, from, 0);
        break;
    }
}

int main(int argc, char **argv) { return bench_main(argc, argv); }
