/* step.c -- the one state machine over libpq's non-blocking calls: send a
 * batch (control statements plus at most one user statement), read its
 * results, hand the outcome to atomic.c.  Waiting is the driver's job. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void pga__batch_reset(pga_conn *conn)
{
    conn->ncmds = 0;
    conn->cmd_index = 0;
    conn->batch_rc = PGA_OK;
    conn->flushing = 0;
    conn->pipeline = 0;
    conn->commit_sent = 0;
    conn->copy_out = 0;
    conn->multi_command = 0;
    free(conn->script);
    conn->script = NULL;
    if (conn->user_result != NULL) {
        PQclear(conn->user_result);
        conn->user_result = NULL;
    }
    if (conn->done_result != NULL) {
        pga_result_free(conn->done_result);
        conn->done_result = NULL;
    }
}

static int text_reserve(pga_conn *conn, size_t need)
{
    if (need <= conn->text_cap) {
        return PGA_OK;
    }
    size_t cap = conn->text_cap ? conn->text_cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    char *p = realloc(conn->text, cap);
    if (p == NULL) {
        return PGA_ENOMEM;
    }
    conn->text = p;
    conn->text_cap = cap;
    return PGA_OK;
}

/* Only for a user script of several commands (psql and psycopg accept
 * those without parameters): the simple protocol runs them from one string
 * and stops at the first error.  Controls ahead of it are at most a BEGIN,
 * which a parse error leaves unsent along with the script: see
 * pga_query_start(). */
