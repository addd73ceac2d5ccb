/* stream.c -- a statement whose rows are handed over in batches: libpq's
 * single-row mode, each row copied into the batch being gathered and its
 * PGresult freed at once, the operation paused (op NONE, the stream open)
 * when the batch is full.  Between batches nothing reads the socket, so
 * the server waits on its own output and memory stays one batch.  Sending
 * and reading are step.c's; these are the hooks it calls. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pga__stream {
    int max_rows;
    int single;           /* single-row mode is set on the statement */
    int resume;           /* the next step reads what libpq holds before the socket */
    int ready;            /* a batch waits to be taken */
    int ended;            /* the statement finished: no more rows will come */
    int discard;          /* closing, or out of memory: rows are dropped */
    PGresult *attrs;      /* the columns, copied from the first row */
    pga__rows rows;       /* the batch being gathered */
};

int pga__stream_busy(const pga_conn *conn)
{
    return conn->stream != NULL && !conn->stream->ended;
}

void pga__stream_free(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    if (s == NULL) {
        return;
    }
    PQclear(s->attrs);
    pga__rows_free(&s->rows);
    free(s);
    conn->stream = NULL;
}

static int stream_failed(pga_conn *conn, int rc)
{
    /* Rows would be missing from the next batches: stop handing any over;
     * the statement's outcome is this failure. */
    conn->stream->discard = 1;
    if (conn->batch_rc == PGA_OK) {
        conn->batch_rc = pga__err_set(conn, rc, "%s", pga_strerror(rc));
        if (conn->noutcomes > 0) {
            conn->outcomes[0].rc = rc;
            pga__err_copy(&conn->outcomes[0].err, &conn->err);
        }
    }
    return rc;
}

/* Append row of res to the batch: values NUL-ended, one after another. */
static int copy_row(pga__rows *rows, const PGresult *res, int row)
{
    int ncols = PQnfields(res);
    size_t need = 0;
    for (int c = 0; c < ncols; c++) {
        need += (size_t)PQgetlength(res, row, c) + 1;
    }
    char *data = pga__grow(rows->data, &rows->cap, rows->len + need, 1);
    if (data == NULL) {
        return PGA_ENOMEM;
    }
    rows->data = data;
    size_t ncells = ((size_t)rows->nrows + 1) * (size_t)ncols;
    pga__cell *cells = pga__grow(rows->cells, &rows->cells_cap, ncells ? ncells : 1,
                                 sizeof(*cells));
    if (cells == NULL) {
        return PGA_ENOMEM;
    }
    rows->cells = cells;
    pga__cell *cell = &cells[(size_t)rows->nrows * (size_t)ncols];
    for (int c = 0; c < ncols; c++) {
        if (PQgetisnull(res, row, c)) {
            cell[c].off = 0;
            cell[c].len = -1;
            continue;
        }
        int len = PQgetlength(res, row, c);
        cell[c].off = rows->len;
        cell[c].len = len;
        memcpy(rows->data + rows->len, PQgetvalue(res, row, c), (size_t)len);
        rows->len += (size_t)len;
        rows->data[rows->len++] = '\0';
    }
    rows->ncols = ncols;
    rows->nrows++;
    return PGA_OK;
}

static int copy_rows(pga_conn *conn, const PGresult *res)
{
    pga__stream *s = conn->stream;
    for (int row = 0; row < PQntuples(res) && !s->discard; row++) {
        if (copy_row(&s->rows, res, row) != PGA_OK) {
            return stream_failed(conn, PGA_ENOMEM);
        }
    }
    return PGA_OK;
}

/* Single-row mode can only be set while the statement is the one libpq
 * reads next and none of its answer is parsed yet: step.c asks before
 * every read, and the first ask after the statements ahead of it ended
 * succeeds (a Parse ahead of it is its own entry in libpq's queue). */
void pga__stream_prepare(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    if (s->single || s->ended || conn->cmd_index >= conn->ncmds
        || conn->cmds[conn->cmd_index].kind != PGA__CMD_USER) {
        return;
    }
    s->single = PQsetSingleRowMode(conn->pg);
}

int pga__stream_result(pga_conn *conn, PGresult *res)
{
    pga__stream *s = conn->stream;
    switch (PQresultStatus(res)) {
    case PGRES_SINGLE_TUPLE:
        if (!s->discard && s->attrs == NULL) {
            s->attrs = PQcopyResult(res, PG_COPYRES_ATTRS);
            if (s->attrs == NULL) {
                stream_failed(conn, PGA_ENOMEM);
            }
        }
        if (!s->discard) {
            copy_rows(conn, res);
        }
        PQclear(res);
        return 1;
    case PGRES_TUPLES_OK:
        /* The end of the rows: it carries the command tag, which step.c
         * keeps.  Rows in it only when single-row mode could not be set;
         * they are still the caller's. */
        if (!s->discard && PQntuples(res) > 0) {
            copy_rows(conn, res);
        }
        return 0;
    default:
        return 0;
    }
}

