/* atomic.c -- the block stack: entering and leaving blocks, savepoint
 * names, the rollback flag, the durable rule, and the end of the
 * transaction they hold.  SQL text is plan.c's; sending is step.c's. */
#include <stdio.h>

#include "internal.h"

/* The server's transaction is over, however it ended: the one place that
 * resets what belongs to a transaction.  committed says whether its hooks
 * run.  Blocks still open (after a raw COMMIT or ROLLBACK, a lost or a
 * closed session) have nothing left to undo: their savepoints are gone and
 * leaving them sends nothing.  broken says whether statements inside them
 * are refused meanwhile (the guard), rather than reaching whatever session
 * there is (a closed one reports PGA_ECLOSED). */
void pga__txn_over(pga_conn *conn, int committed, int broken)
{
    conn->txn_begun = 0;
    conn->npending = 0;
    conn->nmanual = 0;
    for (int i = 0; i < conn->depth; i++) {
        conn->blocks[i].sp_state = PGA__SP_UNSENT;
    }
    if (conn->depth > 0) {
        conn->txn_lost = 1;
        if (broken) {
            conn->needs_rollback = 1;
        }
    }
    else {
        conn->needs_rollback = 0;
        conn->has_cause = 0;
        conn->txn_lost = 0;
    }
    pga__hooks_settle_depth(conn, 0, committed ? PGA_HOOK_RUN : PGA_HOOK_DROP);
}

int pga_atomic_enter(pga_conn *conn, unsigned flags)
{
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if ((flags & PGA_DURABLE) && conn->depth > 0) {
        return pga__fail(conn, PGA_EDURABLE);
    }
    if ((flags & PGA_TXN_OPTIONS) && (conn->depth > 0 || !conn->autocommit)) {
        return pga__fail(conn, PGA_EOPTIONS);
    }
    if (conn->depth == 0 && conn->pg == NULL) {
        return pga__fail(conn, PGA_ECLOSED);
    }
    pga__block *blocks = pga__grow(conn->blocks, &conn->blocks_cap, (size_t)conn->depth + 1,
                                   sizeof(*blocks));
    if (blocks == NULL) {
        return pga__fail(conn, PGA_ENOMEM);
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

/* End the transaction the engine holds: COMMIT (with any RELEASE still
 * owed) or ROLLBACK, or nothing at all when nothing reached the server. */
int pga__txn_finish(pga_conn *conn, int rollback)
{
    if (conn->txn_lost) {
        /* Already reported at the statement that lost it. */
        pga__txn_over(conn, 0, 0);
        return PGA_OK;
    }
    if (!conn->txn_begun) {
        /* Nothing reached the server: nothing to send, and the hooks of
         * an empty transaction run as if it committed. */
        pga__txn_over(conn, !rollback, 0);
        return PGA_OK;
    }
    /* A server that already closed the session (terminated backend, crash)
     * has usually said so on the socket: reading it now turns an "outcome
     * unknown" COMMIT into a plain, certain "lost, rolled back". */
    pga__read_idle(conn);
    if (!pga__conn_usable(conn)) {
        pga__txn_over(conn, 0, 0);
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
            return pga__fail(conn, PGA_ENOMEM);
        }
        return pga__batch_send(conn, PGA__P_ROLLBACK, NULL, NULL);
    }
    if (pga__plan_controls(conn) != PGA_OK
        || pga__cmds_push(conn, PGA__CMD_COMMIT, 0, 0) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    return pga__batch_send(conn, PGA__P_COMMIT, NULL, NULL);
}

static int exit_savepoint(pga_conn *conn, const pga__block *b, int rollback)
{
    if (!rollback) {
        if (b->sp_state == PGA__SP_DONE
            && pga__pending_push(conn, PGA__CMD_RELEASE, b->sp_id) != PGA_OK) {
            conn->needs_rollback = 1;
            return pga__fail(conn, PGA_ENOMEM);
        }
        return PGA_OK;
    }
    pga__hooks_settle_depth(conn, conn->depth + 1, PGA_HOOK_DROP);
    pga__manual_drop_from(conn, b->sp_id);
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
        return pga__fail(conn, PGA_ENOMEM);
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
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth == 0) {
        return pga__fail(conn, PGA_ENOATOMIC);
    }
    pga__block b = conn->blocks[--conn->depth];
    int rollback = failed || conn->needs_rollback;
    if (conn->depth == 0 && conn->autocommit) {
        return pga__txn_finish(conn, rollback);
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
        return pga__fail(conn, PGA_ENOATOMIC);
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
