/* manual.c -- manual mode (Django's autocommit off, the DB-API's model: the
 * first statement opens a transaction the caller ends), the options its
 * implicit BEGIN carries, and ending a transaction from C. */
#include "internal.h"

int pga_conn_set_autocommit(pga_conn *conn, int on)
{
    /* With a flight open a transaction is: EINTRANS says so below. */
    int rc = pga__check_idle_pipelined(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return pga__fail(conn, PGA_EINATOMIC);
    }
    on = on != 0;
    if (on != conn->autocommit && (conn->txn_begun || conn->sql_txn)) {
        return pga__fail(conn, PGA_EINTRANS);
    }
    if (on && !conn->autocommit) {
        pga__txn_over(conn, PGA_HOOK_RUN, 0);
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

int pga_conn_set_txn_options(pga_conn *conn, unsigned modes)
{
    int rc = pga__check_idle_pipelined(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if ((modes & ~(unsigned)PGA_TXN_OPTIONS) != 0
        || (modes & PGA_ISO_MASK) > PGA_ISO_READ_UNCOMMITTED
        || (modes & PGA_READ_ONLY && modes & PGA_READ_WRITE)
        || (modes & PGA_DEFERRABLE && modes & PGA_NOT_DEFERRABLE)) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "not a valid set of transaction options");
    }
    /* Until BEGIN is sent the transaction can still take them (late
     * options); after, they would silently wait for the next one. */
    if (!conn->autocommit && conn->txn_begun) {
        return pga__fail(conn, PGA_EINTRANS);
    }
    conn->txn_options = modes;
    return PGA_OK;
}

unsigned pga_conn_get_txn_options(const pga_conn *conn)
{
    return conn->txn_options;
}

static int end_txn(pga_conn *conn, int how)
{
    /* A pipelined manual transaction ends in its open flight. */
    int rc = pga__check_idle_pipelined(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return pga__fail(conn, PGA_EINATOMIC);
    }
    if (!pga__txn_needed(conn)) {
        return PGA_OK;
    }
    return pga__txn_finish(conn, how, how);
}

int pga_commit_start(pga_conn *conn)
{
    return end_txn(conn, PGA__END_COMMIT);
}

int pga_rollback_start(pga_conn *conn)
{
    return end_txn(conn, PGA__END_ROLLBACK);
}
