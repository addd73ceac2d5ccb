/* atomic.c -- the block stack: entering and leaving blocks, savepoint
 * names, the rollback flag, the durable rule, and the end of the
 * transaction they hold.  SQL text is plan.c's; sending is step.c's. */
#include <stdio.h>

#include "internal.h"

/* The server's transaction is over, however it ended: the one place that
 * resets what belongs to a transaction.  hooks says what becomes of its
 * hooks: PGA_HOOK_RUN (committed), PGA_HOOK_DROP, or PGA__HOOK_PARK
 * (prepared as conn->gid: they wait for its COMMIT PREPARED).  Blocks still open (after a raw COMMIT or ROLLBACK, a lost or a
 * closed session) have nothing left to undo: their savepoints are gone and
 * leaving them sends nothing.  broken says whether statements inside them
 * are refused meanwhile (the guard), rather than reaching whatever session
 * there is (a closed one reports PGA_ECLOSED). */
void pga__txn_over(pga_conn *conn, int hooks, int broken)
{
    conn->txn_begun = 0;
    conn->txn_aborted = 0;
    conn->has_abort_cause = 0;
    conn->npending = 0;
    conn->nsps = 0;
    conn->begin_modes = 0;
    if (conn->depth > 0) {
        /* What the blocks still open will report when they are left. */
        conn->vanished = hooks == PGA__HOOK_PARK ? PGA_OUTCOME_PREPARED : PGA_OUTCOME_ROLLED_BACK;
        conn->txn_lost = 1;
        if (broken) {
            conn->needs_rollback = 1;
        }
    }
    else {
        conn->sql_txn = 0;
        conn->needs_rollback = 0;
        conn->has_cause = 0;
        conn->txn_lost = 0;
    }
    if (hooks == PGA__HOOK_PARK) {
        /* conn->gid is reused by the next COMMIT / ROLLBACK PREPARED. */
        snprintf(conn->prepared_gid, sizeof(conn->prepared_gid), "%s", conn->gid);
        pga__hooks_park(conn, conn->gid);
    }
    else {
        pga__hooks_settle_depth(conn, 0, hooks);
    }
}

