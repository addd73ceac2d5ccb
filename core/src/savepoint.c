/* savepoint.c -- savepoints by name, deferred, with PostgreSQL's rules: the
 * server's savepoint stack as it will be once what is owed has run, the
 * SAVEPOINT / RELEASE / ROLLBACK TO statements it owes (in order, and
 * cancelled when nothing ran in between), and the C savepoint API on top.
 * Blocks (atomic.c) and SQL text (controls.c) use the same operations. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int pending_push(pga_conn *conn, int kind, const pga__savepoint *sp)
{
    pga__cmd *pending = pga__grow(conn->pending, &conn->pending_cap, conn->npending + 1,
                                  sizeof(*pending));
    if (pending == NULL) {
        return PGA_ENOMEM;
    }
    conn->pending = pending;
    pga__cmd *cmd = &conn->pending[conn->npending++];
    cmd->kind = kind;
    cmd->arg = sp->id;
    memcpy(cmd->name, sp->name, sizeof(cmd->name));
    return PGA_OK;
}

/* Forget owed statements about savepoints newer than id, or only their
 * SAVEPOINTs (those never reached the server, so nothing ran inside). */
static void pending_drop_newer(pga_conn *conn, unsigned id, int only_creations)
{
    size_t kept = 0;
    for (size_t i = 0; i < conn->npending; i++) {
        const pga__cmd *cmd = &conn->pending[i];
        if (cmd->arg <= id || (only_creations && cmd->kind != PGA__CMD_SAVEPOINT)) {
            conn->pending[kept++] = *cmd;
        }
    }
    conn->npending = kept;
}

int pga__sp_create(pga_conn *conn, const char *name, unsigned *id)
{
    pga__savepoint *sps = pga__grow(conn->sps, &conn->sps_cap, conn->nsps + 1, sizeof(*sps));
    if (sps == NULL) {
        return PGA_ENOMEM;
    }
    conn->sps = sps;
    pga__savepoint *sp = &conn->sps[conn->nsps];
    sp->id = conn->next_sp++;
    sp->sent = 0;
    sp->hook_seq = conn->hook_seq;
    if (name != NULL) {
        snprintf(sp->name, sizeof(sp->name), "%s", name);
    }
    else {
        snprintf(sp->name, sizeof(sp->name), "pga_s%u", sp->id);
    }
    if (pending_push(conn, PGA__CMD_SAVEPOINT, sp) != PGA_OK) {
        return PGA_ENOMEM;
    }
    conn->nsps++;
    if (id != NULL) {
        *id = sp->id;
    }
    return PGA_OK;
}

