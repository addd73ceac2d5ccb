/* controls.c -- the SQL control mode: control statements that arrive as SQL
 * text (pga_sql_classify()) are absorbed into the round-trip plan, as the
 * engine's own blocks are, and answered as the server would answer them.
 * The rule for each: answer at once when the engine knows both the
 * server's answer and that the server's state would not change in a way
 * the engine cannot reproduce; otherwise send it, in order with what is
 * owed, and let the server answer. */
#include <stdio.h>

#include "internal.h"

int pga_conn_set_sql_controls(pga_conn *conn, int on)
{
    int rc = pga__check_idle(conn);
    if (rc == PGA_OK) {
        conn->sql_controls = on != 0;
    }
    return rc;
}

int pga_conn_get_sql_controls(const pga_conn *conn)
{
    return conn->sql_controls;
}

/* Outside a transaction block the server refuses these with 25P01 and
 * stays idle, so the answer is local. */
static int outside(pga_conn *conn, const char *what)
{
    char msg[64];
    snprintf(msg, sizeof(msg), "%s can only be used in transaction blocks", what);
    return pga__err_local(conn, "25P01", msg);
}

/* End the transaction as the statement asks; the statement's result is
 * its tag.  A COMMIT answered with ROLLBACK is PGA_EROLLEDBACK here too. */
static int end_transaction(pga_conn *conn, const pga_control *ctl, int how)
{
    if (how == PGA__END_PREPARE) {
        snprintf(conn->gid, sizeof(conn->gid), "%s", ctl->name);
    }
    int rc = pga__txn_finish(conn, how, how);
    return rc == PGA_OK ? pga__answer(conn, ctl->tag) : rc;
}

static int set_transaction(pga_conn *conn, const pga_control *ctl, int in_txn)
{
    if (!in_txn) {
        /* The server warns and changes nothing. */
        return pga__answer(conn, ctl->tag);
    }
    if (conn->txn_aborted) {
        return pga__err_local(conn, "25P02", PGA__MSG_ABORTED);
    }
    if (!conn->txn_begun && conn->npending == 0) {
        /* Only BEGIN is owed: the modes join it.  Sent after it, they
         * would take effect exactly so. */
        conn->begin_modes = pga__modes_merge(conn->begin_modes, ctl->modes);
        return pga__answer(conn, ctl->tag);
    }
    /* A query or SAVEPOINT ran or is owed: the server decides (25001 for an
     * isolation level, fine for READ ONLY), now and in order. */
    return PGA__PASS;
}

static int begin(pga_conn *conn, const pga_control *ctl, int in_txn)
{
    if (in_txn) {
        /* The server warns ("already a transaction in progress"), then
         * applies the modes given as SET TRANSACTION would. */
        if (ctl->modes != 0) {
            return set_transaction(conn, ctl, in_txn);
        }
        return conn->txn_aborted ? pga__err_local(conn, "25P02", PGA__MSG_ABORTED)
                                 : pga__answer(conn, ctl->tag);
    }
    conn->sql_txn = 1;
    conn->begin_modes = ctl->modes;
    return pga__answer(conn, ctl->tag);
}

int pga__control_start(pga_conn *conn, const pga_control *ctl)
{
    int rc = pga__check_session(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    int in_txn = pga__txn_needed(conn);
    int i;
    switch (ctl->kind) {
    case PGA_CTL_BEGIN:
        return begin(conn, ctl, in_txn);

    case PGA_CTL_SET_TRANSACTION:
        return set_transaction(conn, ctl, in_txn);

    case PGA_CTL_SAVEPOINT:
        if (!in_txn) {
            return outside(conn, "SAVEPOINT");
        }
        if (conn->txn_aborted) {
            return pga__err_local(conn, "25P02", PGA__MSG_ABORTED);
        }
        return pga__sp_create(conn, ctl->name, NULL) == PGA_OK ? pga__answer(conn, ctl->tag)
                                                                : pga__fail(conn, PGA_ENOMEM);

    case PGA_CTL_RELEASE:
        if (!in_txn) {
            return outside(conn, "RELEASE SAVEPOINT");
        }
        if (conn->txn_aborted) {
            return pga__err_local(conn, "25P02", PGA__MSG_ABORTED);
        }
        /* An unknown name (or one made by text the classifier left alone):
         * the server answers, 3B001 aborting the transaction. */
        if ((i = pga__sp_find(conn, ctl->name)) < 0) {
            return PGA__PASS;
        }
        return pga__sp_release(conn, i) == PGA_OK ? pga__answer(conn, ctl->tag)
                                                   : pga__fail(conn, PGA_ENOMEM);

    case PGA_CTL_ROLLBACK_TO:
        if (!in_txn) {
            return outside(conn, "ROLLBACK TO SAVEPOINT");
        }
        if ((i = pga__sp_find(conn, ctl->name)) < 0) {
            return PGA__PASS;
        }
        return pga__sp_rollback_to(conn, i) == PGA_OK ? pga__answer(conn, ctl->tag)
                                                       : PGA_ENOMEM;

    case PGA_CTL_COMMIT:
    case PGA_CTL_ROLLBACK:
    case PGA_CTL_PREPARE:
        if (conn->depth > 0) {
            /* Inside an atomic block it ends the block's transaction behind
             * the block's back: sent as it is, reported PGA_ETXNENDED. */
            return PGA__PASS;
        }
        if (!in_txn) {
            /* The server warns, and answers PREPARE TRANSACTION with
             * ROLLBACK: nothing was prepared, which is an error. */
            return ctl->kind == PGA_CTL_PREPARE ? pga__fail(conn, PGA_EROLLEDBACK)
                                                : pga__answer(conn, ctl->tag);
        }
        return end_transaction(conn, ctl,
                               ctl->kind == PGA_CTL_COMMIT     ? PGA__END_COMMIT
                               : ctl->kind == PGA_CTL_ROLLBACK ? PGA__END_ROLLBACK
                                                               : PGA__END_PREPARE);

    default:
        /* COMMIT PREPARED and ROLLBACK PREPARED run as they are: inside a
         * transaction the server refuses them (25001) and aborts it. */
        return PGA__PASS;
    }
}
