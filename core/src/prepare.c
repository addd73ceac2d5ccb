/* prepare.c -- statements a session runs again and again are prepared
 * there once: the server then skips parsing and planning them (psycopg's
 * prepare_threshold).  This file keeps the session's list of statement
 * texts and says, for each one step.c sends, whether it goes unnamed, is
 * prepared now, or runs by name.  The list is bounded; what the server has
 * prepared is forgotten whenever the server may have lost it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A text and its parameter types, and where it stands on this session. */
struct pga__stmt {
    uint64_t hash;
    char *sql;
    unsigned *types;
    int ntypes;
    unsigned uses;        /* sent unnamed so far */
    int state;
    uint64_t last_use;
    char name[PGA__STMT_NAME_MAX];  /* set when its Parse goes out (stmt_name()) */
};

enum {
    STMT_COUNTING,        /* not prepared; counting the uses */
    STMT_PREPARING,       /* its Parse is on the way */
    STMT_PREPARED         /* the server has it under its name */
};

/* Every statement sent is hashed, so eight bytes at a time (a byte-wise
 * FNV-1a cost about 300 instructions a statement). */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    w = (uint64_t)len << 56;
    memcpy(&w, p, len);     /* the tail's bytes below the length */
    h = (h ^ w) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 32);
}

/* The name depends only on the text and types, so a name already on the
 * server (another client's, behind a pooler) can only be this statement.
 * Written once per Parse, not per use: a snprintf() costs more than the
 * rest of the lookup. */
static void stmt_name(const pga_conn *conn, uint64_t hash, char *buf)
{
    /* The generation: statements forgotten while the server may still
     * hold them (a DEALLOCATE of one, a DEALLOCATE ALL that did not run)
     * are never parsed again under their old name, which would fail with
     * 42P05. */
    snprintf(buf, PGA__STMT_NAME_MAX, "pga_%016llx_%u", (unsigned long long)hash,
             conn->stmt_gen);
}

static void stmt_free(pga__stmt *s)
{
    free(s->sql);
    free(s->types);
}

void pga__stmts_free(pga_conn *conn)
{
    pga__resend *r = &conn->resend;
    free(r->sql);
    free(r->types);
    free(r->lengths);
    free(r->formats);
    free(r->offsets);
    free(r->values);
    free(r->data);
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < conn->nstmts; i++) {
        stmt_free(&conn->stmts[i]);
    }
    free(conn->stmts);
    conn->stmts = NULL;
    conn->nstmts = conn->stmts_cap = 0;
}

void pga__stmts_forget(pga_conn *conn)
{
    conn->stmt_gen++;
    for (size_t i = 0; i < conn->nstmts; i++) {
        conn->stmts[i].state = STMT_COUNTING;
        conn->stmts[i].uses = 0;
    }
}

void pga__stmts_reset(pga_conn *conn)
{
    pga__stmts_forget(conn);
    conn->stmts_held = 0;
    conn->dealloc_due = 0;
}

/* psycopg's rule (its PrepareManager.clear()): a table a prepared text
 * reads may be dropped and made again with other column types, and the
 * server then refuses to run the text by name (0A000 "cached plan must not
 * change result type").  On this session that shows as a DROP or ALTER;
 * from another session it cannot be seen, but a rollback is where psycopg
 * and the ORMs above it start afresh (a pool's reset, a failed test).  The
 * texts count again from there, and the server drops what it holds of
 * ours: behind the engine's ROLLBACK in its flight, else leading the next
 * flight (step.c). */
int pga__stmts_clear(pga_conn *conn)
{
    pga__stmts_forget(conn);
    if (conn->stmts_held) {
        conn->dealloc_due = 1;
    }
    return conn->dealloc_due;
}

void pga__stmts_deallocating(pga_conn *conn)
{
    conn->dealloc_due = 0;
    conn->stmts_held = 0;
}

void pga__stmts_dealloc_undone(pga_conn *conn)
{
    /* What the server holds is under names no text uses any more (the
     * generation changed), so nothing clashes while it waits. */
    conn->dealloc_due = 1;
    conn->stmts_held = 1;
}

