/* atomic.c -- the block stack, savepoint names, the rollback flag, the
 * durable rule, manual mode and the savepoint API, and what each finished
 * batch means for them.  SQL text is plan.c's; sending is step.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int send_script(pga_conn *conn);

static int fail(pga_conn *conn, int rc)
{
    return pga__err_set(conn, rc, "%s", pga_strerror(rc));
}

/* The guard every starter opens with. */
static int check_idle(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE || conn->batch_open) {
        return fail(conn, PGA_EBUSY);
    }
    return PGA_OK;
}

static int check_session(pga_conn *conn)
{
    if (conn->pg == NULL) {
        return fail(conn, PGA_ECLOSED);
    }
    if (!pga__conn_usable(conn)) {
        return pga__err_set(conn, PGA_ECONN, "%s", "connection to the server was lost");
    }
    return PGA_OK;
}

void pga__txn_ended(pga_conn *conn, int committed)
{
    conn->txn_begun = 0;
    conn->npending = 0;
    conn->nmanual = 0;
    conn->needs_rollback = 0;
    conn->has_cause = 0;
    conn->txn_lost = 0;
    pga__hooks_settle_depth(conn, 0, committed ? PGA_HOOK_RUN : PGA_HOOK_DROP);
}

/* Django's rule: an error inside a block breaks it until the block that
 * can undo it exits.  The error is kept so the guard can name its cause. */
static void mark_broken(pga_conn *conn)
{
    conn->needs_rollback = 1;
    pga__err_copy(&conn->cause, &conn->err);
    conn->has_cause = 1;
}

/* The transaction ended without the engine: a raw COMMIT or ROLLBACK, or
 * a lost session.  Savepoints are gone with it, so blocks still open have
 * nothing to undo; they stay broken until the outermost one exits. */
static void txn_vanished(pga_conn *conn)
{
    conn->txn_begun = 0;
    conn->npending = 0;
    conn->nmanual = 0;
    for (int i = 0; i < conn->depth; i++) {
        conn->blocks[i].sp_state = PGA__SP_UNSENT;
    }
    if (conn->depth > 0) {
        conn->txn_lost = 1;
        conn->needs_rollback = 1;
    }
    pga__hooks_settle_depth(conn, 0, PGA_HOOK_DROP);
}

static int start_cleanup(pga_conn *conn, int rc)
{
    /* Keep the COMMIT's error: it is the news, the ROLLBACK is hygiene. */
    pga__err_copy(&conn->cause, &conn->err);
    conn->saved_rc = rc;
    pga__batch_reset(conn);
    if (pga__cmds_push(conn, PGA__CMD_ROLLBACK, 0, 0) != PGA_OK) {
        pga__txn_ended(conn, 0);
        return rc;
    }
    return pga__batch_send(conn, PGA__P_CLEANUP, NULL, NULL);
}

static void manual_drop_from(pga_conn *conn, unsigned sp_id)
{
    size_t kept = 0;
    for (size_t i = 0; i < conn->nmanual; i++) {
        if (conn->manual[i].sp_id < sp_id) {
            conn->manual[kept++] = conn->manual[i];
        }
    }
    conn->nmanual = kept;
}

/* Statements a failure skipped, or a lost session cut off, get an outcome
 * that says so; those that finished keep theirs. */
static void settle_outcomes(pga_conn *conn, int lost)
{
    for (size_t i = 0; i < conn->noutcomes; i++) {
        pga__outcome *o = &conn->outcomes[i];
        if (o->rc != PGA_OK || o->res != NULL) {
            continue;
        }
        pga__err_copy(&o->err, &conn->err);
        o->rc = lost ? conn->err.rc : PGA_EBROKEN;
        o->err.rc = o->rc;
    }
}

static void blame_last_success(pga_conn *conn)
{
    for (size_t i = conn->noutcomes; i-- > 0;) {
        pga__outcome *o = &conn->outcomes[i];
        if (o->rc == PGA_OK) {
            PQclear(o->res);
            o->res = NULL;
            pga__err_copy(&o->err, &conn->err);
            o->rc = PGA_ETXNENDED;
            return;
        }
    }
}

