/* c-pgatomic -- the same shapes on pgatomic's C API: pga_atomic_enter /
 * pga_query / pga_atomic_exit, nested blocks with PGA_SAVEPOINT.  The core
 * decides which control statements ride with which user statement. */
#include "pgatomic.h"

#include "common.h"

/* Built a second time with -DBENCH_PIPELINE as c-pgatomic-pipe: the
 * transactions are pipelined (PGA_PIPELINE) and nothing is read before
 * COMMIT, so each costs one round trip (docs/pipeline.md). */
#ifdef BENCH_PIPELINE
#define NAME "c-pgatomic-pipe"
#define TXN PGA_PIPELINE
#else
#define NAME "c-pgatomic"
#define TXN 0
#endif

static const char *client_name(void) { return NAME; }

static pga_conn *conn;
static pga_params *params;

static void fail(const char *what, int rc)
{
    fprintf(stderr, NAME ": %s: %s (%s)\n", what, pga_err_name(rc), pga_conn_errmsg(conn));
    exit(1);
}

static void run(const char *sql, int n, long a, long b)
{
    pga_params_clear(params);
    pga_params_add_int64(params, a);
    if (n > 1) {
        pga_params_add_int64(params, b);
    }
    pga_result *res = NULL;
    /* Pipelined: queued, its result not read (the flight travels with
     * COMMIT); its error would come back from the exit. */
    int rc = pga_query(conn, sql, params, pga_pipeline_active(conn) ? NULL : &res);
    if (rc != PGA_OK) {
        fail(sql, rc);
    }
    if (res != NULL && pga_result_nrows(res) > 0) {
        (void)pga_result_text(res, 0, 1, NULL);
    }
    pga_result_free(res);
}

static void enter(unsigned flags)
{
    int rc = pga_atomic_enter(conn, flags);
    if (rc != PGA_OK) {
        fail("pga_atomic_enter", rc);
    }
}

static void leave(void)
{
    int rc = pga_atomic_exit(conn, 0);
    if (rc != PGA_OK) {
        fail("pga_atomic_exit", rc);
    }
}

static void *client_connect(const struct bench_opts *o)
{
    if (pga_conn_new(&conn) != PGA_OK || pga_params_new(&params) != PGA_OK) {
        exit(1);
    }
    int rc = pga_conn_connect(conn, o->conninfo);
    if (rc != PGA_OK) {
        fail("connect", rc);
    }
    return conn;
}

static void client_txn(void *ctx, int shape, long i)
{
    (void)ctx;
    long from = 1 + i % N_ACCOUNTS, to = 1 + (i + 1) % N_ACCOUNTS;
    switch (shape) {
    case SH_INSERT:
        enter(TXN);
        run(SQL_INSERT, 1, i, 0);
        leave();
        break;
    case SH_TRANSFER:
        enter(TXN);
        run(SQL_DEBIT, 2, 1, from);
        run(SQL_CREDIT, 2, 1, to);
        leave();
        break;
    case SH_NESTED:
        enter(TXN);
        run(SQL_INSERT, 1, i, 0);
        enter(PGA_SAVEPOINT);
        run(SQL_INSERT, 1, i, 0);
        leave();
        leave();
        break;
    case SH_EMPTY:
        enter(TXN);
        leave();
        break;
    case SH_TEN:
        enter(TXN);
        for (int k = 0; k < 10; k++) {
            run(SQL_INSERT, 1, i, 0);
        }
        leave();
        break;
    case SH_SELECT:
        run(SQL_SELECT, 1, from, 0);
        break;
    }
}

int main(int argc, char **argv) { return bench_main(argc, argv); }