static pga__stmt *find(pga_conn *conn, uint64_t hash, const char *sql, int n,
                       const unsigned *types)
{
    for (size_t i = 0; i < conn->nstmts; i++) {
        pga__stmt *s = &conn->stmts[i];
        if (s->sql != NULL && s->hash == hash && s->ntypes == n && strcmp(s->sql, sql) == 0
            && (n == 0 || memcmp(s->types, types, (size_t)n * sizeof(*types)) == 0)) {
            return s;
        }
    }
    return NULL;
}

/* A slot for a new text: a free one, else the least recently used text
 * that is not on the server (a prepared one stays until the session ends:
 * dropping it would cost a DEALLOCATE).  NULL when all are prepared. */
static pga__stmt *slot(pga_conn *conn)
{
    if (conn->nstmts < PGA__STMTS_MAX) {
        pga__stmt *grown = pga__grow(conn->stmts, &conn->stmts_cap, conn->nstmts + 1,
                                     sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        conn->stmts = grown;
        pga__stmt *s = &conn->stmts[conn->nstmts++];
        memset(s, 0, sizeof(*s));
        return s;
    }
    pga__stmt *victim = NULL;
    for (size_t i = 0; i < conn->nstmts; i++) {
        pga__stmt *s = &conn->stmts[i];
        if (s->state == STMT_COUNTING
            && (victim == NULL || s->sql == NULL || s->last_use < victim->last_use)) {
            if (s->sql == NULL) {
                return s;   /* freed by a failed allocation: already empty */
            }
            victim = s;
        }
    }
    if (victim != NULL) {
        stmt_free(victim);
        memset(victim, 0, sizeof(*victim));
    }
    return victim;
}

int pga__stmt_plan(pga_conn *conn, const char *sql, int n, const unsigned *types,
                   const char **name, int *index)
{
    *index = -1;
    if (conn->prepare_threshold <= 0 || conn->prepare_off
        || conn->pid_state == PGA__PID_MISMATCH) {
        return PGA__SEND_UNNAMED;
    }
    uint64_t hash = hash_bytes(14695981039346656037u, sql, strlen(sql));
    if (n > 0) {
        hash = hash_bytes(hash, types, (size_t)n * sizeof(*types));
    }
    pga__stmt *s = find(conn, hash, sql, n, types);
    if (s == NULL) {
        s = slot(conn);
        if (s == NULL) {
            return PGA__SEND_UNNAMED;
        }
        s->sql = strdup(sql);
        s->types = n > 0 ? malloc((size_t)n * sizeof(*types)) : NULL;
        if (s->sql == NULL || (n > 0 && s->types == NULL)) {
            /* Without memory the text just goes unnamed; the slot stays
             * empty (sql NULL) for the next one. */
            stmt_free(s);
            memset(s, 0, sizeof(*s));
            return PGA__SEND_UNNAMED;
        }
        if (n > 0) {
            memcpy(s->types, types, (size_t)n * sizeof(*types));
        }
        s->hash = hash;
        s->ntypes = n;
    }
    s->last_use = ++conn->stmt_clock;
    switch (s->state) {
    case STMT_PREPARED:
        *name = s->name;
        *index = (int)(s - conn->stmts);
        return PGA__SEND_NAMED;
    case STMT_COUNTING:
        if (s->uses < (unsigned)conn->prepare_threshold) {
            s->uses++;
        }
        if (s->uses < (unsigned)conn->prepare_threshold) {
            return PGA__SEND_UNNAMED;
        }
        if (conn->pid_state == PGA__PID_UNKNOWN) {
            /* A pooler in transaction mode hands the next transaction
             * another server session, where the name does not exist; it
             * shows in the backend key it makes up, which is not the
             * process id of the server session behind it.  The text goes
             * unnamed once more with SELECT pg_backend_pid() riding behind
             * it (no round trip of its own), and is prepared at its next
             * use if the two agree. */
            conn->pid_state = PGA__PID_PROBING;
            return PGA__SEND_PROBE;
        }
        if (conn->pid_state != PGA__PID_MATCH) {
            return PGA__SEND_UNNAMED;   /* the answer is on its way */
        }
        s->state = STMT_PREPARING;
        conn->stmts_held = 1;
        stmt_name(conn, hash, s->name);
        *name = s->name;
        *index = (int)(s - conn->stmts);
        return PGA__SEND_PREPARE;
    default:
        /* PREPARING: a second copy in the same batch goes unnamed, so it
         * cannot fail for want of a Parse that failed. */
        return PGA__SEND_UNNAMED;
    }
}

/* The Parse of the text at index (an index is stable while its Parse is
 * on the way: a text being prepared is never evicted) succeeded or not. */
void pga__stmt_parsed(pga_conn *conn, int index, int ok)
{
    if (index < 0 || (size_t)index >= conn->nstmts) {
        return;
    }
    pga__stmt *s = &conn->stmts[index];
    if (s->state == STMT_PREPARING) {
        s->state = ok ? STMT_PREPARED : STMT_COUNTING;
        s->uses = 0;
    }
}

/* The server lost a name of ours, or had one it should not have: what it
 * holds is not what this session thinks (a pooler that shares server
 * sessions, a DEALLOCATE the engine did not see).  Guessing again could
 * fail another statement, so this connection prepares nothing from now on. */
static void stop_preparing(pga_conn *conn)
{
    conn->prepare_off = 1;
    pga__stmts_forget(conn);
}

int pga__stmt_failed(pga_conn *conn, int index, int parse, const char *sqlstate,
                     const char *message)
{
    if (index < 0 || (size_t)index >= conn->nstmts || sqlstate == NULL) {
        return 0;
    }
    if (parse) {
        /* 42P05 duplicate_prepared_statement: the name is there already,
         * though this session never prepared it.  Any other failure of the
         * Parse (a syntax error) is the statement's own. */
        if (strcmp(sqlstate, "42P05") == 0) {
            stop_preparing(conn);
            return 1;
        }
        return 0;
    }
    if (conn->stmts[index].state != STMT_PREPARED) {
        return 0;
    }
    const char *name = conn->stmts[index].name;
    if (strcmp(sqlstate, "26000") == 0 && message != NULL && strstr(message, name) != NULL) {
        /* "prepared statement "pga_..." does not exist"; the same code
         * raised by the statement itself is its own business. */
        stop_preparing(conn);
        return 1;
    }
    if (strcmp(sqlstate, "0A000") == 0 && message != NULL
        && strstr(message, "cached plan must not change result type") != NULL) {
        /* A table changed under it out of sight (another session, no
         * rollback here since); refused at Bind: nothing ran. */
        pga__stmts_clear(conn);
        return 1;
    }
    return 0;
}

void pga__stmt_pid(pga_conn *conn, const char *pid)
{
    if (conn->pid_state != PGA__PID_PROBING) {
        return;
    }
    if (pid == NULL) {
        conn->pid_state = PGA__PID_UNKNOWN;     /* asked again when next due */
        return;
    }
    conn->pid_state = conn->pg != NULL && atol(pid) == (long)PQbackendPID(conn->pg)
                          ? PGA__PID_MATCH
                          : PGA__PID_MISMATCH;
}

void pga__stmts_batch_over(pga_conn *conn)
{
    if (conn->pid_state == PGA__PID_PROBING) {
        conn->pid_state = PGA__PID_UNKNOWN;     /* the probe never answered */
    }
    for (size_t i = 0; i < conn->nstmts; i++) {
        if (conn->stmts[i].state == STMT_PREPARING) {
            conn->stmts[i].state = STMT_COUNTING;
            conn->stmts[i].uses = 0;
        }
    }
}

int pga_conn_set_prepare_threshold(pga_conn *conn, int n)
{
    if (n < 0) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "the prepare threshold must be >= 0");
    }
    conn->prepare_threshold = n;
    return PGA_OK;
}

int pga_conn_get_prepare_threshold(const pga_conn *conn)
{
    return conn->prepare_threshold;
}

int pga_conn_prepared_count(const pga_conn *conn)
{
    int n = 0;
    for (size_t i = 0; i < conn->nstmts; i++) {
        n += conn->stmts[i].state == STMT_PREPARED;
    }
    return n;
}
