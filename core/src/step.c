/* step.c -- the one state machine over libpq's non-blocking calls: send a
 * batch (control statements plus user statements), read its results into
 * per-statement outcomes, hand the batch to atomic.c.  Waiting is the
 * driver's job. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* How long the server gets to answer a cancel request sent at the
 * statement deadline before the engine closes the connection.  A live
 * server answers in milliseconds; a hung one never does, and the grace is
 * then part of how long a failover takes (deadline + grace + reconnect,
 * which issue 13 bounds by deadline + 2 s: docs/reliability.md). */
#define PGA__CANCEL_GRACE_MS 500

/* While a cancel request is still connecting, drivers step this often. */
#define PGA__CANCEL_TICK_MS 10

void pga__batch_reset(pga_conn *conn)
{
    pga__stream_free(conn);
    conn->ncmds = 0;
    conn->cmd_index = 0;
    conn->batch_rc = PGA_OK;
    conn->flushing = 0;
    conn->bp_awaiting = 0;
    conn->pipeline = 0;
    conn->commit_sent = 0;
    conn->copy_out = 0;
    conn->multi_command = 0;
    conn->nsyncs = 0;
    conn->syncs_seen = 0;
    conn->batch_open = 0;
    conn->flight = 0;
    conn->resend.cmd = -1;
    conn->resend.due = 0;
    free(conn->script);
    conn->script = NULL;
    for (size_t i = 0; i < conn->noutcomes; i++) {
        pga__outcome *o = &conn->outcomes[i];
        PQclear(o->res);
        for (size_t k = o->more_taken; k < o->nmore; k++) {
            PQclear(o->more[k]);
        }
        free(o->more);
        pga__err_free(&o->err);
    }
    conn->noutcomes = 0;
}

/* A statement sent "autonomously" is its own implicit transaction: with
 * no block and autocommit on, each gets its own sync so one failing does
 * not skip the next, exactly as if they had been sent one by one. */
static int autonomous(const pga_conn *conn)
{
    return !pga__txn_needed(conn);
}

static int add_outcome(pga_conn *conn, unsigned *index)
{
    pga__outcome *o = pga__grow(conn->outcomes, &conn->outcomes_cap, conn->noutcomes + 1,
                                sizeof(*o));
    if (o == NULL) {
        return PGA_ENOMEM;
    }
    conn->outcomes = o;
    memset(&conn->outcomes[conn->noutcomes], 0, sizeof(*conn->outcomes));
    *index = (unsigned)conn->noutcomes++;
    return PGA_OK;
}

static int new_outcome(pga_conn *conn, unsigned *index)
{
    if (add_outcome(conn, index) != PGA_OK) {
        return PGA_ENOMEM;
    }
    if (pga__cmds_push(conn, PGA__CMD_USER, *index, NULL) != PGA_OK) {
        conn->noutcomes--;
        return PGA_ENOMEM;
    }
    return PGA_OK;
}

