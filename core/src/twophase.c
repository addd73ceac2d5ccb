/* twophase.c -- two-phase commit: prepare the transaction in hand under a
 * global id, commit or roll back a prepared one (from any connection),
 * list them.  The hooks of a prepared transaction wait under its gid
 * (hooks.c) until its COMMIT PREPARED succeeds. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int check_gid(pga_conn *conn, const char *gid)
{
    size_t n = gid != NULL ? strlen(gid) : 0;
    if (n == 0 || n > PGA_GID_MAX || !pga__utf8_valid((const unsigned char *)gid, n)) {
        return pga__err_set(conn, PGA_EMISUSE, "a transaction id must be 1 to %d bytes of UTF-8",
                            PGA_GID_MAX);
    }
    return PGA_OK;
}

int pga_prepare_start(pga_conn *conn, const char *gid)
{
    int rc = pga__check_idle(conn);
    if (rc == PGA_OK) {
        rc = check_gid(conn, gid);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    /* Refused before anything is sent, so the transaction goes on. */
    if (conn->depth > 1 || (conn->depth == 1 && !conn->blocks[0].is_txn)) {
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "PREPARE TRANSACTION inside a savepoint: only the outermost "
                            "block's transaction can be prepared");
    }
    if (conn->depth == 0 && !pga__txn_needed(conn)) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no transaction to prepare");
    }
    /* A block that must roll back is refused with its cause, as its
     * statements are; a closed session as well. */
    rc = pga__statement_guard(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    snprintf(conn->gid, sizeof(conn->gid), "%s", gid);
    if (conn->depth == 1) {
        /* The block ends with its transaction, prepared or not. */
        conn->depth = 0;
    }
    return pga__txn_finish(conn, PGA__END_PREPARE, PGA__END_PREPARE);
}

static int end_prepared(pga_conn *conn, const char *gid, int disposition)
{
    int rc = pga__check_idle(conn);
    if (rc == PGA_OK) {
        rc = check_gid(conn, gid);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    /* Inside a transaction the server refuses it and aborts that
     * transaction: refuse it here instead, losing nothing. */
    if (conn->depth > 0) {
        return pga__fail(conn, PGA_EINATOMIC);
    }
    if (conn->txn_begun || conn->sql_txn) {
        return pga__fail(conn, PGA_EINTRANS);
    }
    rc = pga__check_session(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    snprintf(conn->gid, sizeof(conn->gid), "%s", gid);
    conn->prepared_end = disposition;
    pga__batch_reset(conn);
    int cmd = disposition == PGA_HOOK_RUN ? PGA__CMD_COMMIT_PREPARED : PGA__CMD_ROLLBACK_PREPARED;
    if (pga__cmds_push(conn, cmd, 0, NULL) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    /* Not in a transaction, even in manual mode: no BEGIN goes first. */
    return pga__batch_send(conn, PGA__P_PREPARED_END, NULL, NULL);
}

int pga_commit_prepared_start(pga_conn *conn, const char *gid)
{
    return end_prepared(conn, gid, PGA_HOOK_RUN);
}

int pga_rollback_prepared_start(pga_conn *conn, const char *gid)
{
    return end_prepared(conn, gid, PGA_HOOK_DROP);
}

int pga_prepared_list_start(pga_conn *conn)
{
    static const char sql[] = "SELECT gid, prepared, owner, database FROM pg_prepared_xacts "
                              "WHERE database = current_database() ORDER BY prepared, gid";
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->txn_begun || conn->depth > 0 || conn->sql_txn) {
        return pga__statement_start(conn, sql, NULL, 1, PGA__P_QUERY);
    }
    /* Outside a transaction it stays outside: manual mode's BEGIN waits
     * for a statement of the caller's. */
    rc = pga__check_session(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    return pga__batch_send(conn, PGA__P_QUERY, sql, NULL);
}