int pga__batch_finished(pga_conn *conn, int rc, int lost)
{
    int idle_after = !lost && PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
    if (conn->purpose == PGA__P_PRELUDE) {
        if (rc == PGA_OK) {
            return send_script(conn);
        }
        conn->purpose = PGA__P_QUERY;
    }
    switch (conn->purpose) {
    case PGA__P_QUERY:
        settle_outcomes(conn, lost);
        if (lost) {
            if (conn->depth > 0) {
                mark_broken(conn);
            }
            txn_vanished(conn);
            return rc;
        }
        if (conn->txn_begun && idle_after) {
            if (conn->depth == 0) {
                /* Manual mode: a raw COMMIT ends the manual transaction,
                 * which is what the user asked for. */
                conn->txn_begun = 0;
                conn->npending = 0;
                conn->nmanual = 0;
                pga__hooks_settle_depth(conn, 0, rc == PGA_OK ? PGA_HOOK_RUN : PGA_HOOK_DROP);
            }
            else {
                if (rc == PGA_OK) {
                    rc = fail(conn, PGA_ETXNENDED);
                    blame_last_success(conn);
                }
                txn_vanished(conn);
                conn->has_cause = 0;
                return rc;
            }
        }
        if (rc != PGA_OK && conn->depth > 0) {
            mark_broken(conn);
        }
        return rc;

    case PGA__P_COMMIT:
        if (rc == PGA_OK) {
            pga__txn_ended(conn, 1);
            return PGA_OK;
        }
        if (!lost && !idle_after) {
            /* A RELEASE riding with COMMIT failed, so COMMIT never ran and
             * the transaction is still open, aborted: roll it back. */
            return start_cleanup(conn, rc);
        }
        pga__txn_ended(conn, 0);
        return rc;

    case PGA__P_CLEANUP:
        pga__err_copy(&conn->err, &conn->cause);
        pga__txn_ended(conn, 0);
        return conn->saved_rc;

    case PGA__P_ROLLBACK:
        pga__txn_ended(conn, 0);
        /* On a dead session the server has rolled back already. */
        return (rc == PGA_ECONN) ? PGA_OK : rc;

    case PGA__P_SP_CREATE:
    case PGA__P_SP_RELEASE:
    case PGA__P_SP_ROLLBACK:
        if (rc != PGA_OK) {
            if (lost) {
                txn_vanished(conn);
            }
            else if (conn->depth > 0) {
                mark_broken(conn);
            }
            return rc;
        }
        if (conn->purpose == PGA__P_SP_CREATE) {
            pga__manual_sp *m = pga__grow(conn->manual, &conn->manual_cap, conn->nmanual + 1,
                                          sizeof(*m));
            if (m == NULL) {
                return fail(conn, PGA_ENOMEM);
            }
            conn->manual = m;
            conn->manual[conn->nmanual++] = (pga__manual_sp){conn->call_sp, conn->hook_seq};
        }
        else if (conn->purpose == PGA__P_SP_RELEASE) {
            /* RELEASE also destroys every savepoint made after it. */
            manual_drop_from(conn, conn->call_sp);
        }
        else {
            for (size_t i = 0; i < conn->nmanual; i++) {
                if (conn->manual[i].sp_id == conn->call_sp) {
                    pga__hooks_settle_seq(conn, conn->manual[i].hook_seq, PGA_HOOK_DROP);
                    break;
                }
            }
            manual_drop_from(conn, conn->call_sp + 1);
            pga__pending_drop_newer(conn, conn->call_sp);
            /* The transaction is healthy again: whatever broke it happened
             * after the savepoint and is undone. */
            conn->needs_rollback = 0;
            conn->has_cause = 0;
        }
        return PGA_OK;

    default:
        return rc;
    }
}

/* ---------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------- */

static int owes_more_than_begin(const pga_conn *conn)
{
    for (size_t i = 0; i < conn->ncmds; i++) {
        if (conn->cmds[i].kind != PGA__CMD_BEGIN) {
            return 1;
        }
    }
    return 0;
}

static int send_script(pga_conn *conn)
{
    char *script = conn->script;
    conn->script = NULL;
    pga__batch_reset(conn);
    int rc = pga__plan_controls(conn);
    if (rc == PGA_OK) {
        conn->multi_command = 1;
        rc = pga__batch_send(conn, PGA__P_QUERY, script, NULL);
    }
    else {
        rc = fail(conn, PGA_ENOMEM);
    }
    free(script);
    return rc;
}

/* What every statement needs before it may be sent. */
static int statement_guard(pga_conn *conn)
{
    if (conn->depth > 0 && conn->needs_rollback) {
        /* The guard: the server would only answer "current transaction is
         * aborted", and a round trip to learn that is a waste. */
        if (conn->has_cause) {
            pga__err_copy(&conn->err, &conn->cause);
        }
        else {
            pga__err_set(conn, PGA_EBROKEN, "%s", pga_strerror(PGA_EBROKEN));
        }
        conn->err.rc = PGA_EBROKEN;
        return PGA_EBROKEN;
    }
    return check_session(conn);
}

