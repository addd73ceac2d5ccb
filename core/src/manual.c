/* manual.c -- manual mode (Django's autocommit off: the first statement
 * opens a transaction the caller ends) and the manual savepoint API. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Forget the manual savepoints from sp_id on: RELEASE and ROLLBACK TO of
 * an earlier savepoint destroy every later one. */
void pga__manual_drop_from(pga_conn *conn, unsigned sp_id)
{
    size_t kept = 0;
    for (size_t i = 0; i < conn->nmanual; i++) {
        if (conn->manual[i].sp_id < sp_id) {
            conn->manual[kept++] = conn->manual[i];
        }
    }
    conn->nmanual = kept;
}

int pga_conn_set_autocommit(pga_conn *conn, int on)
{
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return pga__fail(conn, PGA_EINATOMIC);
    }
    on = on != 0;
    if (on && !conn->autocommit && conn->txn_begun) {
        return pga__fail(conn, PGA_EINTRANS);
    }
    if (on && !conn->autocommit) {
        pga__txn_over(conn, 1, 0);
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
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (conn->depth > 0) {
        return pga__fail(conn, PGA_EINATOMIC);
    }
    if (conn->autocommit) {
        return PGA_OK;
    }
    if (!conn->txn_begun) {
        pga__txn_over(conn, commit, 0);
        return PGA_OK;
    }
    return pga__txn_finish(conn, !commit);
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
    int rc = pga__check_session(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    conn->call_sp = id;
    if (pga__plan_controls(conn) != PGA_OK || pga__cmds_push(conn, kind, id, 0) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    return pga__batch_send(conn, purpose, NULL, NULL);
}

int pga_savepoint_start(pga_conn *conn, const char **name)
{
    *name = NULL;
    int rc = pga__check_idle(conn);
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
    int rc = pga__check_idle(conn);
    if (rc != PGA_OK || !pga__txn_needed(conn)) {
        return rc;
    }
    if (!parse_name(conn, name, &id)) {
        return pga__fail(conn, PGA_ESAVEPOINT);
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
