/* complete.c -- what a finished batch means: per-statement outcomes, a
 * broken block, a transaction that ended, committed or vanished, and the
 * follow-up batch some completions start.  Sending is step.c's job. */
#include <stdlib.h>
#include <string.h>

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
    if (pga__plan_rollback(conn) != PGA_OK) {
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
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

/* A control statement the engine answered for (a COMMIT given as SQL)
 * fails with its batch. */
static void fail_answers(pga_conn *conn, int rc)
{
    for (size_t i = 0; i < conn->noutcomes; i++) {
        pga__outcome *o = &conn->outcomes[i];
        if (o->tag != NULL && o->rc == PGA_OK) {
            pga__err_copy(&o->err, &conn->err);
            o->rc = rc;
            o->err.rc = rc;
            o->tag = NULL;
        }
    }
}

/* What the transaction-ending command tag among the batch's results says
 * becomes of the hooks of a transaction begun as SQL or in manual mode: the
 * last one decides, as the server answered it (COMMIT of a failed
 * transaction answers ROLLBACK).  0: no such tag. */
static int ending_hooks(const pga_conn *conn)
{
    for (size_t i = conn->noutcomes; i-- > 0;) {
        const pga__outcome *o = &conn->outcomes[i];
        for (size_t k = o->nmore + 1; k-- > 0;) {
            const PGresult *res = k == 0 ? o->res : o->more[k - 1];
            const char *tag = res == NULL ? "" : PQcmdStatus((PGresult *)res);
            if (strcmp(tag, "COMMIT") == 0) {
                return PGA_HOOK_RUN;
            }
            if (strcmp(tag, "ROLLBACK") == 0) {
                return PGA_HOOK_DROP;
            }
            if (strcmp(tag, "PREPARE TRANSACTION") == 0) {
                return PGA__HOOK_PARK;
            }
        }
    }
    return 0;
}

/* What the statement left the session in, for a statement of ours. */
static int after_query(pga_conn *conn, int rc, int status)
{
    int idle_after = status == PQTRANS_IDLE;
    int ended = rc == PGA_OK && conn->txn_begun ? ending_hooks(conn) : 0;
    if (conn->txn_begun && idle_after) {
        /* Hooks run only after the server's COMMIT: a raw ROLLBACK drops
         * them.  A raw PREPARE TRANSACTION that succeeded prepared it (its
         * hooks wait for COMMIT PREPARED), unless it was not the statement
         * alone (its gid unknown here); answered with ROLLBACK, it did not. */
        int hooks = ended == PGA_HOOK_RUN ? PGA_HOOK_RUN
                    : ended == PGA__HOOK_PARK && conn->raw_prepare ? PGA__HOOK_PARK
                                                                   : PGA_HOOK_DROP;
        if (ended != PGA_HOOK_RUN && ended != PGA__HOOK_PARK) {
            /* A ROLLBACK (or a failing COMMIT) given as SQL. */
            pga__stmts_clear(conn);
        }
        if (conn->depth == 0) {
            /* Manual mode, or a transaction begun as SQL: a raw COMMIT
             * ends it, which is what the user asked for. */
            conn->end_asked = PGA__END_ROLLBACK;   /* whatever it was, as asked */
            pga__outcome_set(conn, hooks == PGA__HOOK_PARK ? PGA_OUTCOME_PREPARED
                                   : hooks == PGA_HOOK_RUN ? PGA_OUTCOME_COMMITTED
                                                           : PGA_OUTCOME_ROLLED_BACK,
                             NULL);
            pga__txn_over(conn, hooks, 0);
        }
        else {
            if (rc == PGA_OK) {
                rc = pga__fail(conn, PGA_ETXNENDED);
                blame_last_success(conn);
            }
            pga__txn_over(conn, hooks == PGA__HOOK_PARK ? hooks : PGA_HOOK_DROP, 1);
            conn->has_cause = 0;
            return rc;
        }
    }
    else if (ended != 0 && conn->depth == 0) {
        /* COMMIT or ROLLBACK AND CHAIN (or a script going on with BEGIN):
         * that transaction's hooks are settled, the next one is open. */
        if (ended == PGA_HOOK_DROP) {
            pga__stmts_clear(conn);
        }
        pga__hooks_settle_depth(conn, 0, ended == PGA_HOOK_RUN ? PGA_HOOK_RUN : PGA_HOOK_DROP);
    }
    else if (!idle_after && !conn->txn_begun && !pga__txn_needed(conn)) {
        /* A BEGIN sent as SQL outside any block (the classifier left it
         * alone, or the SQL control mode is off) opened a transaction: from
         * now on it is the connection's own, so a block entered now is a
         * savepoint of it (as in psycopg) and its failure cannot roll back
         * the work done before it; the caller's COMMIT or ROLLBACK ends it. */
        conn->sql_txn = 1;
        conn->txn_begun = 1;
    }
    /* Savepoints whose SAVEPOINT a failure skipped do not exist. */
    pga__sp_settle(conn);
    if (status == PQTRANS_INERROR && !conn->has_abort_cause && rc == PGA_ESERVER) {
        /* What a COMMIT answered with ROLLBACK will name as its reason. */
        pga__err_copy(&conn->abort_cause, &conn->err);
        conn->has_abort_cause = 1;
    }
    conn->txn_aborted = status == PQTRANS_INERROR;
    if (!conn->txn_aborted) {
        conn->has_abort_cause = 0;
    }
    if (rc != PGA_OK && conn->depth > 0) {
        mark_broken(conn);
    }
    return rc;
}

int pga__batch_finished(pga_conn *conn, int rc, int lost)
{
    int status = lost ? PQTRANS_UNKNOWN : PQtransactionStatus(conn->pg);
    int idle_after = status == PQTRANS_IDLE;
    if (conn->purpose == PGA__P_PRELUDE) {
        if (rc == PGA_OK) {
            return pga__send_script(conn);
        }
        conn->purpose = PGA__P_QUERY;
    }
    if (rc != PGA_OK) {
        fail_answers(conn, rc);
    }
    switch (conn->purpose) {
    case PGA__P_QUERY:
    case PGA__P_PREPARED_END:
        settle_outcomes(conn, lost);
        if (lost) {
            if (conn->depth > 0) {
                mark_broken(conn);
            }
            pga__txn_over(conn, PGA_HOOK_DROP, 1);
            return rc;
        }
        rc = after_query(conn, rc, status);
        if (rc == PGA_OK && conn->purpose == PGA__P_PREPARED_END) {
            /* The prepared transaction's hooks, if it was prepared here. */
            pga_hook_settle_prepared(conn, conn->gid, conn->prepared_end);
        }
        return rc;

    case PGA__P_COMMIT:
    case PGA__P_PREPARE:
        if (rc == PGA_OK) {
            /* A prepared transaction's hooks wait for its COMMIT PREPARED. */
            int commit = conn->purpose == PGA__P_COMMIT;
            pga__outcome_set(conn, commit ? PGA_OUTCOME_COMMITTED : PGA_OUTCOME_PREPARED, NULL);
            pga__txn_over(conn, commit ? PGA_HOOK_RUN : PGA__HOOK_PARK, 0);
            return PGA_OK;
        }
        if (!lost && !idle_after) {
            /* A RELEASE riding with COMMIT failed, so COMMIT never ran and
             * the transaction is still open, aborted: roll it back. */
            return start_cleanup(conn, rc);
        }
        if (!lost) {
            /* The server rolled back at the COMMIT itself (a deferred
             * constraint, a serialization failure, a COMMIT answered
             * ROLLBACK): no ROLLBACK of ours to ride behind. */
            pga__stmts_clear(conn);
        }
        pga__outcome_set(conn, rc == PGA_ECOMMITUNKNOWN ? PGA_OUTCOME_UNKNOWN
                                                         : PGA_OUTCOME_ROLLED_BACK, &conn->err);
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
        return rc;

    case PGA__P_CLEANUP:
        pga__err_copy(&conn->err, &conn->cause);
        pga__outcome_set(conn, PGA_OUTCOME_ROLLED_BACK, &conn->err);
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
        return conn->saved_rc;

    case PGA__P_ROLLBACK:
        if (rc != PGA_OK) {
            /* A pipelined flight ended by ROLLBACK: the statements its
             * failure skipped say so, as after a sync. */
            settle_outcomes(conn, lost);
        }
        pga__outcome_set(conn, PGA_OUTCOME_ROLLED_BACK, &conn->outcome_cause);
        pga__txn_over(conn, PGA_HOOK_DROP, 0);
        /* On a dead session the server has rolled back already. */
        return (rc == PGA_ECONN) ? PGA_OK : rc;

    default:
        return rc;
    }
}