int pga__answer(pga_conn *conn, const char *tag)
{
    unsigned index;
    if (add_outcome(conn, &index) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    conn->outcomes[index].tag = tag;
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
    char one[PGA__CMD_TEXT_MAX];
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
        char *text = pga__grow(conn->text, &conn->text_cap, len + plen + 3, 1);
        if (text == NULL) {
            return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
        conn->text = text;
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

/* One statement into the pipeline: unnamed, or by the name the session
 * prepared it under, first preparing it when it has been used often enough
 * (prepare.c).  Its Parse then answers ahead of it (read_results). */
static int send_statement(pga_conn *conn, pga__cmd *cmd, const char *sql,
                          const pga__params_view *v)
{
    const char *name = NULL;
    int ok;
    /* Control statements keep their text on the wire: they cost the server
     * little to parse, and COMMIT is what proxies, poolers and the fault
     * tests look for. */
    int how = cmd->kind == PGA__CMD_USER
                  ? pga__stmt_plan(conn, sql, v->count, v->types, &name, &cmd->stmt)
                  : PGA__SEND_UNNAMED;
    switch (how) {
    case PGA__SEND_PROBE:
        cmd->probe = 1;     /* sent after it by pga__pipeline_add() */
        ok = PQsendQueryParams(conn->pg, sql, v->count, v->types, v->values, v->lengths,
                               v->formats, 0);
        break;
    case PGA__SEND_PREPARE:
        if (!PQsendPrepare(conn->pg, name, sql, v->count, v->types)) {
            return pga__err_lost(conn, PGA_ECONN);
        }
        cmd->parse = 1;
        /* fall through */
    case PGA__SEND_NAMED:
        ok = PQsendQueryPrepared(conn->pg, name, v->count, v->values, v->lengths, v->formats, 0);
        break;
    default:
        ok = PQsendQueryParams(conn->pg, sql, v->count, v->types, v->values, v->lengths,
                               v->formats, 0);
        break;
    }
    return ok ? PGA_OK : pga__err_lost(conn, PGA_ECONN);
}

/* SELECT pg_backend_pid() behind the statement that asked for it
 * (prepare.c): with a sync of its own when the statement had one, so it
 * is its own implicit transaction; else in the statement's transaction,
 * after it, where it cannot change what the statement does. */
static int send_probe(pga_conn *conn, int own_sync)
{
    if (!PQsendQueryParams(conn->pg, "SELECT pg_backend_pid()", 0, NULL, NULL, NULL, NULL, 0)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    conn->probe_in_txn = !own_sync;
    if (own_sync) {
        if (!PQpipelineSync(conn->pg)) {
            return pga__err_lost(conn, PGA_ECONN);
        }
        conn->nsyncs++;
    }
    return PGA_OK;
}

static int grow_array(void *items, size_t n, size_t size)
{
    void **p = items;
    void *grown = realloc(*p, n * size);
    if (grown == NULL) {
        return PGA_ENOMEM;
    }
    *p = grown;
    return PGA_OK;
}

/* Keeps a copy of a statement sent by name with its own sync (outside any
 * transaction), the one kind that can safely go again when the server
 * lost the name: nothing of it ran, and nothing of the batch after it
 * ran either when it was the batch's last statement.  Without memory for
 * the copy it just cannot go again. */
static void keep_for_resend(pga_conn *conn, unsigned cmd, const char *sql,
                            const pga__params_view *v)
{
    pga__resend *r = &conn->resend;
    size_t n = (size_t)v->count;
    size_t sql_len = strlen(sql) + 1;
    size_t total = 0;
    r->cmd = -1;
    for (size_t i = 0; i < n; i++) {
        if (v->values[i] != NULL) {
            int binary = v->formats != NULL && v->formats[i] == 1;
            total += binary ? (size_t)v->lengths[i] : strlen(v->values[i]) + 1;
        }
    }
    char *text = pga__grow(r->sql, &r->sql_cap, sql_len, 1);
    if (text == NULL) {
        return;
    }
    r->sql = text;
    if (n > r->count_cap) {
        if (grow_array(&r->types, n, sizeof(*r->types)) != PGA_OK
            || grow_array(&r->lengths, n, sizeof(*r->lengths)) != PGA_OK
            || grow_array(&r->formats, n, sizeof(*r->formats)) != PGA_OK
            || grow_array(&r->offsets, n, sizeof(*r->offsets)) != PGA_OK
            || grow_array(&r->values, n, sizeof(*r->values)) != PGA_OK) {
            return;
        }
        r->count_cap = n;
    }
    char *data = pga__grow(r->data, &r->data_cap, total + 1, 1);
    if (data == NULL) {
        return;
    }
    r->data = data;
    memcpy(r->sql, sql, sql_len);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        int binary = v->formats != NULL && v->formats[i] == 1;
        r->types[i] = v->types != NULL ? v->types[i] : 0;
        r->formats[i] = binary;
        r->lengths[i] = v->lengths != NULL ? v->lengths[i] : 0;
        if (v->values[i] == NULL) {
            r->offsets[i] = -1;
            continue;
        }
        size_t len = binary ? (size_t)v->lengths[i] : strlen(v->values[i]) + 1;
        memcpy(r->data + at, v->values[i], len);
        r->offsets[i] = (long)at;
        at += len;
    }
    r->count = (int)n;
    r->cmd = (int)cmd;
}

/* The statement kept by keep_for_resend() met a lost name and is the
 * last of the batch: it goes again, unnamed, with a sync of its own, if
 * the server is outside a transaction block (1 when sent). */
static int resend(pga_conn *conn)
{
    pga__resend *r = &conn->resend;
    if (!r->due || r->cmd < 0 || PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        return 0;
    }
    for (int i = 0; i < r->count; i++) {
        r->values[i] = r->offsets[i] < 0 ? NULL : r->data + r->offsets[i];
    }
    pga__cmd *cmd = &conn->cmds[r->cmd];
    pga__outcome *o = &conn->outcomes[cmd->arg];
    /* The failure read for it is undone: the new answer is its outcome. */
    o->rc = PGA_OK;
    o->aborted = 0;
    pga__err_free(&o->err);
    o->err.rc = PGA_OK;
    o->err.msg[0] = '\0';
    o->err.sqlstate[0] = '\0';
    conn->batch_rc = r->rc_before;
    cmd->stmt = -1;
    cmd->parse = 0;
    cmd->probe = 0;
    conn->cmd_index = (size_t)r->cmd;
    r->due = 0;
    r->cmd = -1;
    if (!PQsendQueryParams(conn->pg, r->sql, r->count, r->types, r->values, r->lengths,
                           r->formats, 0)
        || !PQpipelineSync(conn->pg)) {
        pga__err_lost(conn, PGA_ECONN);
        return -1;
    }
    conn->nsyncs++;
    conn->round_trips++;
    conn->flushing = 1;
    return 1;
}

/* Whether a failure of cmd because of its name can be made good by
 * resend(): it is the statement kept, and the batch's last. */
static int resend_candidate(const pga_conn *conn, const pga__cmd *cmd)
{
    int at = (int)(cmd - conn->cmds);
    return conn->resend.cmd == at && at == (int)conn->ncmds - 1;
}

/* A DEALLOCATE ALL owed without a ROLLBACK of the engine's to carry it (a
 * COMMIT that failed, a ROLLBACK given as SQL, a DROP; prepare.c) leads the
 * next flight, with a sync of its own, so that it goes before any Parse and
 * its failure (in an aborted transaction of the caller's) touches nothing
 * after it.  Then the flight's controls. */
static int owed_deallocate(pga_conn *conn)
{
    if (pga__cmds_push(conn, PGA__CMD_DEALLOCATE, 0, NULL) != PGA_OK) {
        return pga__pipeline_controls(conn, 0);     /* the next flight, then */
    }
    pga__cmd dealloc = conn->cmds[conn->ncmds - 1];
    memmove(&conn->cmds[1], &conn->cmds[0], (conn->ncmds - 1) * sizeof(*conn->cmds));
    conn->cmds[0] = dealloc;
    pga__stmts_deallocating(conn);
    if (!PQsendQueryParams(conn->pg, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0)
        || !PQpipelineSync(conn->pg)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    conn->nsyncs++;
    return pga__pipeline_controls(conn, 1);
}

/* The extended protocol parses each statement on its own: a user statement
 * that does not parse cannot take a SAVEPOINT riding ahead of it down too,
 * as it would in one simple-protocol string (parsed whole before running). */
int pga__pipeline_open(pga_conn *conn)
{
    pga__cancel_settle(conn);
    if (!pga__conn_usable(conn) || !PQenterPipelineMode(conn->pg)) {
        return pga__err_lost(conn, PGA_ECONN);
    }
    conn->pipeline = 1;
    conn->batch_open = 1;
    if (conn->dealloc_due) {
        return owed_deallocate(conn);
    }
    return pga__pipeline_controls(conn, 0);
}

int pga__pipeline_controls(pga_conn *conn, size_t from)
{
    char one[PGA__CMD_TEXT_MAX];
    for (size_t i = from; i < conn->ncmds; i++) {
        pga__params_view none = {0, NULL, NULL, NULL, NULL};
        pga__cmd_text(conn, &conn->cmds[i], one, sizeof(one));
        if (send_statement(conn, &conn->cmds[i], one, &none) != PGA_OK) {
            return PGA_ECONN;
        }
    }
    return PGA_OK;
}

int pga__pipeline_add(pga_conn *conn, const char *sql, const pga_params *params)
{
    pga__params_view v = {0, NULL, NULL, NULL, NULL};
    unsigned index;
    if (params != NULL) {
        pga__params_view_of(params, &v);
    }
    if (new_outcome(conn, &index) != PGA_OK) {
        return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
    }
    pga__cmd *cmd = &conn->cmds[conn->ncmds - 1];
    if (send_statement(conn, cmd, sql, &v) != PGA_OK) {
        return PGA_ECONN;
    }
    int own_sync = autonomous(conn);
    if (own_sync) {
        if (!PQpipelineSync(conn->pg)) {
            return pga__err_lost(conn, PGA_ECONN);
        }
        conn->nsyncs++;
        if (cmd->stmt >= 0) {
            keep_for_resend(conn, (unsigned)(conn->ncmds - 1), sql, &v);
        }
    }
    if (cmd->probe && send_probe(conn, own_sync) != PGA_OK) {
        return PGA_ECONN;
    }
    return PGA_OK;
}

static void start_waiting(pga_conn *conn, int purpose)
{
    for (size_t i = 0; i < conn->ncmds; i++) {
        int kind = conn->cmds[i].kind;
        if (kind == PGA__CMD_COMMIT || kind == PGA__CMD_PREPARE) {
            conn->commit_sent = 1;
        }
    }
    /* What was owed is on its way; the completion settles what ran. */
    conn->npending = 0;
    conn->purpose = purpose;
    conn->batch_open = 0;
    conn->flight = 0;
    conn->op = PGA__OP_BATCH;
    conn->flushing = 1;
    conn->round_trips++;
    conn->cancel_requested = 0;
    conn->deadline = conn->timeout_ms > 0 ? pga__now_ms() + conn->timeout_ms : 0;
}

int pga__pipeline_close(pga_conn *conn, int purpose)
{
    conn->purpose = purpose;
    /* Inside a transaction one sync covers the batch, so a failure skips
     * everything after it instead of running it in an aborted transaction. */
    if (!autonomous(conn) || conn->nsyncs == 0) {
        if (!PQpipelineSync(conn->pg)) {
            return pga__batch_finished(conn, pga__err_lost(conn, PGA_ECONN), 1);
        }
        conn->nsyncs++;
    }
    start_waiting(conn, purpose);
    return PGA_OK;
}

int pga__batch_send(pga_conn *conn, int purpose, const char *sql, const pga_params *params)
{
    int rc;
    conn->purpose = purpose;
    if (!pga__conn_usable(conn)) {
        rc = pga__err_set(conn, PGA_ECONN, "%s", "connection to the server was lost");
    }
    else if (sql != NULL && conn->multi_command) {
        unsigned index;
        pga__cancel_settle(conn);
        rc = new_outcome(conn, &index) == PGA_OK
                 ? send_simple(conn, sql)
                 : pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        if (rc == PGA_OK) {
            start_waiting(conn, purpose);
            return PGA_OK;
        }
    }
    else {
        rc = pga__pipeline_open(conn);
        if (rc == PGA_OK && sql != NULL) {
            rc = pga__pipeline_add(conn, sql, params);
        }
        if (rc == PGA_OK) {
            return pga__pipeline_close(conn, purpose);
        }
    }
    /* Nothing of the batch is known to have been acted on; the completion
     * still runs so the stack learns what was lost. */
    return pga__batch_finished(conn, rc, !pga__conn_usable(conn));
}

static void control_succeeded(pga_conn *conn, const pga__cmd *cmd, const PGresult *res)
{
    int i;
    switch (cmd->kind) {
    case PGA__CMD_BEGIN:
        conn->txn_begun = 1;
        break;
    case PGA__CMD_SAVEPOINT:
        if ((i = pga__sp_find_id(conn, cmd->arg)) >= 0) {
            conn->sps[i].sent = 1;
        }
        break;
    case PGA__CMD_COMMIT:
    case PGA__CMD_PREPARE:
        /* A COMMIT (or PREPARE) of an aborted transaction succeeds with the
         * tag ROLLBACK: that is a failure, never a commit.  Its reason is
         * the error that aborted the transaction, when the engine saw it. */
        if (strcmp(PQcmdStatus((PGresult *)res), "ROLLBACK") == 0 && conn->batch_rc == PGA_OK) {
            if (conn->has_abort_cause) {
                pga__err_copy(&conn->err, &conn->abort_cause);
                conn->err.rc = PGA_EROLLEDBACK;
                conn->batch_rc = PGA_EROLLEDBACK;
            }
            else {
                conn->batch_rc = pga__err_set(conn, PGA_EROLLEDBACK, "%s",
                                              pga_strerror(PGA_EROLLEDBACK));
            }
        }
        break;
    default:
        break;
    }
}

/* A pipelined flight counts its BEGIN and SAVEPOINTs as made once sent
 * (pipeline.c); one that failed or was skipped is not. */
static void control_undone(pga_conn *conn, const pga__cmd *cmd)
{
    int i;
    if (cmd->kind == PGA__CMD_BEGIN) {
        conn->txn_begun = 0;
    }
    else if (cmd->kind == PGA__CMD_SAVEPOINT && (i = pga__sp_find_id(conn, cmd->arg)) >= 0) {
        conn->sps[i].sent = 0;
    }
    else if (cmd->kind == PGA__CMD_DEALLOCATE) {
        pga__stmts_dealloc_undone(conn);
    }
}

static void statement_failed(pga_conn *conn, const pga__cmd *cmd, const PGresult *res)
{
    if (cmd != NULL && cmd->kind == PGA__CMD_DEALLOCATE) {
        /* Housekeeping, not the caller's news: it goes again. */
        control_undone(conn, cmd);
        return;
    }
    if (cmd != NULL && cmd->stmt >= 0
        && pga__stmt_failed(conn, cmd->stmt, cmd->parse, PQresultErrorField(res, PG_DIAG_SQLSTATE),
                            PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
        && resend_candidate(conn, cmd)) {
        /* Nothing of it ran: it goes again unnamed once the batch's
         * answers are in (resend()), which then undoes what follows. */
        conn->resend.due = 1;
        conn->resend.rc_before = conn->batch_rc;
    }
    if (cmd != NULL && cmd->kind == PGA__CMD_USER) {
        pga__outcome *o = &conn->outcomes[cmd->arg];
        if (o->rc == PGA_ENOTSUPPORTED) {
            return;     /* the refused COPY is the news, not what followed */
        }
        pga__err_fill(&o->err, res);
        o->err.seq = ++conn->err_seq;
        o->rc = PGA_ESERVER;
        if (conn->batch_rc == PGA_OK) {
            pga__err_copy(&conn->err, &o->err);
            conn->batch_rc = PGA_ESERVER;
        }
        return;
    }
    if (cmd != NULL) {
        control_undone(conn, cmd);
    }
    if (conn->batch_rc == PGA_OK) {
        conn->batch_rc = pga__err_server(conn, res);
    }
}

/* Several commands in one string each give a result, and each is the
 * caller's (psycopg's nextset(), pg's array of results): none is dropped. */
static void keep_result(pga_conn *conn, pga__outcome *o, PGresult *res)
{
    if (o->res == NULL && o->nmore == 0) {
        o->res = res;
        return;
    }
    PGresult **more = pga__grow(o->more, &o->more_cap, o->nmore + 1, sizeof(*more));
    if (more == NULL) {
        PQclear(res);
        if (conn->batch_rc == PGA_OK) {
            conn->batch_rc = pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
            o->rc = PGA_ENOMEM;
            pga__err_copy(&o->err, &conn->err);
        }
        return;
    }
    o->more = more;
    o->more[o->nmore++] = res;
}

/* COPY needs a data channel neither binding offers: the statement fails
 * with PGA_ENOTSUPPORTED (psycopg's NotSupportedError for COPY through
 * execute()), the first news of its batch. */
static void copy_refused(pga_conn *conn, const pga__cmd *cmd, const char *why)
{
    if (conn->batch_rc != PGA_OK) {
        return;
    }
    conn->batch_rc = pga__err_set(conn, PGA_ENOTSUPPORTED, "%s", why);
    if (cmd != NULL && cmd->kind == PGA__CMD_USER) {
        pga__err_copy(&conn->outcomes[cmd->arg].err, &conn->err);
        conn->outcomes[cmd->arg].rc = PGA_ENOTSUPPORTED;
    }
}

/* The answer to a statement's Parse (prepare.c): a failure is the
 * statement's own, which the server then skips. */
static void on_parse_result(pga_conn *conn, pga__cmd *cmd, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    pga__stmt_parsed(conn, cmd->stmt, st == PGRES_COMMAND_OK);
    if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED) {
        statement_failed(conn, cmd, res);
    }
    PQclear(res);
}

static void note_tag(pga_conn *conn, const PGresult *res)
{
    const char *tag = PQcmdStatus((PGresult *)res);
    if (conn->nstmts == 0) {
        return;
    }
    /* DISCARD ALL and DEALLOCATE drop prepared statements, ours too.  A
     * DROP or ALTER on this session may change what a statement returns (a
     * table made again with other column types: 0A000 "cached plan must not
     * change result type") without any rollback, so the texts count again
     * and the server drops them, as after a rollback (psycopg does so on
     * DROP as well). */
    if (strcmp(tag, "DISCARD ALL") == 0 || strcmp(tag, "DEALLOCATE ALL") == 0) {
        pga__stmts_reset(conn);
    }
    else if (strncmp(tag, "DEALLOCATE", 10) == 0) {
        pga__stmts_forget(conn);    /* one of them: the user's others stay */
    }
    else if (strncmp(tag, "DROP ", 5) == 0 || strncmp(tag, "ALTER ", 6) == 0) {
        pga__stmts_clear(conn);
    }
}

/* The answer to SELECT pg_backend_pid() (send_probe()). */
static void on_probe_result(pga_conn *conn, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    int answered = st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1;
    pga__stmt_pid(conn, answered ? PQgetvalue(res, 0, 0) : NULL);
    if (st == PGRES_FATAL_ERROR && conn->probe_in_txn && conn->batch_rc == PGA_OK) {
        /* It cannot fail but for a cancel or the server's end; if it did,
         * it failed the caller's transaction, which must not go unsaid. */
        conn->batch_rc = pga__err_server(conn, res);
    }
    PQclear(res);
}

static void on_result(pga_conn *conn, PGresult *res)
{
    pga__cmd *cmd = conn->cmd_index < conn->ncmds ? &conn->cmds[conn->cmd_index] : NULL;
    if (cmd != NULL && cmd->probe == 2) {
        on_probe_result(conn, res);
        return;
    }
    if (cmd != NULL && cmd->parse) {
        on_parse_result(conn, cmd, res);
        return;
    }
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_SINGLE_TUPLE:
        if (cmd != NULL && cmd->kind == PGA__CMD_USER) {
            if (conn->stream != NULL && pga__stream_result(conn, res)) {
                return;     /* a row, copied into the stream's batch */
            }
            /* The order a SQL or Postgres style date was written in; the
             * server reports DateStyle whenever it changes. */
            const char *style = PQparameterStatus(conn->pg, "DateStyle");
            conn->outcomes[cmd->arg].day_first = style != NULL && strstr(style, "DMY") != NULL;
            note_tag(conn, res);
            keep_result(conn, &conn->outcomes[cmd->arg], res);
            return;
        }
        if (cmd != NULL) {
            control_succeeded(conn, cmd, res);
        }
        break;
    case PGRES_COPY_IN:
        /* Ending the copy with a message makes the server fail the command
         * as query_canceled; nobody cancelled anything, so the failure is
         * reported as the refusal it is. */
        PQputCopyEnd(conn->pg, "COPY FROM STDIN is not supported by pgatomic");
        copy_refused(conn, cmd, "COPY FROM STDIN is not supported by pgatomic");
        break;
    case PGRES_COPY_OUT:
        conn->copy_out = 1;
        copy_refused(conn, cmd, "COPY TO STDOUT is not supported by pgatomic");
        break;
    case PGRES_PIPELINE_ABORTED:
        if (cmd != NULL && cmd->kind == PGA__CMD_USER) {
            conn->outcomes[cmd->arg].aborted = 1;
        }
        else if (cmd != NULL) {
            control_undone(conn, cmd);
        }
        break;
    default:
        statement_failed(conn, cmd, res);
        break;
    }
    PQclear(res);
}

static int finish(pga_conn *conn)
{
    pga__stmts_batch_over(conn);
    int lost = !pga__conn_usable(conn);
    int rc = conn->batch_rc;
    conn->op = PGA__OP_NONE;
    conn->flushing = 0;
    conn->bp_awaiting = 0;      /* a lost session answers nothing to judge */
    conn->deadline = 0;
    if (conn->pipeline && !lost && !PQexitPipelineMode(conn->pg)) {
        /* Results left unread would be handed to the next batch as its
         * own: refuse to go on rather than misattribute them. */
        PQfinish(conn->pg);
        conn->pg = NULL;
        lost = 1;
    }
    conn->pipeline = 0;
    if (conn->stream != NULL) {
        pga__stream_finished(conn);
    }
    if (lost) {
        int ending = conn->purpose == PGA__P_COMMIT || conn->purpose == PGA__P_PREPARE;
        rc = pga__err_lost(conn, (ending && conn->commit_sent) ? PGA_ECOMMITUNKNOWN : PGA_ECONN);
    }
    return pga__batch_finished(conn, rc, lost);
}

static int batch_step(pga_conn *conn, int ready);

static int read_results(pga_conn *conn)
{
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
        if (conn->stream != NULL) {
            pga__stream_prepare(conn);
        }
        if (PQisBusy(conn->pg)) {
            return PQstatus(conn->pg) == CONNECTION_BAD ? finish(conn) : PGA_WANT_READ;
        }
        PGresult *res = PQgetResult(conn->pg);
        if (conn->bp_awaiting && res != NULL) {
            pga__busy_poll_answered(conn);
        }
        if (conn->pipeline) {
            if (res == NULL) {
                /* Each command's results end with NULL; a Parse's too. */
                pga__cmd *cmd = conn->cmd_index < conn->ncmds ? &conn->cmds[conn->cmd_index]
                                                               : NULL;
                if (cmd != NULL && cmd->parse) {
                    cmd->parse = 0;
                }
                else if (cmd != NULL && cmd->probe == 1) {
                    cmd->probe = 2;     /* the probe's answer comes next */
                }
                else {
                    if (cmd != NULL) {
                        cmd->probe = 0;
                    }
                    conn->cmd_index++;
                }
            }
            else if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                if (++conn->syncs_seen >= conn->nsyncs) {
                    int again = resend(conn);
                    if (again == 0) {
                        return finish(conn);
                    }
                    if (again < 0 || PQflush(conn->pg) < 0) {
                        return finish(conn);
                    }
                    return batch_step(conn, 0);
                }
            }
            else {
                on_result(conn, res);
                if (conn->stream != NULL && pga__stream_paused(conn)) {
                    return PGA_OK;      /* a full batch: the caller takes it */
                }
            }
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
        pga__busy_poll_sent(conn);
    }
    /* A stream's next batch starts with the rows libpq already holds:
     * reading the socket first would let its buffer grow batch by batch. */
    if (conn->stream != NULL && pga__stream_resuming(conn)) {
        return read_results(conn);
    }
    if (!PQconsumeInput(conn->pg)) {
        return finish(conn);
    }
    return read_results(conn);
}

static int deadline_passed(const pga_conn *conn)
{
    return conn->deadline != 0 && pga__now_ms() >= conn->deadline;
}

/* The batch's deadline passed: the first time, ask the server to cancel
 * and give it a grace period; the second, stop waiting for a server that
 * answers nothing and close the session, as a lost connection.  Whatever
 * already arrived is read first: a driver that steps late (a busy event
 * loop) must not close a session whose answer is waiting in the socket. */
static int batch_deadline(pga_conn *conn, int ready)
{
    if (!conn->cancel_requested) {
        conn->cancel_requested = 1;
        conn->deadline = pga__now_ms() + PGA__CANCEL_GRACE_MS;
        pga__cancel_send(conn);
        return batch_step(conn, ready);
    }
    int rc = batch_step(conn, ready | pga__poll(PQsocket(conn->pg), PGA_WANT_READ, 0));
    if (rc <= 0 || conn->op != PGA__OP_BATCH) {
        return rc;
    }
    pga__err_set(conn, PGA_ECONN,
                 "the server did not answer within the %d ms timeout, nor %d ms after a "
                 "cancel request: connection closed",
                 conn->timeout_ms, PGA__CANCEL_GRACE_MS);
    conn->timed_out = 1;
    PQfinish(conn->pg);
    conn->pg = NULL;
    return finish(conn);
}

int pga_conn_step(pga_conn *conn, int ready)
{
    pga__cancel_step(conn);
    for (;;) {
        int rc;
        switch (conn->op) {
        case PGA__OP_CONNECT:
            if (deadline_passed(conn)) {
                return pga__connect_deadline(conn);
            }
            return pga__connect_step(conn);
        case PGA__OP_BATCH:
            rc = deadline_passed(conn) ? batch_deadline(conn, ready) : batch_step(conn, ready);
            pga__notify_collect(conn);
            break;
        default:
            return PGA_OK;
        }
        /* A completion may start a follow-up batch (ROLLBACK after a
         * failed COMMIT, a script after its prelude); it runs in the same
         * operation. */
        if (rc != PGA_OK || conn->op != PGA__OP_BATCH) {
            return rc;
        }
        ready = 0;
    }
}

int pga_conn_timeout_ms(const pga_conn *conn)
{
    int64_t next = conn->op != PGA__OP_NONE ? conn->deadline : 0;
    int64_t now = pga__now_ms();
    if (conn->op != PGA__OP_NONE && pga__cancel_pending(conn)
        && (next == 0 || next > now + PGA__CANCEL_TICK_MS)) {
        next = now + PGA__CANCEL_TICK_MS;
    }
    if (next == 0) {
        return -1;
    }
    return next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

int pga_conn_set_timeout(pga_conn *conn, int ms)
{
    if (ms < 0) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "a timeout cannot be negative");
    }
    conn->timeout_ms = ms;
    return PGA_OK;
}

int pga_conn_get_timeout(const pga_conn *conn)
{
    return conn->timeout_ms;
}

int pga_batch_size(const pga_conn *conn)
{
    return (int)conn->noutcomes;
}

int pga_batch_outcome(pga_conn *conn, int index, pga_result **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (index < 0 || (size_t)index >= conn->noutcomes || conn->op != PGA__OP_NONE
        || conn->batch_open) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no such statement in the finished batch");
    }
    pga__outcome *o = &conn->outcomes[index];
    if (o->rc != PGA_OK) {
        pga__err_copy(&conn->err, &o->err);
        conn->err.rc = o->rc;
        return o->rc;
    }
    if (out != NULL && (o->res != NULL || o->tag != NULL)) {
        *out = o->res != NULL ? pga__result_wrap(o->res, o->day_first) : pga__result_tag(o->tag);
        if (*out == NULL) {
            return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
        o->res = NULL;
        o->tag = NULL;
    }
    return PGA_OK;
}

pga_result *pga_conn_take_result(pga_conn *conn)
{
    pga_result *res = NULL;
    if (conn->stream != NULL) {
        return conn->op == PGA__OP_NONE ? pga__stream_take(conn) : NULL;
    }
    if (conn->noutcomes == 0 || conn->op != PGA__OP_NONE || conn->batch_open
        || conn->outcomes[0].rc != PGA_OK) {
        return NULL;
    }
    pga__outcome *o = &conn->outcomes[0];
    if (o->res != NULL || o->tag != NULL) {
        pga_batch_outcome(conn, 0, &res);
    }
    else if (o->more_taken < o->nmore) {
        res = pga__result_wrap(o->more[o->more_taken], o->day_first);
        if (res != NULL) {
            o->more[o->more_taken++] = NULL;
        }
        else {
            pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
    }
    return res;
}
