/* plan.c -- the round-trip plan: which control statements ride ahead of
 * the next statement, and their SQL.  Sending them is step.c's job. */
#include <stdio.h>

#include "internal.h"

int pga__txn_needed(const pga_conn *conn)
{
    return conn->depth > 0 || !conn->autocommit;
}

int pga__cmds_push(pga_conn *conn, int kind, unsigned arg, int from_pending)
{
    pga__cmd *cmds = pga__grow(conn->cmds, &conn->cmds_cap, conn->ncmds + 1, sizeof(*cmds));
    if (cmds == NULL) {
        return PGA_ENOMEM;
    }
    conn->cmds = cmds;
    conn->cmds[conn->ncmds++] = (pga__cmd){kind, arg, from_pending};
    return PGA_OK;
}

int pga__pending_push(pga_conn *conn, int kind, unsigned sp_id)
{
    pga__cmd *pending = pga__grow(conn->pending, &conn->pending_cap, conn->npending + 1,
                                  sizeof(*pending));
    if (pending == NULL) {
        return PGA_ENOMEM;
    }
    conn->pending = pending;
    conn->pending[conn->npending++] = (pga__cmd){kind, sp_id, 1};
    return PGA_OK;
}

/* Rolling back to a savepoint destroys every later one, so statements
 * still owed to those are moot. */
void pga__pending_drop_newer(pga_conn *conn, unsigned sp_id)
{
    size_t kept = 0;
    for (size_t i = 0; i < conn->npending; i++) {
        if (conn->pending[i].arg <= sp_id) {
            conn->pending[kept++] = conn->pending[i];
        }
    }
    conn->npending = kept;
}

/* Queue what the server is owed before anything else can run: first the
 * RELEASE / ROLLBACK TO of blocks already left (they happened earlier),
 * then BEGIN, then the SAVEPOINTs of blocks entered but not yet sent,
 * outermost first.  Blocks left before their first statement owe nothing,
 * which is why an empty block costs no round trip. */
int pga__plan_controls(pga_conn *conn)
{
    for (size_t i = 0; i < conn->npending; i++) {
        if (pga__cmds_push(conn, conn->pending[i].kind, conn->pending[i].arg, 1) != PGA_OK) {
            return PGA_ENOMEM;
        }
    }
    if (!pga__txn_needed(conn) || conn->txn_lost) {
        return PGA_OK;
    }
    if (!conn->txn_begun && pga__cmds_push(conn, PGA__CMD_BEGIN, 0, 0) != PGA_OK) {
        return PGA_ENOMEM;
    }
    for (int i = 0; i < conn->depth; i++) {
        const pga__block *b = &conn->blocks[i];
        if (b->sp_id != 0 && b->sp_state != PGA__SP_DONE
            && pga__cmds_push(conn, PGA__CMD_SAVEPOINT, (unsigned)i, 0) != PGA_OK) {
            return PGA_ENOMEM;
        }
    }
    return PGA_OK;
}

static int begin_text(const pga_conn *conn, char *buf, size_t cap)
{
    /* Options come from the outermost block only; pga_atomic_enter()
     * refuses them anywhere else. */
    unsigned f = (conn->depth > 0 && conn->autocommit) ? conn->blocks[0].flags : 0;
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

/* The SQL of a control statement; savepoint names are made here from
 * numbers, never from user text. */
int pga__cmd_text(const pga_conn *conn, const pga__cmd *cmd, char *buf, size_t cap)
{
    switch (cmd->kind) {
    case PGA__CMD_BEGIN:
        return begin_text(conn, buf, cap);
    case PGA__CMD_SAVEPOINT:
        return snprintf(buf, cap, "SAVEPOINT pga_s%u", conn->blocks[cmd->arg].sp_id);
    case PGA__CMD_SAVEPOINT_ID:
        return snprintf(buf, cap, "SAVEPOINT pga_s%u", cmd->arg);
    case PGA__CMD_RELEASE:
        return snprintf(buf, cap, "RELEASE SAVEPOINT pga_s%u", cmd->arg);
    case PGA__CMD_ROLLBACK_TO:
        return snprintf(buf, cap, "ROLLBACK TO SAVEPOINT pga_s%u", cmd->arg);
    case PGA__CMD_COMMIT:
        return snprintf(buf, cap, "COMMIT");
    case PGA__CMD_ROLLBACK:
        return snprintf(buf, cap, "ROLLBACK");
    default:
        return snprintf(buf, cap, "%s", "");
    }
}
