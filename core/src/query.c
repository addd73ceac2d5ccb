/* query.c -- the statement starters: one statement (pga_query_start) or a
 * batch of them, each checked, guarded and preceded by what the block
 * stack owes.  What their completion means is complete.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int owes_more_than_begin(const pga_conn *conn)
{
    for (size_t i = 0; i < conn->ncmds; i++) {
        if (conn->cmds[i].kind != PGA__CMD_BEGIN) {
            return 1;
        }
    }
    return 0;
}

int pga__send_script(pga_conn *conn)
{
    char *script = conn->script;
    conn->script = NULL;
    pga__batch_reset(conn);
    int rc = pga__plan_controls(conn);
    if (rc == PGA_OK) {
        conn->multi_command = 1;
        rc = pga__batch_send(conn, PGA__P_QUERY, script, NULL);
    }
    else {
        rc = pga__fail(conn, PGA_ENOMEM);
    }
    free(script);
    return rc;
}

int pga__statement_guard(pga_conn *conn)
{
    if (conn->depth > 0 && conn->needs_rollback) {
        /* The guard: the server would only answer "current transaction is
         * aborted", and a round trip to learn that is a waste. */
        if (conn->has_cause) {
            pga__err_copy(&conn->err, &conn->cause);
        }
        else {
            pga__err_set(conn, PGA_EBROKEN, "%s", pga_strerror(PGA_EBROKEN));
        }
        conn->err.rc = PGA_EBROKEN;
        return PGA_EBROKEN;
    }
    return pga__check_session(conn);
}

int pga__check_params(pga_conn *conn, const char *sql, const pga_params *params, int *commands)
{
    if (sql == NULL) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "the SQL text is NULL");
    }
    /* The server reads '...' with backslash escapes while
     * standard_conforming_strings is off; it reports the setting. */
    const char *scs = conn->pg != NULL ? PQparameterStatus(conn->pg, "standard_conforming_strings")
                                       : NULL;
    int unsure = 0;
    int want = pga__sql_scan_opts(sql, scs != NULL && strcmp(scs, "off") == 0, commands, &unsure);
    int have = params ? pga_params_count(params) : 0;
    /* Where the count is a guess, the server counts: refusing what it
     * would accept is worse than its own error. */
    if (want != have && !unsure) {
        return pga__err_set(conn, PGA_EPARAMCOUNT,
                            "the query has %d placeholder%s but %d parameter%s passed",
                            want, want == 1 ? "" : "s", have, have == 1 ? " was" : "s were");
    }
    if (have > 0) {
        /* The extended protocol takes one command per statement. */
        *commands = 1;
    }
    return PGA_OK;
}

/* What every batch of statements starts with: the guard, a clean batch,
 * and the control statements the block stack owes. */
static int open_batch(pga_conn *conn)
{
    int rc = pga__statement_guard(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    pga__batch_reset(conn);
    return pga__plan_controls(conn) == PGA_OK ? PGA_OK : pga__fail(conn, PGA_ENOMEM);
}

int pga__statement_start(pga_conn *conn, const char *sql, const pga_params *params,
                         int commands, int purpose)
{
    int rc = open_batch(conn);
    if (rc != PGA_OK) {
        return rc;
    }
    conn->multi_command = commands > 1;
    if (conn->multi_command && owes_more_than_begin(conn)) {
        /* A script is parsed whole before any of it runs, so a syntax error
         * in it would also undo a SAVEPOINT sharing its string.  Scripts in
         * nested blocks are rare enough to pay one round trip for that. */
        conn->script = strdup(sql);
        if (conn->script == NULL) {
            return pga__fail(conn, PGA_ENOMEM);
        }
        conn->multi_command = 0;
        return pga__batch_send(conn, PGA__P_PRELUDE, NULL, NULL);
    }
    return pga__batch_send(conn, purpose, sql, params);
}

/* A transaction-ending statement given as SQL that the completion must
 * know about, even outside the SQL control mode: a PREPARE TRANSACTION
 * (its hooks wait under the gid), a COMMIT / ROLLBACK PREPARED of a gid
 * whose hooks wait here.  Only looked for where it can matter. */
static int purpose_of(pga_conn *conn, const pga_control *ctl)
{
    switch (ctl->kind) {
    case PGA_CTL_PREPARE:
        snprintf(conn->gid, sizeof(conn->gid), "%s", ctl->name);
        conn->raw_prepare = 1;
        return PGA__P_QUERY;
    case PGA_CTL_COMMIT_PREPARED:
    case PGA_CTL_ROLLBACK_PREPARED:
        snprintf(conn->gid, sizeof(conn->gid), "%s", ctl->name);
        conn->prepared_end = ctl->kind == PGA_CTL_COMMIT_PREPARED ? PGA_HOOK_RUN : PGA_HOOK_DROP;
        return PGA__P_PREPARED_END;
    default:
        return PGA__P_QUERY;
    }
}

int pga_query_start(pga_conn *conn, const char *sql, const pga_params *params)
{
    int commands = 0, purpose = PGA__P_QUERY;
    int rc = pga__check_idle_pipelined(conn);
    if (rc == PGA_OK) {
        rc = pga__check_params(conn, sql, params, &commands);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    if (pga__pipelined(conn)) {
        if (!pga__pipeline_control(conn, sql, params)) {
            return pga__pipeline_queue(conn, sql, params, commands);
        }
        if (conn->flight) {
            return pga__err_set(conn, PGA_EBUSY, "%s",
                                "a control statement given as SQL waits for the queued "
                                "statements: send them (pga_pipeline_sync) first");
        }
    }
    conn->raw_prepare = 0;
    if (commands == 1 && (params == NULL || pga_params_count(params) == 0)
        && (conn->sql_controls || conn->txn_begun || conn->nparked > 0)) {
        pga_control ctl;
        if (pga_sql_classify(sql, &ctl) != PGA_CTL_NONE) {
            if (conn->sql_controls && (rc = pga__control_start(conn, &ctl)) != PGA__PASS) {
                return rc;
            }
            purpose = purpose_of(conn, &ctl);
        }
    }
    return pga__statement_start(conn, sql, params, commands, purpose);
}

int pga_batch_begin(pga_conn *conn)
{
    int rc = pga__check_idle(conn);
    if (rc == PGA_OK) {
        rc = open_batch(conn);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    rc = pga__pipeline_open(conn);
    if (rc != PGA_OK) {
        conn->purpose = PGA__P_QUERY;
        return pga__batch_finished(conn, rc, 1);
    }
    return PGA_OK;
}

int pga_batch_add(pga_conn *conn, const char *sql, const pga_params *params)
{
    int commands = 0;
    pga__err_clear(conn);
    if (!conn->batch_open) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no batch is open");
    }
    int rc = pga__check_params(conn, sql, params, &commands);
    if (rc != PGA_OK) {
        return rc;
    }
    if (commands > 1) {
        return pga__err_set(conn, PGA_EMISUSE, "%s",
                            "a script of several commands must run on its own");
    }
    return pga__pipeline_add(conn, sql, params);
}

int pga_batch_send(pga_conn *conn)
{
    if (!conn->batch_open) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no batch is open");
    }
    return pga__pipeline_close(conn, PGA__P_QUERY);
}
