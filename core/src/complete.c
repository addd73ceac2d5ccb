/* complete.c -- what a finished batch means: per-statement outcomes, a
 * broken block, a transaction that ended, committed or vanished, and the
 * follow-up batch some completions start.  Sending is step.c's job. */
#include <stdlib.h>

#include "internal.h"

/* Django's rule: an error inside a block breaks it until the block that
 * can undo it exits.  The error is kept so the guard can name its cause. */
static void mark_broken(pga_conn *conn)
{
    conn->needs_rollback = 1;
    pga__err_copy(&conn->cause, &conn->err);
    conn->has_cause = 1;
}

static int start_cleanup(pga_conn *conn, int rc)
{
    /* Keep the COMMIT's error: it is the news, the ROLLBACK is hygiene. */
    pga__err_copy(&conn->cause, &conn->err);
    conn->saved_rc = rc;
    pga__batch_reset(conn);
    if (pga__cmds_push(conn, PGA__CMD_ROLLBACK, 0, 0) != PGA_OK) {
        pga__txn_over(conn, 0, 0);
        return rc;
    }
    return pga__batch_send(conn, PGA__P_CLEANUP, NULL, NULL);
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
            return pga__send_script(conn);
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
            pga__txn_over(conn, 0, 1);
            return rc;
        }
        if (conn->txn_begun && idle_after) {
            if (conn->depth == 0) {
                /* Manual mode: a raw COMMIT ends the manual transaction,
                 * which is what the user asked for. */
                pga__txn_over(conn, rc == PGA_OK, 0);
            }
            else {
                if (rc == PGA_OK) {
                    rc = pga__fail(conn, PGA_ETXNENDED);
                    blame_last_success(conn);
                }
                pga__txn_over(conn, 0, 1);
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
            pga__txn_over(conn, 1, 0);
            return PGA_OK;
        }
        if (!lost && !idle_after) {
            /* A RELEASE riding with COMMIT failed, so COMMIT never ran and
             * the transaction is still open, aborted: roll it back. */
            return start_cleanup(conn, rc);
        }
        pga__txn_over(conn, 0, 0);
        return rc;

    case PGA__P_CLEANUP:
        pga__err_copy(&conn->err, &conn->cause);
        pga__txn_over(conn, 0, 0);
        return conn->saved_rc;

    case PGA__P_ROLLBACK:
        pga__txn_over(conn, 0, 0);
        /* On a dead session the server has rolled back already. */
        return (rc == PGA_ECONN) ? PGA_OK : rc;

    case PGA__P_SP_CREATE:
    case PGA__P_SP_RELEASE:
    case PGA__P_SP_ROLLBACK:
        if (rc != PGA_OK) {
            if (lost) {
                pga__txn_over(conn, 0, 1);
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
                return pga__fail(conn, PGA_ENOMEM);
            }
            conn->manual = m;
            conn->manual[conn->nmanual++] = (pga__manual_sp){conn->call_sp, conn->hook_seq};
        }
        else if (conn->purpose == PGA__P_SP_RELEASE) {
            /* RELEASE also destroys every savepoint made after it. */
            pga__manual_drop_from(conn, conn->call_sp);
        }
        else {
            for (size_t i = 0; i < conn->nmanual; i++) {
                if (conn->manual[i].sp_id == conn->call_sp) {
                    pga__hooks_settle_seq(conn, conn->manual[i].hook_seq, PGA_HOOK_DROP);
                    break;
                }
            }
            pga__manual_drop_from(conn, conn->call_sp + 1);
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