static int check_params(pga_conn *conn, const char *sql, const pga_params *params, int *commands)
{
    if (sql == NULL) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "the SQL text is NULL");
    }
    int want = pga__sql_scan(sql, commands);
    int have = params ? pga_params_count(params) : 0;
    if (want != have) {
        return pga__err_set(conn, PGA_EPARAMCOUNT,
                            "the query has %d placeholder%s but %d parameter%s passed",
                            want, want == 1 ? "" : "s", have, have == 1 ? " was" : "s were");
    }
    if (have > 0) {
        /* The extended protocol takes one command per statement. */
        *commands = 1;
    }
    return PGA_OK;
}

/* What every batch of statements starts with: the guard, a clean batch,
 * and the control statements the block stack owes. */
static int open_batch(pga_conn *conn)
{
    int rc = statement_guard(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    return pga__plan_controls(conn) == PGA_OK ? PGA_OK : fail(conn, PGA_ENOMEM);
}

int pga_query_start(pga_conn *conn, const char *sql, const pga_params *params)
{
    int commands = 0;
    int rc = check_idle(conn);
    if (rc == PGA_OK) {
        rc = check_params(conn, sql, params, &commands);
    }
    if (rc == PGA_OK) {
        rc = open_batch(conn);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    conn->multi_command = commands > 1;
    if (conn->multi_command && owes_more_than_begin(conn)) {
        /* A script is parsed whole before any of it runs, so a syntax error
         * in it would also undo a SAVEPOINT sharing its string.  Scripts in
         * nested blocks are rare enough to pay one round trip for that. */
        conn->script = strdup(sql);
        if (conn->script == NULL) {
            return fail(conn, PGA_ENOMEM);
        }
        conn->multi_command = 0;
        return pga__batch_send(conn, PGA__P_PRELUDE, NULL, NULL);
    }
    return pga__batch_send(conn, PGA__P_QUERY, sql, params);
}

int pga_batch_begin(pga_conn *conn)
{
    int rc = check_idle(conn);
    if (rc == PGA_OK) {
        rc = open_batch(conn);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    rc = pga__pipeline_open(conn);
    if (rc != PGA_OK) {
        conn->purpose = PGA__P_QUERY;
        return pga__batch_finished(conn, rc, 1);
    }
    return PGA_OK;
}

int pga_batch_add(pga_conn *conn, const char *sql, const pga_params *params)
{
    int commands = 0;
    pga__err_clear(conn);
    if (!conn->batch_open) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no batch is open");
    }
    int rc = check_params(conn, sql, params, &commands);
    if (rc != PGA_OK) {
        return rc;
    }
    if (commands > 1) {
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a script of several commands must run on its own");
    }
    return pga__pipeline_add(conn, sql, params);
}

int pga_batch_send(pga_conn *conn)
{
    if (!conn->batch_open) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no batch is open");
    }
    return pga__pipeline_close(conn, PGA__P_QUERY);
}

/* ---------------------------------------------------------------------
 * Atomic blocks
 * ------------------------------------------------------------------- */

int pga_atomic_enter(pga_conn *conn, unsigned flags)
{
    int rc = check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if ((flags & PGA_DURABLE) && conn->depth > 0) {
        return fail(conn, PGA_EDURABLE);
    }
    if ((flags & PGA_TXN_OPTIONS) && (conn->depth > 0 || !conn->autocommit)) {
        return fail(conn, PGA_EOPTIONS);
    }
    if (conn->depth == 0 && conn->pg == NULL) {
        return fail(conn, PGA_ECLOSED);
    }
    pga__block *blocks = pga__grow(conn->blocks, &conn->blocks_cap, (size_t)conn->depth + 1,
                                   sizeof(*blocks));
    if (blocks == NULL) {
        return fail(conn, PGA_ENOMEM);
    }
    conn->blocks = blocks;
    int is_txn = conn->depth == 0 && conn->autocommit;
    if (is_txn) {
        conn->needs_rollback = 0;
        conn->has_cause = 0;
        conn->txn_lost = 0;
    }
    /* Django: no savepoint inside a block already marked for rollback; the
     * flag then travels up to a block that can undo. */
    int with_sp = !is_txn && (flags & PGA_SAVEPOINT) && !conn->needs_rollback;
    conn->blocks[conn->depth++] = (pga__block){
        .flags = flags,
        .sp_id = with_sp ? conn->next_sp++ : 0,
        .sp_state = PGA__SP_UNSENT,
    };
    return PGA_OK;
}

static int exit_transaction(pga_conn *conn, int rollback)
{
    if (conn->txn_lost) {
        /* Already reported at the statement that lost it. */
        pga__txn_ended(conn, 0);
        return PGA_OK;
    }
    if (!conn->txn_begun) {
        /* Nothing reached the server: nothing to send, and the hooks of
         * an empty transaction run as if it committed. */
        pga__txn_ended(conn, !rollback);
        return PGA_OK;
    }
    /* A server that already closed the session (terminated backend, crash)
     * has usually said so on the socket: reading it now turns an "outcome
     * unknown" COMMIT into a plain, certain "lost, rolled back". */
    pga__read_idle(conn);
    if (!pga__conn_usable(conn)) {
        pga__txn_ended(conn, 0);
        if (rollback) {
            return PGA_OK;
        }
        return pga__err_lost(conn, PGA_ECONN);
    }
    pga__batch_reset(conn);
    if (rollback) {
        /* ROLLBACK undoes whatever RELEASE was still owed. */
        conn->npending = 0;
        if (pga__cmds_push(conn, PGA__CMD_ROLLBACK, 0, 0) != PGA_OK) {
            return fail(conn, PGA_ENOMEM);
        }
        return pga__batch_send(conn, PGA__P_ROLLBACK, NULL, NULL);
    }
    if (pga__plan_controls(conn) != PGA_OK
        || pga__cmds_push(conn, PGA__CMD_COMMIT, 0, 0) != PGA_OK) {
        return fail(conn, PGA_ENOMEM);
    }
    return pga__batch_send(conn, PGA__P_COMMIT, NULL, NULL);
}

static int exit_savepoint(pga_conn *conn, const pga__block *b, int rollback)
{
    if (!rollback) {
        if (b->sp_state == PGA__SP_DONE
            && pga__pending_push(conn, PGA__CMD_RELEASE, b->sp_id) != PGA_OK) {
            conn->needs_rollback = 1;
            return fail(conn, PGA_ENOMEM);
        }
        return PGA_OK;
    }
    pga__hooks_settle_depth(conn, conn->depth + 1, PGA_HOOK_DROP);
    manual_drop_from(conn, b->sp_id);
    pga__pending_drop_newer(conn, b->sp_id);
    if (b->sp_state == PGA__SP_FAILED) {
        /* The SAVEPOINT itself failed, so there is nothing to roll back to:
         * the flag goes up to the next block that can undo. */
        conn->needs_rollback = 1;
        return PGA_OK;
    }
    if (b->sp_state == PGA__SP_DONE
        && (pga__pending_push(conn, PGA__CMD_ROLLBACK_TO, b->sp_id) != PGA_OK
            || pga__pending_push(conn, PGA__CMD_RELEASE, b->sp_id) != PGA_OK)) {
        conn->needs_rollback = 1;
        return fail(conn, PGA_ENOMEM);
    }
    conn->needs_rollback = 0;
    conn->has_cause = 0;
    return PGA_OK;
}

static int exit_nested(pga_conn *conn, const pga__block *b, int failed, int rollback)
{
    if (conn->txn_lost) {
        if (conn->depth == 0) {
            /* Manual mode: the last block is gone; the session is usable. */
            conn->txn_lost = 0;
            conn->needs_rollback = 0;
        }
        return PGA_OK;
    }
    if (b->sp_id == 0) {
        if (failed) {
            conn->needs_rollback = 1;
        }
        return PGA_OK;
    }
    return exit_savepoint(conn, b, rollback);
}

int pga_atomic_exit_start(pga_conn *conn, int failed)
{
    int rc = check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth == 0) {
        return fail(conn, PGA_ENOATOMIC);
    }
    pga__block b = conn->blocks[--conn->depth];
    int rollback = failed || conn->needs_rollback;
    if (conn->depth == 0 && conn->autocommit) {
        return exit_transaction(conn, rollback);
    }
    rc = exit_nested(conn, &b, failed, rollback);
    /* Released, merged or rolled back (its own hooks already dropped): what
     * the block still holds now waits on the enclosing one. */
    pga__hooks_reparent(conn, conn->depth);
    return rc;
}