static int send_simple(pga_conn *conn, const char *sql)
{
    size_t len = 0;
    char one[128];
    for (size_t i = 0; i < conn->ncmds; i++) {
        const pga__cmd *cmd = &conn->cmds[i];
        const char *piece = sql;
        size_t plen;
        if (cmd->kind == PGA__CMD_USER) {
            plen = strlen(sql);
        }
        else {
            plen = (size_t)pga__cmd_text(conn, cmd, one, sizeof(one));
            piece = one;
        }
        if (text_reserve(conn, len + plen + 3) != PGA_OK) {
            return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
        memcpy(conn->text + len, piece, plen);
        len += plen;
        if (i + 1 < conn->ncmds) {
            /* The user's text is always last, so nothing of it can change
             * the meaning of the controls before it. */
            conn->text[len++] = ';';
            conn->text[len++] = '\n';
        }
    }
    conn->text[len] = '\0';
    if (!PQsendQuery(conn->pg, conn->text)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    return PGA_OK;
}

static int send_pipeline(pga_conn *conn, const char *sql, const pga_params *params)
{
    pga__params_view v;
    char one[128];
    if (params != NULL) {
        pga__params_view_of(params, &v);
    }
    else {
        v = (pga__params_view){0, NULL, NULL, NULL, NULL};
    }
    if (!PQenterPipelineMode(conn->pg)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    conn->pipeline = 1;
    for (size_t i = 0; i < conn->ncmds; i++) {
        const pga__cmd *cmd = &conn->cmds[i];
        int ok;
        if (cmd->kind == PGA__CMD_USER) {
            ok = PQsendQueryParams(conn->pg, sql, v.count, v.types, v.values,
                                   v.lengths, v.formats, 0);
        }
        else {
            pga__cmd_text(conn, cmd, one, sizeof(one));
            ok = PQsendQueryParams(conn->pg, one, 0, NULL, NULL, NULL, NULL, 0);
        }
        if (!ok) {
            return pga__err_lost(conn, PGA_ECONN);
        }
    }
    if (!PQpipelineSync(conn->pg)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    return PGA_OK;
}

int pga__batch_send(pga_conn *conn, int purpose, const char *sql, const pga_params *params)
{
    int rc;
    if (sql != NULL && pga__cmds_push(conn, PGA__CMD_USER, 0, 0) != PGA_OK) {
        return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
    }
    conn->purpose = purpose;
    if (!pga__conn_usable(conn)) {
        rc = pga__err_set(conn, PGA_ECONN, "%s", "connection to the server was lost");
    }
    else if (sql == NULL || !conn->multi_command) {
        /* The extended protocol parses each statement on its own: a user
         * statement that does not parse cannot take the SAVEPOINT riding
         * ahead of it down too, as it would in one simple-protocol string
         * (which the server parses whole before running any of it). */
        rc = send_pipeline(conn, sql, params);
    }
    else {
        rc = send_simple(conn, sql);
    }
    if (rc != PGA_OK) {
        /* Nothing of the batch is known to have reached the server; the
         * completion still runs so the stack learns what was lost. */
        return pga__batch_finished(conn, rc, !pga__conn_usable(conn));
    }
    for (size_t i = 0; i < conn->ncmds; i++) {
        if (conn->cmds[i].kind == PGA__CMD_COMMIT) {
            conn->commit_sent = 1;
        }
    }
    conn->op = PGA__OP_BATCH;
    conn->flushing = 1;
    conn->round_trips++;
    return PGA_OK;
}

static void pending_pop(pga_conn *conn)
{
    if (conn->npending > 0) {
        memmove(conn->pending, conn->pending + 1, (conn->npending - 1) * sizeof(*conn->pending));
        conn->npending--;
    }
}

static void control_succeeded(pga_conn *conn, const pga__cmd *cmd, const PGresult *res)
{
    if (cmd->from_pending) {
        pending_pop(conn);
        return;
    }
    switch (cmd->kind) {
    case PGA__CMD_BEGIN:
        conn->txn_begun = 1;
        break;
    case PGA__CMD_SAVEPOINT:
        if ((int)cmd->arg < conn->depth) {
            conn->blocks[cmd->arg].sp_state = PGA__SP_DONE;
        }
        break;
    case PGA__CMD_COMMIT:
        /* A COMMIT of an aborted transaction succeeds with the tag ROLLBACK:
         * that is a failure, never a commit. */
        if (strcmp(PQcmdStatus((PGresult *)res), "ROLLBACK") == 0 && conn->batch_rc == PGA_OK) {
            conn->batch_rc = pga__err_set(conn, PGA_EROLLEDBACK, "%s",
                                          pga_strerror(PGA_EROLLEDBACK));
        }
        break;
    default:
        break;
    }
}

static void on_result(pga_conn *conn, PGresult *res)
{
    const pga__cmd *cmd = conn->cmd_index < conn->ncmds ? &conn->cmds[conn->cmd_index] : NULL;
    ExecStatusType st = PQresultStatus(res);
    switch (st) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_SINGLE_TUPLE:
        if (cmd != NULL && cmd->kind == PGA__CMD_USER) {
            /* Several commands in one string: the last one's rows are the
             * statement's result, as in psql. */
            if (conn->user_result != NULL) {
                PQclear(conn->user_result);
            }
            conn->user_result = res;
            return;
        }
        if (cmd != NULL) {
            control_succeeded(conn, cmd, res);
        }
        break;
    case PGRES_COPY_IN:
        PQputCopyEnd(conn->pg, "COPY FROM STDIN is not supported by pgatomic");
        break;
    case PGRES_COPY_OUT:
        conn->copy_out = 1;
        if (conn->batch_rc == PGA_OK) {
            conn->batch_rc = pga__err_set(conn, PGA_EMISUSE, "%s",
                                          "COPY TO STDOUT is not supported by pgatomic");
        }
        break;
    default:
        if (conn->batch_rc == PGA_OK || conn->batch_rc == PGA_EMISUSE) {
            conn->batch_rc = pga__err_server(conn, res);
        }
        if (cmd != NULL && cmd->kind == PGA__CMD_SAVEPOINT && (int)cmd->arg < conn->depth) {
            conn->blocks[cmd->arg].sp_state = PGA__SP_FAILED;
        }
        break;
    }
    PQclear(res);
}

static int finish(pga_conn *conn)
{
    int lost = !pga__conn_usable(conn);
    int rc = conn->batch_rc;
    conn->op = PGA__OP_NONE;
    conn->flushing = 0;
    if (conn->pipeline && !lost) {
        PQexitPipelineMode(conn->pg);
    }
    conn->pipeline = 0;
    if (lost) {
        rc = pga__err_lost(conn, (conn->purpose == PGA__P_COMMIT && conn->commit_sent)
                                     ? PGA_ECOMMITUNKNOWN : PGA_ECONN);
    }
    return pga__batch_finished(conn, rc, lost);
}

static int batch_step(pga_conn *conn, int ready)
{
    if (conn->flushing) {
        int f = PQflush(conn->pg);
        if (f < 0) {
            return finish(conn);
        }
        if (f > 0) {
            /* libpq: while output is pending, read too, or a server blocked
             * on its own output would deadlock with us. */
            if ((ready & PGA_READY_READ) && !PQconsumeInput(conn->pg)) {
                return finish(conn);
            }
            return PGA_WANT_READ | PGA_WANT_WRITE;
        }
        conn->flushing = 0;
    }
    if (!PQconsumeInput(conn->pg)) {
        return finish(conn);
    }
    for (;;) {
        if (conn->copy_out) {
            char *buf = NULL;
            int n = PQgetCopyData(conn->pg, &buf, 1);
            if (buf != NULL) {
                PQfreemem(buf);
            }
            if (n > 0) {
                continue;
            }
            if (n == 0) {
                return PGA_WANT_READ;
            }
            conn->copy_out = 0;
        }
        if (PQisBusy(conn->pg)) {
            if (PQstatus(conn->pg) == CONNECTION_BAD) {
                return finish(conn);
            }
            return PGA_WANT_READ;
        }
        PGresult *res = PQgetResult(conn->pg);
        if (conn->pipeline) {
            if (res == NULL) {
                conn->cmd_index++;
                if (PQstatus(conn->pg) == CONNECTION_BAD) {
                    return finish(conn);
                }
                continue;
            }
            ExecStatusType st = PQresultStatus(res);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                return finish(conn);
            }
            if (st == PGRES_PIPELINE_ABORTED) {
                PQclear(res);
                continue;
            }
            on_result(conn, res);
        }
        else {
            if (res == NULL) {
                return finish(conn);
            }
            int is_user = conn->cmd_index < conn->ncmds
                          && conn->cmds[conn->cmd_index].kind == PGA__CMD_USER;
            on_result(conn, res);
            if (!is_user) {
                conn->cmd_index++;
            }
        }
        if (PQstatus(conn->pg) == CONNECTION_BAD) {
            return finish(conn);
        }
    }
}

int pga_conn_step(pga_conn *conn, int ready)
{
    for (;;) {
        int rc;
        switch (conn->op) {
        case PGA__OP_CONNECT:
            return pga__connect_step(conn);
        case PGA__OP_BATCH:
            rc = batch_step(conn, ready);
            break;
        default:
            return PGA_OK;
        }
        /* A completion may start a follow-up batch (ROLLBACK after a
         * failed COMMIT); it runs in the same operation. */
        if (rc != PGA_OK || conn->op != PGA__OP_BATCH) {
            return rc;
        }
        ready = 0;
    }
}

pga_result *pga_conn_take_result(pga_conn *conn)
{
    pga_result *res = conn->done_result;
    conn->done_result = NULL;
    return res;
}