int pga__sp_find(const pga_conn *conn, const char *name)
{
    /* Newest first: a repeated name shadows the older savepoint. */
    for (size_t i = conn->nsps; i-- > 0;) {
        if (strcmp(conn->sps[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int pga__sp_find_id(const pga_conn *conn, unsigned id)
{
    for (size_t i = conn->nsps; i-- > 0;) {
        if (conn->sps[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

int pga__sp_release(pga_conn *conn, int i)
{
    const pga__savepoint *sp = &conn->sps[i];
    if (!sp->sent) {
        /* Nothing ran since its SAVEPOINT, which is still owed, as are
         * those of the newer ones: owe none of them. */
        pending_drop_newer(conn, sp->id - 1, 0);
    }
    else {
        /* Newer ones not yet made need not be; an owed ROLLBACK TO a newer
         * one still undoes work, so it stays ahead of the RELEASE. */
        pending_drop_newer(conn, sp->id, 1);
        if (pending_push(conn, PGA__CMD_RELEASE, sp) != PGA_OK) {
            return PGA_ENOMEM;
        }
    }
    conn->nsps = (size_t)i;
    return PGA_OK;
}

int pga__sp_rollback(pga_conn *conn, int i)
{
    const pga__savepoint *sp = &conn->sps[i];
    /* Newer ones not yet made need not be.  An owed RELEASE of a newer one
     * stays: with a repeated name it decides which one ROLLBACK TO finds. */
    pending_drop_newer(conn, sp->id, 1);
    conn->nsps = (size_t)i + 1;
    if (sp->sent) {
        const pga__cmd *last = conn->npending ? &conn->pending[conn->npending - 1] : NULL;
        int again = last != NULL && last->kind == PGA__CMD_ROLLBACK_TO && last->arg == sp->id;
        if (!again && pending_push(conn, PGA__CMD_ROLLBACK_TO, sp) != PGA_OK) {
            return PGA_ENOMEM;
        }
    }
    /* ROLLBACK TO leaves an aborted transaction usable again. */
    conn->txn_aborted = 0;
    conn->has_abort_cause = 0;
    return PGA_OK;
}

int pga__sp_rollback_to(pga_conn *conn, int i)
{
    uint64_t since = conn->sps[i].hook_seq;
    if (pga__sp_rollback(conn, i) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    pga__hooks_settle_seq(conn, since, PGA_HOOK_DROP);
    /* Whatever broke the transaction happened after the savepoint and is
     * undone: Django's savepoint() / savepoint_rollback() recovery. */
    conn->needs_rollback = 0;
    conn->has_cause = 0;
    return PGA_OK;
}

void pga__sp_settle(pga_conn *conn)
{
    size_t n = 0;
    while (n < conn->nsps && conn->sps[n].sent) {
        n++;
    }
    conn->nsps = n;
}

/* ---------------------------------------------------------------------
 * The C savepoint API (Django's savepoint(), SQLAlchemy's hooks)
 * ------------------------------------------------------------------- */

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= PGA_NAME_MAX && pga__utf8_valid((const unsigned char *)name, n);
}

/* The rules every call shares; 1 when the call should go on. */
static int savepoint_call(pga_conn *conn, int *rc)
{
    *rc = pga__check_idle_pipelined(conn);
    if (*rc != PGA_OK) {
        return 0;
    }
    /* Django's rule: outside a transaction these do nothing. */
    if (!pga__txn_needed(conn)) {
        return 0;
    }
    *rc = pga__check_session(conn);
    return *rc == PGA_OK;
}

int pga_savepoint(pga_conn *conn, const char *name, const char **made)
{
    int rc;
    if (made != NULL) {
        *made = NULL;
    }
    if (!savepoint_call(conn, &rc)) {
        return rc;
    }
    if (name != NULL && !valid_name(name)) {
        return pga__err_set(conn, PGA_EMISUSE, "a savepoint name must be 1 to %d bytes of UTF-8",
                            PGA_NAME_MAX);
    }
    if (conn->txn_aborted) {
        return pga__err_local(conn, "25P02", PGA__MSG_ABORTED);
    }
    if (pga__sp_create(conn, name, NULL) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    if (made != NULL) {
        memcpy(conn->name_buf, conn->sps[conn->nsps - 1].name, sizeof(conn->name_buf));
        *made = conn->name_buf;
    }
    return PGA_OK;
}

/* The savepoint a release or rollback is about, or -1 with the error set.
 * An unknown name is refused before anything is sent. */
static int named(pga_conn *conn, const char *name)
{
    int i = name != NULL ? pga__sp_find(conn, name) : -1;
    if (i < 0) {
        pga__fail(conn, PGA_ESAVEPOINT);
    }
    return i;
}

int pga_savepoint_release(pga_conn *conn, const char *name)
{
    int rc, i;
    if (!savepoint_call(conn, &rc)) {
        return rc;
    }
    if (conn->txn_aborted) {
        return pga__err_local(conn, "25P02", PGA__MSG_ABORTED);
    }
    if ((i = named(conn, name)) < 0) {
        return PGA_ESAVEPOINT;
    }
    return pga__sp_release(conn, i) == PGA_OK ? PGA_OK : pga__fail(conn, PGA_ENOMEM);
}

int pga_savepoint_rollback(pga_conn *conn, const char *name)
{
    int rc, i;
    if (!savepoint_call(conn, &rc)) {
        return rc;
    }
    if ((i = named(conn, name)) < 0) {
        return PGA_ESAVEPOINT;
    }
    return pga__sp_rollback_to(conn, i);
}