int pga_atomic_depth(const pga_conn *conn)
{
    return conn->depth;
}

int pga_atomic_get_rollback(const pga_conn *conn)
{
    if (conn->depth == 0) {
        return PGA_ENOATOMIC;
    }
    return conn->needs_rollback;
}

int pga_atomic_set_rollback(pga_conn *conn, int rollback)
{
    pga__err_clear(conn);
    if (conn->depth == 0) {
        return fail(conn, PGA_ENOATOMIC);
    }
    conn->needs_rollback = rollback != 0;
    conn->has_cause = 0;
    return PGA_OK;
}

const char *pga_atomic_savepoint_name(const pga_conn *conn, int depth)
{
    if (depth < 1 || depth > conn->depth || conn->blocks[depth - 1].sp_id == 0) {
        return NULL;
    }
    /* Borrowed until the next call, like every string the core returns. */
    pga_conn *c = (pga_conn *)conn;
    snprintf(c->name_buf, sizeof(c->name_buf), "pga_s%u", conn->blocks[depth - 1].sp_id);
    return c->name_buf;
}

/* ---------------------------------------------------------------------
 * Manual mode
 * ------------------------------------------------------------------- */

int pga_conn_set_autocommit(pga_conn *conn, int on)
{
    int rc = check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return fail(conn, PGA_EINATOMIC);
    }
    on = on != 0;
    if (on && !conn->autocommit && conn->txn_begun) {
        return fail(conn, PGA_EINTRANS);
    }
    if (on && !conn->autocommit) {
        pga__txn_ended(conn, 1);
    }
    conn->autocommit = on;
    return PGA_OK;
}