int pga_atomic_enter(pga_conn *conn, unsigned flags)
{
    int rc = pga__check_idle_pipelined(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    /* The block is the transaction unless one is open already (an outer
     * block, manual mode, a BEGIN given as SQL): then it is a savepoint. */
    int is_txn = !pga__txn_needed(conn);
    if ((flags & PGA_DURABLE) && conn->depth > 0) {
        return pga__fail(conn, PGA_EDURABLE);
    }
    if ((flags & PGA_DURABLE) && conn->sql_txn) {
        /* It would be a savepoint: nothing it did is durable when it exits. */
        return pga__err_set(conn, PGA_EDURABLE, "%s",
                            "a durable block cannot be entered in a transaction begun as SQL");
    }
    if ((flags & PGA_TXN_OPTIONS) && !is_txn) {
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
    unsigned sp_id = 0;
    /* Django: no savepoint inside a block already marked for rollback; the
     * flag then travels up to a block that can undo. */
    if (!is_txn && (flags & PGA_SAVEPOINT) && !conn->needs_rollback && !conn->txn_lost
        && pga__sp_create(conn, NULL, &sp_id) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    if (is_txn) {
        conn->needs_rollback = 0;
        conn->has_cause = 0;
        conn->txn_lost = 0;
        conn->begin_modes = flags & PGA_TXN_OPTIONS;
    }
    conn->blocks[conn->depth++] = (pga__block){.flags = flags, .sp_id = sp_id, .is_txn = is_txn};
    return PGA_OK;
}

/* Record how the block or transaction that is ending ended; cause is the
 * error that broke it (NULL: none, or the one already in outcome_cause). */
void pga__outcome_set(pga_conn *conn, int state, const pga__error *cause)
{
    conn->outcome.state = state;
    conn->outcome.unasked = state == PGA_OUTCOME_ROLLED_BACK && conn->end_asked != PGA__END_ROLLBACK;
    if (cause != &conn->outcome_cause) {
        pga__err_free(&conn->outcome_cause);
        conn->outcome_cause.rc = PGA_OK;
        conn->outcome_cause.seq = 0;
        if (cause != NULL && cause->rc != PGA_OK) {
            pga__err_copy(&conn->outcome_cause, cause);
        }
    }
    conn->outcome.cause = conn->outcome_cause.seq;
}

/* The cause a rollback the exit did not ask for has: the error that broke
 * the block, when there was one. */
static const pga__error *block_cause(const pga_conn *conn, int how)
{
    return (how == PGA__END_ROLLBACK && conn->end_asked != PGA__END_ROLLBACK && conn->has_cause)
               ? &conn->cause : NULL;
}

/* End the transaction the engine holds, as how says (asked: what the
 * caller asked for; a broken block rolls back though asked to commit):
 * COMMIT (with any RELEASE still owed), ROLLBACK, or nothing at all when
 * nothing reached the server; or PREPARE TRANSACTION conn->gid, which is
 * sent even then, since the server keeps an empty prepared transaction too.
 * The completion records the outcome of what was sent. */
int pga__txn_finish(pga_conn *conn, int how, int asked)
{
    int begun = conn->txn_begun;
    conn->end_asked = asked;
    pga__outcome_set(conn, PGA_OUTCOME_NONE, block_cause(conn, how));
    if (conn->txn_lost) {
        /* Already reported at the statement that lost it. */
        pga__outcome_set(conn, conn->vanished, conn->has_cause ? &conn->cause : NULL);
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
        return how == PGA__END_PREPARE ? pga__fail(conn, PGA_ETXNENDED) : PGA_OK;
    }
    if (!begun && how != PGA__END_PREPARE) {
        /* Nothing reached the server: nothing to send, and the hooks of
         * an empty transaction run as if it committed. */
        pga__outcome_set(conn, how == asked ? PGA_OUTCOME_NOTHING_SENT : PGA_OUTCOME_ROLLED_BACK,
                         &conn->outcome_cause);
        pga__txn_over(conn, how == PGA__END_COMMIT ? PGA_HOOK_RUN : PGA_HOOK_DROP, 0);
        return PGA_OK;
    }
    /* A server that already closed the session (terminated backend, crash)
     * has usually said so on the socket: reading it now turns an "outcome
     * unknown" COMMIT into a plain, certain "lost, rolled back". */
    pga__read_idle(conn);
    if (!pga__conn_usable(conn)) {
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
        if (how == PGA__END_ROLLBACK) {
            pga__outcome_set(conn, PGA_OUTCOME_ROLLED_BACK, &conn->outcome_cause);
            return PGA_OK;
        }
        int rc = pga__err_lost(conn, PGA_ECONN);
        pga__outcome_set(conn, PGA_OUTCOME_ROLLED_BACK, &conn->err);
        return rc;
    }
    if (conn->flight) {
        /* A pipelined transaction: the end travels with its statements. */
        return pga__pipeline_end(conn, how);
    }
    pga__batch_reset(conn);
    if (how == PGA__END_ROLLBACK) {
        /* ROLLBACK undoes whatever RELEASE was still owed. */
        conn->npending = 0;
        if (pga__plan_rollback(conn) != PGA_OK) {
            return pga__fail(conn, PGA_ENOMEM);
        }
        return pga__batch_send(conn, PGA__P_ROLLBACK, NULL, NULL);
    }
    int end = how == PGA__END_COMMIT ? PGA__CMD_COMMIT : PGA__CMD_PREPARE;
    if (pga__plan_owed(conn, !begun) != PGA_OK || pga__cmds_push(conn, end, 0, NULL) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    return pga__batch_send(conn, how == PGA__END_COMMIT ? PGA__P_COMMIT : PGA__P_PREPARE, NULL,
                           NULL);
}

/* Leave a savepoint block: RELEASE, or ROLLBACK TO + RELEASE; returns the
 * outcome's state. */
static int exit_savepoint(pga_conn *conn, const pga__block *b, int rollback, int *rc)
{
    int i = pga__sp_find_id(conn, b->sp_id);
    int sent = i >= 0 && conn->sps[i].sent;
    *rc = PGA_OK;
    if (!rollback) {
        if (i >= 0 && pga__sp_release(conn, i) != PGA_OK) {
            conn->needs_rollback = 1;
            *rc = pga__fail(conn, PGA_ENOMEM);
        }
        /* Gone already: an older savepoint's RELEASE took it along. */
        return (i < 0 || sent) ? PGA_OUTCOME_RELEASED : PGA_OUTCOME_NOTHING_SENT;
    }
    pga__hooks_settle_depth(conn, conn->depth + 1, PGA_HOOK_DROP);
    if (i < 0) {
        /* The SAVEPOINT itself failed (or a RELEASE of an older savepoint
         * ended it), so there is nothing to roll back to: the flag goes up
         * to the next block that can undo. */
        conn->needs_rollback = 1;
        return PGA_OUTCOME_ROLLED_BACK;
    }
    if (pga__sp_rollback(conn, i) != PGA_OK || pga__sp_release(conn, i) != PGA_OK) {
        conn->needs_rollback = 1;
        *rc = pga__fail(conn, PGA_ENOMEM);
    }
    else {
        conn->needs_rollback = 0;
        conn->has_cause = 0;
    }
    return (sent || conn->end_asked != PGA__END_ROLLBACK) ? PGA_OUTCOME_ROLLED_BACK
                                                           : PGA_OUTCOME_NOTHING_SENT;
}

/* Leave a block below the transaction; returns the outcome's state. */
static int exit_nested(pga_conn *conn, const pga__block *b, int failed, int rollback, int *rc)
{
    *rc = PGA_OK;
    if (conn->txn_lost) {
        if (conn->depth == 0) {
            /* Manual mode: the last block is gone; the session is usable. */
            conn->txn_lost = 0;
            conn->needs_rollback = 0;
        }
        return conn->vanished;
    }
    if (b->sp_id == 0) {
        /* Merged: its work goes with the enclosing block's, and a failure
         * makes that one roll back. */
        if (failed) {
            conn->needs_rollback = 1;
        }
        return rollback ? PGA_OUTCOME_ROLLED_BACK : PGA_OUTCOME_RELEASED;
    }
    return exit_savepoint(conn, b, rollback, rc);
}

int pga_atomic_exit_start(pga_conn *conn, int failed)
{
    int rc = pga__check_idle_pipelined(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth == 0) {
        return pga__fail(conn, PGA_ENOATOMIC);
    }
    pga__block b = conn->blocks[--conn->depth];
    int rollback = failed || conn->needs_rollback;
    int how = rollback ? PGA__END_ROLLBACK : PGA__END_COMMIT;
    if (b.is_txn) {
        return pga__txn_finish(conn, how, failed ? PGA__END_ROLLBACK : PGA__END_COMMIT);
    }
    conn->end_asked = failed ? PGA__END_ROLLBACK : PGA__END_COMMIT;
    /* The cause, before leaving clears it. */
    pga__outcome_set(conn, PGA_OUTCOME_NONE,
                     !conn->txn_lost ? block_cause(conn, how)
                     : conn->has_cause ? &conn->cause : NULL);
    int state = exit_nested(conn, &b, failed, rollback, &rc);
    pga__outcome_set(conn, state, &conn->outcome_cause);
    /* Released, merged or rolled back (its own hooks already dropped): what
     * the block still holds now waits on the enclosing one. */
    pga__hooks_reparent(conn, conn->depth);
    return rc;
}

int pga_atomic_depth(const pga_conn *conn)
{
    return conn->depth;
}

void pga_atomic_outcome(const pga_conn *conn, pga_outcome *out)
{
    *out = conn->outcome;
}

const char *pga_atomic_outcome_gid(const pga_conn *conn)
{
    return conn->outcome.state == PGA_OUTCOME_PREPARED ? conn->prepared_gid : NULL;
}

int pga_atomic_outcome_cause(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->outcome_cause.rc == PGA_OK) {
        return PGA_OK;
    }
    pga__err_copy(&conn->err, &conn->outcome_cause);
    return conn->err.rc;
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