int pga__stream_paused(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    if (s->discard || s->ended || s->rows.nrows < s->max_rows) {
        return 0;
    }
    s->ready = 1;
    conn->op = PGA__OP_NONE;
    conn->deadline = 0;
    return 1;
}

int pga__stream_resuming(pga_conn *conn)
{
    if (!conn->stream->resume) {
        return 0;
    }
    conn->stream->resume = 0;
    return 1;
}

void pga__stream_finished(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    s->ended = 1;
    s->ready = !s->discard;
}

pga_result *pga__stream_take(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    PGresult *res;
    if (!s->ready) {
        return NULL;
    }
    if (s->ended) {
        pga__outcome *o = conn->noutcomes > 0 ? &conn->outcomes[0] : NULL;
        if (o == NULL || o->rc != PGA_OK) {
            return NULL;
        }
        /* The last batch: the statement's command tag and row count. */
        res = o->res;
        o->res = NULL;
        if (res == NULL) {
            res = s->attrs != NULL ? PQcopyResult(s->attrs, PG_COPYRES_ATTRS)
                                   : PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
        }
    }
    else {
        res = PQcopyResult(s->attrs, PG_COPYRES_ATTRS);
    }
    const char *style = conn->pg != NULL ? PQparameterStatus(conn->pg, "DateStyle") : NULL;
    pga_result *r = res != NULL
        ? pga__result_rows(res, &s->rows, style != NULL && strstr(style, "DMY") != NULL)
        : NULL;
    if (r == NULL) {
        if (s->ended && conn->noutcomes > 0) {
            conn->outcomes[0].res = res;      /* kept for another try */
        }
        else {
            PQclear(res);
        }
        pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        return NULL;
    }
    s->ready = 0;
    return r;
}

int pga_stream_start(pga_conn *conn, const char *sql, const pga_params *params, int max_rows)
{
    int commands = 0;
    if (pga__pipelined(conn)) {
        /* A flight is read at COMMIT or when forced; a stream's rows are
         * read as they are asked for.  The two do not mix. */
        pga__err_clear(conn);
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a stream cannot run in a pipelined transaction");
    }
    int rc = pga__check_idle(conn);
    if (rc == PGA_OK) {
        rc = pga__check_params(conn, sql, params, &commands);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    if (max_rows < 1) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "a stream's batches hold at least one row");
    }
    if (commands > 1) {
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a script of several commands cannot be streamed");
    }
    pga_control ctl;
    if (pga_sql_classify(sql, &ctl) != PGA_CTL_NONE) {
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a control statement (BEGIN, COMMIT, SAVEPOINT ...) cannot be "
                            "streamed");
    }
    pga__stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    s->max_rows = max_rows;
    conn->raw_prepare = 0;
    rc = pga__statement_start(conn, sql, params, 1, PGA__P_QUERY);
    if (rc != PGA_OK) {
        free(s);
        return rc;
    }
    conn->stream = s;
    return PGA_OK;
}

/* The paused operation goes on: the same batch of statements, reading. */
static void resume(pga_conn *conn)
{
    pga__stream *s = conn->stream;
    s->ready = 0;
    s->rows.nrows = 0;      /* a batch not taken is dropped */
    s->rows.len = 0;
    s->resume = 1;
    conn->op = PGA__OP_BATCH;
    conn->flushing = 0;
    conn->cancel_requested = 0;
    conn->deadline = conn->timeout_ms > 0 ? pga__now_ms() + conn->timeout_ms : 0;
}

int pga_stream_next_start(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE) {
        return pga__fail(conn, PGA_EBUSY);
    }
    if (!pga__stream_busy(conn) || conn->stream->discard) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no stream is open");
    }
    resume(conn);
    return PGA_OK;
}

int pga_stream_more(const pga_conn *conn)
{
    return pga__stream_busy(conn) && !conn->stream->discard;
}

int pga_stream_close_start(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE) {
        return pga__fail(conn, PGA_EBUSY);
    }
    if (conn->stream == NULL) {
        return PGA_OK;
    }
    if (conn->stream->ended) {
        conn->stream->ready = 0;
        conn->stream->discard = 1;
        return PGA_OK;
    }
    resume(conn);
    conn->stream->discard = 1;
    return PGA_OK;
}