int pga_conn_get_autocommit(const pga_conn *conn)
{
    return conn->autocommit;
}

int pga_conn_in_manual_txn(const pga_conn *conn)
{
    return !conn->autocommit && conn->txn_begun;
}

static int end_manual(pga_conn *conn, int commit)
{
    int rc = check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return fail(conn, PGA_EINATOMIC);
    }
    if (conn->autocommit) {
        return PGA_OK;
    }
    if (!conn->txn_begun) {
        pga__txn_ended(conn, commit);
        return PGA_OK;
    }
    return exit_transaction(conn, !commit);
}

int pga_commit_start(pga_conn *conn)
{
    return end_manual(conn, 1);
}

int pga_rollback_start(pga_conn *conn)
{
    return end_manual(conn, 0);
}

/* ---------------------------------------------------------------------
 * Manual savepoints
 * ------------------------------------------------------------------- */

/* Only names this core made are accepted, so no user text ever reaches
 * the SQL of a control statement. */
static int parse_name(const pga_conn *conn, const char *name, unsigned *id)
{
    if (name == NULL || strncmp(name, "pga_s", 5) != 0 || name[5] < '1' || name[5] > '9') {
        return 0;
    }
    unsigned long v = 0;
    for (const char *p = name + 5; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000UL) {
            return 0;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    for (size_t i = 0; i < conn->nmanual; i++) {
        if (conn->manual[i].sp_id == v) {
            *id = (unsigned)v;
            return 1;
        }
    }
    return 0;
}

static int savepoint_call(pga_conn *conn, int purpose, int kind, unsigned id)
{
    int rc = check_session(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    conn->call_sp = id;
    if (pga__plan_controls(conn) != PGA_OK || pga__cmds_push(conn, kind, id, 0) != PGA_OK) {
        return fail(conn, PGA_ENOMEM);
    }
    return pga__batch_send(conn, purpose, NULL, NULL);
}

int pga_savepoint_start(pga_conn *conn, const char **name)
{
    *name = NULL;
    int rc = check_idle(conn);
    if (rc != PGA_OK || !pga__txn_needed(conn)) {
        return rc;
    }
    unsigned id = conn->next_sp++;
    snprintf(conn->name_buf, sizeof(conn->name_buf), "pga_s%u", id);
    *name = conn->name_buf;
    return savepoint_call(conn, PGA__P_SP_CREATE, PGA__CMD_SAVEPOINT_ID, id);
}

static int savepoint_end(pga_conn *conn, const char *name, int purpose, int kind)
{
    unsigned id = 0;
    int rc = check_idle(conn);
    if (rc != PGA_OK || !pga__txn_needed(conn)) {
        return rc;
    }
    if (!parse_name(conn, name, &id)) {
        return fail(conn, PGA_ESAVEPOINT);
    }
    return savepoint_call(conn, purpose, kind, id);
}

int pga_savepoint_release_start(pga_conn *conn, const char *name)
{
    return savepoint_end(conn, name, PGA__P_SP_RELEASE, PGA__CMD_RELEASE);
}

int pga_savepoint_rollback_start(pga_conn *conn, const char *name)
{
    return savepoint_end(conn, name, PGA__P_SP_ROLLBACK, PGA__CMD_ROLLBACK_TO);
}
