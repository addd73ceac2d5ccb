/* pipeline.c -- pipelined transactions (PGA_PIPELINE): statements join an
 * open flight instead of waiting; the flight travels with one sync when a
 * front end forces it (a result is read) or with the transaction's COMMIT.
 * What that changes for errors is in docs/core.md "Pipelined transactions". */
#include "internal.h"

int pga__pipelined(const pga_conn *conn)
{
    if (conn->txn_lost) {
        return 0;
    }
    /* The connection's pipeline mode: whatever transaction is in hand (a
     * manual one, one begun as SQL, a block's) is pipelined; outside one a
     * statement is its own transaction and is read at once. */
    if (conn->pipeline_on) {
        return pga__txn_needed(conn);
    }
    /* Otherwise only the transaction's own block decides: a savepoint
     * block cannot hold a flight past its exit without changing when its
     * RELEASE happens, and nested blocks of a pipelined transaction are
     * part of it. */
    return conn->depth > 0 && conn->blocks[0].is_txn && (conn->blocks[0].flags & PGA_PIPELINE);
}

int pga_conn_set_pipeline(pga_conn *conn, int on)
{
    int was = conn->pipeline_on;
    pga__err_clear(conn);
    conn->pipeline_on = on != 0;
    if (conn->flight && !pga__pipelined(conn)) {
        /* The open flight would be left with nobody to send it. */
        conn->pipeline_on = was;
        return pga__err_set(conn, PGA_EBUSY, "%s",
                            "statements are queued: send them (pga_pipeline_sync) first");
    }
    return PGA_OK;
}

int pga_conn_get_pipeline(const pga_conn *conn)
{
    return conn->pipeline_on;
}

int pga__pipeline_control(const pga_conn *conn, const char *sql, const pga_params *params)
{
    pga_control ctl;
    /* A script classifies as PGA_CTL_NONE, so one statement is meant. */
    return conn->pipeline_on && conn->sql_controls && sql != NULL
           && (params == NULL || pga_params_count(params) == 0)
           && pga_sql_classify(sql, &ctl) != PGA_CTL_NONE;
}

int pga_pipeline_must_sync(const pga_conn *conn, const char *sql, const pga_params *params)
{
    return conn->flight && pga__pipelined(conn) && pga__pipeline_control(conn, sql, params);
}

int pga_pipeline_active(const pga_conn *conn)
{
    return pga__pipelined(conn);
}

int pga_pipeline_queued(const pga_conn *conn)
{
    return conn->flight ? (int)conn->noutcomes : 0;
}

int pga__check_idle_pipelined(pga_conn *conn)
{
    if (conn->flight && conn->op == PGA__OP_NONE && pga__pipelined(conn)) {
        pga__err_clear(conn);
        return PGA_OK;
    }
    return pga__check_idle(conn);
}

/* What went into the flight is counted as made: the next statement must
 * not owe the BEGIN or SAVEPOINT again, and a block left before the flight
 * travels must RELEASE or ROLLBACK TO a savepoint the server will have.
 * step.c takes it back for one that fails or is skipped. */
static void count_as_sent(pga_conn *conn, size_t from)
{
    int i;
    for (size_t k = from; k < conn->ncmds; k++) {
        const pga__cmd *cmd = &conn->cmds[k];
        if (cmd->kind == PGA__CMD_BEGIN) {
            conn->txn_begun = 1;
        }
        else if (cmd->kind == PGA__CMD_SAVEPOINT && (i = pga__sp_find_id(conn, cmd->arg)) >= 0) {
            conn->sps[i].sent = 1;
        }
    }
    /* Owed no more: they are in the flight. */
    conn->npending = 0;
}

/* The flight could not be written: the session is gone; the completion
 * tells the stack, as for any batch. */
static int lost(pga_conn *conn, int rc)
{
    conn->purpose = PGA__P_QUERY;
    return pga__batch_finished(conn, rc, 1);
}

int pga__pipeline_queue(pga_conn *conn, const char *sql, const pga_params *params, int commands)
{
    int rc = pga__statement_guard(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    if (commands > 1) {
        /* libpq's pipeline speaks only the extended protocol, which takes
         * one command per statement. */
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a script of several commands cannot run in a pipelined transaction");
    }
    size_t from = 0;
    if (!conn->flight) {
        pga__batch_reset(conn);
        if (pga__plan_controls(conn) != PGA_OK) {
            return pga__fail(conn, PGA_ENOMEM);
        }
        if ((rc = pga__pipeline_open(conn)) != PGA_OK) {
            return lost(conn, rc);
        }
        conn->flight = 1;
    }
    else {
        from = conn->ncmds;
        if (pga__plan_controls(conn) != PGA_OK) {
            return pga__fail(conn, PGA_ENOMEM);
        }
        if ((rc = pga__pipeline_controls(conn, from)) != PGA_OK) {
            return lost(conn, rc);
        }
    }
    count_as_sent(conn, from);
    if ((rc = pga__pipeline_add(conn, sql, params)) != PGA_OK) {
        return rc == PGA_ECONN ? lost(conn, rc) : rc;
    }
    return PGA_OK;
}

int pga__pipeline_end(pga_conn *conn, int how)
{
    size_t from = conn->ncmds;
    int purpose = how == PGA__END_COMMIT ? PGA__P_COMMIT
                  : how == PGA__END_PREPARE ? PGA__P_PREPARE : PGA__P_ROLLBACK;
    if (how == PGA__END_ROLLBACK) {
        /* A sync first: a statement of the flight that failed must not
         * take the ROLLBACK down with it (the server skips everything up
         * to the next sync).  Still one round trip. */
        conn->npending = 0;
        if (!PQpipelineSync(conn->pg)) {
            return lost(conn, pga__err_lost(conn, PGA_ECONN));
        }
        conn->nsyncs++;
        if (pga__plan_rollback(conn) != PGA_OK) {
            return pga__fail(conn, PGA_ENOMEM);
        }
    }
    else if (pga__plan_owed(conn, 0) != PGA_OK
             || pga__cmds_push(conn, how == PGA__END_COMMIT ? PGA__CMD_COMMIT : PGA__CMD_PREPARE, 0,
                               NULL) != PGA_OK) {
        return pga__fail(conn, PGA_ENOMEM);
    }
    int rc = pga__pipeline_controls(conn, from);
    if (rc == PGA_OK && how == PGA__END_ROLLBACK) {
        /* Its own sync: the block is popped, so pga__pipeline_close()
         * counts what follows as autonomous and adds none after the first. */
        if (PQpipelineSync(conn->pg)) {
            conn->nsyncs++;
        }
        else {
            rc = pga__err_lost(conn, PGA_ECONN);
        }
    }
    if (rc != PGA_OK) {
        conn->purpose = purpose;
        return pga__batch_finished(conn, rc, 1);
    }
    return pga__pipeline_close(conn, purpose);
}

int pga_pipeline_sync_start(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE || (conn->batch_open && !conn->flight)) {
        return pga__fail(conn, PGA_EBUSY);
    }
    if (!conn->flight) {
        return PGA_OK;
    }
    return pga__pipeline_close(conn, PGA__P_QUERY);
}
