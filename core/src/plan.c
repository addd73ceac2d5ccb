/* plan.c -- the round-trip plan: which control statements ride ahead of
 * the next statement, and their SQL.  Sending them is step.c's job. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int pga__txn_needed(const pga_conn *conn)
{
    return conn->depth > 0 || !conn->autocommit || conn->sql_txn;
}

int pga__cmds_push(pga_conn *conn, int kind, unsigned arg, const char *name)
{
    pga__cmd *cmds = pga__grow(conn->cmds, &conn->cmds_cap, conn->ncmds + 1, sizeof(*cmds));
    if (cmds == NULL) {
        return PGA_ENOMEM;
    }
    conn->cmds = cmds;
    pga__cmd *cmd = &conn->cmds[conn->ncmds++];
    cmd->kind = kind;
    cmd->arg = arg;
    snprintf(cmd->name, sizeof(cmd->name), "%s", name != NULL ? name : "");
    cmd->parse = 0;
    cmd->stmt = -1;
    cmd->probe = 0;
    return PGA_OK;
}

int pga__plan_rollback(pga_conn *conn)
{
    if (pga__cmds_push(conn, PGA__CMD_ROLLBACK, 0, NULL) != PGA_OK) {
        return PGA_ENOMEM;
    }
    /* After the ROLLBACK, in its sync: it runs whatever state the
     * transaction was in.  Without memory for it, the next flight carries
     * it (pga__pipeline_open()). */
    if (pga__stmts_clear(conn)
        && pga__cmds_push(conn, PGA__CMD_DEALLOCATE, 0, NULL) == PGA_OK) {
        pga__stmts_deallocating(conn);
    }
    return PGA_OK;
}

/* Queue what the server is owed before anything else can run: BEGIN if
 * asked, then the SAVEPOINT, RELEASE and ROLLBACK TO statements owed, in
 * the order they were given.  Savepoints left before a statement ran owe
 * nothing, which is why an empty block costs no round trip.  The owed
 * list itself is emptied once the batch is on its way (step.c). */
int pga__plan_owed(pga_conn *conn, int begin)
{
    if (begin && pga__cmds_push(conn, PGA__CMD_BEGIN, 0, NULL) != PGA_OK) {
        return PGA_ENOMEM;
    }
    for (size_t i = 0; i < conn->npending; i++) {
        const pga__cmd *p = &conn->pending[i];
        if (pga__cmds_push(conn, p->kind, p->arg, p->name) != PGA_OK) {
            return PGA_ENOMEM;
        }
    }
    return PGA_OK;
}

int pga__plan_controls(pga_conn *conn)
{
    return pga__plan_owed(conn, pga__txn_needed(conn) && !conn->txn_lost && !conn->txn_begun);
}

/* The modes of the BEGIN owed: manual mode's standing options, then this
 * transaction's own (an outermost block's flags, a BEGIN given as SQL, a
 * SET TRANSACTION folded into it). */
static int begin_text(const pga_conn *conn, char *buf, size_t cap)
{
    unsigned f = pga__modes_merge(conn->autocommit ? 0 : conn->txn_options, conn->begin_modes);
    const char *iso = "";
    switch (f & PGA_ISO_MASK) {
    case PGA_ISO_READ_COMMITTED:
        iso = " ISOLATION LEVEL READ COMMITTED";
        break;
    case PGA_ISO_REPEATABLE_READ:
        iso = " ISOLATION LEVEL REPEATABLE READ";
        break;
    case PGA_ISO_SERIALIZABLE:
        iso = " ISOLATION LEVEL SERIALIZABLE";
        break;
    case PGA_ISO_READ_UNCOMMITTED:
        iso = " ISOLATION LEVEL READ UNCOMMITTED";
        break;
    default:
        break;
    }
    const char *rw = (f & PGA_READ_ONLY) ? " READ ONLY" : (f & PGA_READ_WRITE) ? " READ WRITE" : "";
    const char *def = (f & PGA_DEFERRABLE) ? " DEFERRABLE"
                      : (f & PGA_NOT_DEFERRABLE) ? " NOT DEFERRABLE" : "";
    return snprintf(buf, cap, "BEGIN%s%s%s", iso, rw, def);
}

/* text quoted with q, every q inside doubled: "name" or 'gid'.  Names and
 * gids reach the SQL only this way, so no text of theirs can end the
 * quote. */
static int quoted(char *buf, size_t cap, const char *prefix, const char *text, char q)
{
    size_t n = (size_t)snprintf(buf, cap, "%s%c", prefix, q);
    for (const char *p = text; *p != '\0' && n + 3 < cap; p++) {
        if (*p == q) {
            buf[n++] = q;
        }
        buf[n++] = *p;
    }
    buf[n++] = q;
    buf[n] = '\0';
    return (int)n;
}

/* verb 'gid', as E'...' when the gid holds a backslash, so that it means
 * itself whatever standard_conforming_strings says. */
static int gid_text(char *buf, size_t cap, const char *verb, const char *gid)
{
    char prefix[32];
    if (strchr(gid, '\\') == NULL) {
        snprintf(prefix, sizeof(prefix), "%s ", verb);
        return quoted(buf, cap, prefix, gid, '\'');
    }
    char doubled[2 * PGA_GID_MAX + 1];
    size_t n = 0;
    for (const char *p = gid; *p != '\0'; p++) {
        if (*p == '\\') {
            doubled[n++] = '\\';
        }
        doubled[n++] = *p;
    }
    doubled[n] = '\0';
    snprintf(prefix, sizeof(prefix), "%s E", verb);
    return quoted(buf, cap, prefix, doubled, '\'');
}

/* The SQL of a control statement. */
int pga__cmd_text(const pga_conn *conn, const pga__cmd *cmd, char *buf, size_t cap)
{
    switch (cmd->kind) {
    case PGA__CMD_BEGIN:
        return begin_text(conn, buf, cap);
    case PGA__CMD_SAVEPOINT:
        return quoted(buf, cap, "SAVEPOINT ", cmd->name, '"');
    case PGA__CMD_RELEASE:
        return quoted(buf, cap, "RELEASE SAVEPOINT ", cmd->name, '"');
    case PGA__CMD_ROLLBACK_TO:
        return quoted(buf, cap, "ROLLBACK TO SAVEPOINT ", cmd->name, '"');
    case PGA__CMD_COMMIT:
        return snprintf(buf, cap, "COMMIT");
    case PGA__CMD_ROLLBACK:
        return snprintf(buf, cap, "ROLLBACK");
    case PGA__CMD_PREPARE:
        return gid_text(buf, cap, "PREPARE TRANSACTION", conn->gid);
    case PGA__CMD_COMMIT_PREPARED:
        return gid_text(buf, cap, "COMMIT PREPARED", conn->gid);
    case PGA__CMD_ROLLBACK_PREPARED:
        return gid_text(buf, cap, "ROLLBACK PREPARED", conn->gid);
    case PGA__CMD_DEALLOCATE:
        return snprintf(buf, cap, "DEALLOCATE ALL");
    default:
        return snprintf(buf, cap, "%s", "");
    }
}
