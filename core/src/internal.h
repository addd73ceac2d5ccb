/* internal.h -- declarations shared by the core's files, never installed.
 * Owns the pga__ names; the public contract stays in pgatomic.h. */
#ifndef PGA_INTERNAL_H
#define PGA_INTERNAL_H

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "pgatomic.h"

/* Room for need (>= 1) items in a doubling array: returns the array, moved
 * or not (the caller stores it back), or NULL with the old one untouched. */
static inline void *pga__grow(void *items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return items;
    }
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need) {
        ncap *= 2;
    }
    void *p = realloc(items, ncap * size);
    if (p != NULL) {
        *cap = ncap;
    }
    return p;
}

/* params.c: the encoded form, ready for PQsendQueryParams().  Arrays stay
 * owned by the pga_params; values[i] is NULL for SQL NULL; formats[i] is 1
 * for binary (bytea travels raw) and 0 for text. */
typedef struct pga__params_view {
    int count;
    const unsigned *types;
    const char *const *values;
    const int *lengths;
    const int *formats;
} pga__params_view;

void pga__params_view_of(const pga_params *p, pga__params_view *out);
/* Strict UTF-8 as the server checks it (NUL aside). */
int pga__utf8_valid(const unsigned char *s, size_t len);

/* ---- engine state (conn.c, atomic.c, savepoint.c, complete.c, query.c,
 * controls.c, manual.c, plan.c, step.c, hooks.c) ---- */

#include <libpq-fe.h>

typedef struct pga__block {
    unsigned flags;       /* PGA_* flags given to pga_atomic_enter() */
    unsigned sp_id;       /* its savepoint's id; 0: none (the transaction, or merged) */
    int is_txn;           /* the block is the transaction (BEGIN ... COMMIT) */
} pga__block;

/* A savepoint as the server will know it once what is owed has run.  The
 * list of them is the server's savepoint stack, oldest first; those whose
 * SAVEPOINT is still owed are always its newest (a suffix). */
typedef struct pga__savepoint {
    unsigned id;          /* unique on the connection, in creation order */
    int sent;             /* the server has it; else its SAVEPOINT is owed */
    uint64_t hook_seq;    /* hooks registered from here on roll back with it */
    char name[PGA_NAME_MAX + 1];
} pga__savepoint;

/* A registered hook and the block it belongs to: depth 1 is the outermost
 * block, 0 the transaction itself once that block is gone (manual mode). */
typedef struct pga__held_hook {
    pga_hook hook;
    int depth;
    uint64_t seq;         /* registration order, for manual savepoints */
} pga__held_hook;

/* The statements of a batch: the user's, and the control statements the
 * server is owed, which ride ahead of them. */
enum {
    PGA__CMD_USER,           /* arg = outcome index */
    PGA__CMD_BEGIN,
    PGA__CMD_SAVEPOINT,      /* arg = savepoint id, name */
    PGA__CMD_RELEASE,        /* arg = savepoint id, name */
    PGA__CMD_ROLLBACK_TO,    /* arg = savepoint id, name */
    PGA__CMD_COMMIT,
    PGA__CMD_ROLLBACK,
    PGA__CMD_PREPARE,        /* PREPARE TRANSACTION conn->gid */
    PGA__CMD_COMMIT_PREPARED,    /* COMMIT PREPARED conn->gid */
    PGA__CMD_ROLLBACK_PREPARED,  /* ROLLBACK PREPARED conn->gid */
    PGA__CMD_DEALLOCATE      /* DEALLOCATE ALL: the session's prepared texts (prepare.c) */
};

typedef struct pga__cmd {
    int kind;
    unsigned arg;
    char name[PGA_NAME_MAX + 1];
    int parse;            /* its Parse (prepare.c) answers first */
    int stmt;             /* its text in conn->stmts when sent by name, else -1 */
    int probe;            /* 1: SELECT pg_backend_pid() answers after it; 2: answering */
} pga__cmd;

/* prepare.c: a session's statement texts, prepared once used often enough */
typedef struct pga__stmt pga__stmt;
#define PGA__STMTS_MAX 100          /* texts tracked (and at most prepared) per session */
#define PGA__STMT_NAME_MAX 32       /* "pga_" + 16 hex digits + "_" + generation + NUL */
#define PGA__PREPARE_THRESHOLD 5    /* psycopg's default */
enum { PGA__SEND_UNNAMED, PGA__SEND_PREPARE, PGA__SEND_NAMED,
       PGA__SEND_PROBE /* unnamed, and learn the backend's pid behind it */ };
/* What the session knows of its backend's process id (prepare.c). */
enum { PGA__PID_UNKNOWN, PGA__PID_PROBING, PGA__PID_MATCH, PGA__PID_MISMATCH };

/* A copy of the last statement sent by name with a sync of its own, so
 * that it can go again unnamed when the server lost the name (step.c). */
typedef struct pga__resend {
    int cmd;              /* its index in conn->cmds, -1: none */
    int due;              /* it met a lost name: send it again unnamed */
    int rc_before;        /* the batch's rc before that failure */
    int count;
    char *sql;
    unsigned *types;
    int *lengths, *formats;
    long *offsets;        /* of each value in data, -1: NULL */
    const char **values;
    char *data;
    size_t sql_cap, count_cap, data_cap;
} pga__resend;

/* A prepared transaction's hook, waiting for COMMIT / ROLLBACK PREPARED. */
typedef struct pga__parked_hook {
    pga_hook hook;
    char gid[PGA_GID_MAX + 1];
} pga__parked_hook;

/* A settled hook waiting for its owner, with what became of it. */
typedef struct pga__ready_hook {
    pga_hook hook;
    int disposition;      /* PGA_HOOK_RUN or PGA_HOOK_DROP */
} pga__ready_hook;

/* What a batch is for decides what its completion does. */
enum {
    PGA__P_QUERY,
    PGA__P_PRELUDE,          /* controls sent ahead of a script of several commands */
    PGA__P_COMMIT,           /* COMMIT of the transaction (block, manual or SQL) */
    PGA__P_PREPARE,          /* PREPARE TRANSACTION of it */
    PGA__P_ROLLBACK,         /* ROLLBACK of it */
    PGA__P_CLEANUP,          /* ROLLBACK after a failed COMMIT or PREPARE batch */
    PGA__P_PREPARED_END      /* COMMIT / ROLLBACK PREPARED conn->gid */
};

enum { PGA__OP_NONE, PGA__OP_CONNECT, PGA__OP_BATCH };

/* What became of one user statement of a batch. */
typedef struct pga__error pga__error;

#define PGA__MSG_MAX 1024

struct pga__error {
    int rc;
    uint64_t seq;         /* which error this is (pga_conn_error_seq()); 0: none */
    char msg[PGA__MSG_MAX];
    char sqlstate[6];
    int kind;
    char *diag[PGA_DIAG__COUNT];
};

typedef struct pga__outcome {
    int rc;
    int aborted;          /* skipped: an earlier statement of the sync failed */
    int day_first;        /* DateStyle's order was DMY when the result came */
    PGresult *res;        /* its result; a script's first one */
    PGresult **more;      /* a script's later results, in the order they ran */
    size_t nmore, more_cap, more_taken;
    const char *tag;      /* a control statement the engine answered: its tag */
    pga__error err;
} pga__outcome;

/* Rows copied out of single-row results: one batch of a stream.  Each
 * value is NUL-ended in data; a cell's len is -1 for NULL. */
typedef struct pga__cell {
    size_t off;
    int len;
} pga__cell;

typedef struct pga__rows {
    int nrows, ncols;
    char *data;
    size_t len, cap;
    pga__cell *cells;     /* nrows * ncols */
    size_t cells_cap;
} pga__rows;

typedef struct pga__stream pga__stream;

/* Where and how to ask the server to cancel: fixed when the session
 * opens, read by any thread (pga_conn_cancel()). */
typedef struct pga__cancel_key {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int pid, key;
    int known;            /* 0: libpq's layout is unknown, use PQcancel() */
} pga__cancel_key;

struct pga_conn {
    PGconn *pg;
    int server_closing;   /* a FATAL arrived while idle: the session is ending */
    PGcancel *cancel;
    pga__cancel_key cancel_key;
    _Atomic int cancel_slot;        /* the request in flight (cancel.c), or -1 */
    int cancel_seen;                /* the slot value cancel_deadline is for */
    int64_t cancel_deadline;
    /* Requests of a session already left, kept until the server closes
     * them (cancel.c says why); stepped like the one in flight. */
    int draining[4];
    int64_t draining_sent[4];       /* when each was written (or first seen so) */
    char *conninfo;
    pid_t pid;            /* the process that opened the session */

    /* deadlines (monotonic ms; 0: none) */
    int64_t deadline;
    int timeout_ms;       /* pga_conn_set_timeout(); 0: none */
    int cancel_requested; /* the batch's deadline passed once: cancel sent */
    int timed_out;        /* the engine closed the session: keep its message */
    int connect_timeout_ms;
    int user_keepalives;  /* the string sets keepalive options: leave them be */
    int host_index, host_count;   /* the host being tried, of a multi-host string */
    char *host_list, *hostaddr_list, *port_list;
    char *connect_errors; /* why each host tried so far failed */

    /* the operation in progress */
    int op;
    int purpose;
    int flushing;
    int pipeline;
    int commit_sent;      /* COMMIT or PREPARE handed to libpq: a loss now is "unknown" */
    int copy_out;         /* draining a COPY TO STDOUT nobody asked us to read */
    int multi_command;    /* the user text is a script of several commands */
    pga__cmd *cmds;
    size_t ncmds, cmds_cap, cmd_index;
    int batch_rc;         /* first failure seen in the batch */
    int saved_rc;         /* the news a cleanup batch must still report */
    char *script;         /* the script waiting for its prelude */
    pga__outcome *outcomes;
    size_t noutcomes, outcomes_cap;
    int nsyncs, syncs_seen;
    int batch_open;       /* between pga_batch_begin() and pga_batch_send() */
    int flight;           /* the open batch is a pipelined transaction's flight */
    char *text;           /* batch SQL (simple protocol) */
    size_t text_cap;

    /* the block stack and what the server is owed */
    pga__block *blocks;
    int depth;
    size_t blocks_cap;
    pga__cmd *pending;    /* savepoint statements owed, in order */
    size_t npending, pending_cap;
    pga__savepoint *sps;
    size_t nsps, sps_cap;
    unsigned next_sp;
    int autocommit;
    int sql_controls;     /* control statements in SQL text are absorbed */
    int pipeline_on;      /* pga_conn_set_pipeline(): every transaction is pipelined */
    int sql_txn;          /* a transaction opened by BEGIN as SQL (or adopted) */
    unsigned txn_options; /* manual mode: the modes of every implicit BEGIN */
    unsigned begin_modes; /* this transaction's BEGIN modes (over txn_options) */
    int txn_begun;        /* BEGIN confirmed by the server */
    int txn_aborted;      /* the server's transaction failed ('E') and nothing owed undoes it */
    int needs_rollback;   /* Django's flag: connection-wide, cleared by a savepoint rollback */
    int txn_lost;         /* the transaction ended behind the engine's back */
    char gid[PGA_GID_MAX + 1];   /* the PREPARE TRANSACTION in flight, or the
                                    COMMIT / ROLLBACK PREPARED */
    int prepared_end;     /* that COMMIT / ROLLBACK PREPARED: PGA_HOOK_RUN or _DROP */
    int raw_prepare;      /* the statement in flight is a PREPARE TRANSACTION conn->gid */

    /* hooks: registered (in order) and ready for the owner */
    pga__held_hook *hooks;
    size_t nhooks, hooks_cap;
    uint64_t hook_seq;
    pga__ready_hook *ready;
    size_t ready_head, nready, ready_cap;
    pga__parked_hook *parked;
    size_t nparked, parked_cap;

    /* notifications (notify.c): a ring, oldest at notes_head */
    PGnotify **notes;
    size_t notes_head, nnotes, notes_cap;
    uint64_t notes_dropped;
    PGnotify *note_taken;  /* the one pga_notification_next() lent out */

    pga__error err;
    uint64_t err_seq;     /* the last error's number */
    pga__error cause;     /* the error that broke the block */
    int has_cause;
    pga__error abort_cause;  /* the error that aborted the transaction ('E') */
    int has_abort_cause;

    /* how the last block (or transaction) ended, pga_atomic_outcome() */
    int end_asked;        /* PGA__END_* the exit asked for */
    int vanished;         /* PGA_OUTCOME_* blocks left after their transaction ended
                             behind them report (txn_lost) */
    pga_outcome outcome;
    pga__error outcome_cause;
    char prepared_gid[PGA_GID_MAX + 1];  /* what the last transaction prepared was
                                            prepared as (pga_atomic_outcome_gid) */
    uint64_t round_trips;
    char name_buf[PGA_NAME_MAX + 1];

    pga__stream *stream;  /* the statement whose rows come in batches (stream.c) */

    /* prepared statements (prepare.c) */
    int prepare_threshold;    /* uses before a text is prepared; 0: never */
    int pid_state;            /* PGA__PID_*: prepare only on MATCH */
    int prepare_off;          /* the server lost a name once: never prepare again */
    int probe_in_txn;         /* the probe in flight shares the user's transaction */
    pga__resend resend;
    pga__stmt *stmts;
    size_t nstmts, stmts_cap;
    uint64_t stmt_clock;
    unsigned stmt_gen;        /* part of every name: bumped when texts are forgotten */
    int stmts_held;           /* a Parse of ours went out since the last DEALLOCATE ALL */
    int dealloc_due;          /* a rollback owes the server a DEALLOCATE ALL */

    /* busy polling (busypoll.c) */
    int busy_poll_us;         /* pga_conn_set_busy_poll(); 0: off */
    int bp_awaiting;          /* a round trip is sent and none of its answer read yet */
    int bp_spin;              /* ... and the driver may spin for it */
    int64_t bp_sent_us;       /* when it was sent (monotonic microseconds) */
    int bp_misses;            /* answers in a row later than the budget (at most MISSES) */
    int bp_pays;              /* the last choice: spin (1) or sleep (0) */
    unsigned bp_same;         /* round trips sent since it last changed */
    int64_t bp_spin_avg;      /* mean answer time of spun / slept round trips, capped */
    int64_t bp_sleep_avg;     /* at the budget (microseconds; 0: none yet) */
};

/* busypoll.c: a round trip's last byte left (its clock starts), and the
 * first of its answer was read (it was a hit or a miss). */
void pga__busy_poll_sent(pga_conn *conn);
void pga__busy_poll_answered(pga_conn *conn);

/* conn.c: the error state */
void pga__err_clear(pga_conn *conn);
int pga__err_set(pga_conn *conn, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pga__err_server(pga_conn *conn, const PGresult *res);
void pga__err_fill(pga__error *e, const PGresult *res);
int pga__err_lost(pga_conn *conn, int rc);
void pga__err_copy(pga__error *dst, const pga__error *src);
void pga__err_free(pga__error *e);
/* A server error the engine answers itself, because it knows the server
 * would give exactly this (and stay in the same state): ERROR, sqlstate,
 * msg as the server words it.  Returns PGA_ESERVER. */
int pga__err_local(pga_conn *conn, const char *sqlstate, const char *msg);
#define PGA__MSG_ABORTED "current transaction is aborted, commands ignored until end of transaction block"
int pga__conn_usable(const pga_conn *conn);
/* getpid() without a system call (cached; renewed in children of fork()). */
pid_t pga__self_pid(void);
/* Set the error state to rc with the code's own text; returns rc. */
int pga__fail(pga_conn *conn, int rc);
/* The guards starters open with: no operation in progress (clears the
 * error state), and a session that is open and healthy. */
int pga__check_idle(pga_conn *conn);
int pga__check_session(pga_conn *conn);
int pga__connect_step(pga_conn *conn);
int pga__connect_deadline(pga_conn *conn);
void pga__read_idle(pga_conn *conn);
/* The monotonic clock, in microseconds and in milliseconds. */
int64_t pga__now_us(void);
int64_t pga__now_ms(void);
/* cancel.c: deliver cancel requests without ever waiting */
void pga__cancel_key_capture(pga_conn *conn);
int pga__cancel_send(pga_conn *conn);
void pga__cancel_step(pga_conn *conn);
void pga__cancel_abandon(pga_conn *conn);
void pga__cancel_settle(pga_conn *conn);
void pga__cancel_close_all(pga_conn *conn);
int pga__cancel_pending(const pga_conn *conn);

/* plan.c: which control statements the next batch carries */
/* BEGIN (if begin) and the savepoint statements owed, into conn->cmds. */
int pga__plan_owed(pga_conn *conn, int begin);
/* The same, with BEGIN when the next statement opens the transaction. */
int pga__plan_controls(pga_conn *conn);
int pga__cmds_push(pga_conn *conn, int kind, unsigned arg, const char *name);
/* ROLLBACK, with the DEALLOCATE ALL a rollback owes riding behind it. */
int pga__plan_rollback(pga_conn *conn);
/* The longest control statement's text, with its NUL. */
#define PGA__CMD_TEXT_MAX (4 * PGA_GID_MAX + 64)
int pga__cmd_text(const pga_conn *conn, const pga__cmd *cmd, char *buf, size_t cap);
/* A transaction is open, or the next statement opens one. */
int pga__txn_needed(const pga_conn *conn);

/* prepare.c.  pga__stmt_plan(): how to send sql with these parameter
 * types (PGA__SEND_*); *name the statement's name unless UNNAMED (valid
 * until the next call),
 * index its slot for the calls below (-1: none). */
int pga__stmt_plan(pga_conn *conn, const char *sql, int n, const unsigned *types,
                   const char **name, int *index);
void pga__stmt_parsed(pga_conn *conn, int index, int ok);
/* The statement sent by name from slot index failed with sqlstate (Parse:
 * the failure of the Parse that prepared it).  1 when nothing of it ran
 * because of the name (the server lost it, or already had it, or will not
 * run it by name any more): it may go again unnamed. */
int pga__stmt_failed(pga_conn *conn, int index, int parse, const char *sqlstate,
                     const char *message);
/* The answer to SELECT pg_backend_pid(): NULL when it failed. */
void pga__stmt_pid(pga_conn *conn, const char *pid);
/* The server may have lost a prepared statement of ours (DEALLOCATE of
 * one), or one may no longer fit its table (DROP, ALTER): every text
 * counts again, under new names. */
void pga__stmts_forget(pga_conn *conn);
/* The server holds none of ours: a new session, DISCARD ALL, DEALLOCATE ALL. */
void pga__stmts_reset(pga_conn *conn);
/* A transaction rolled back, or a table may have changed under the texts
 * (DROP, ALTER, 0A000): every text counts again, and the server owes a
 * DEALLOCATE ALL when it may hold statements of ours (then 1). */
int pga__stmts_clear(pga_conn *conn);
/* The DEALLOCATE ALL owed goes into the flight now, or did not run after
 * all (skipped, failed): owed again. */
void pga__stmts_deallocating(pga_conn *conn);
void pga__stmts_dealloc_undone(pga_conn *conn);
/* Parses that never answered (the batch ended early) did not happen. */
void pga__stmts_batch_over(pga_conn *conn);
void pga__stmts_free(pga_conn *conn);

/* step.c */
int pga__batch_send(pga_conn *conn, int purpose, const char *sql,
                    const pga_params *params);
int pga__pipeline_open(pga_conn *conn);
int pga__pipeline_add(pga_conn *conn, const char *sql, const pga_params *params);
/* Send the control statements conn->cmds[from..] into the open pipeline. */
int pga__pipeline_controls(pga_conn *conn, size_t from);
int pga__pipeline_close(pga_conn *conn, int purpose);
void pga__batch_reset(pga_conn *conn);
/* The statement's outcome is a result holding only tag (a static string):
 * a control statement the engine answered or ended the transaction for. */
int pga__answer(pga_conn *conn, const char *tag);

/* atomic.c: the block stack and the transaction it holds */
void pga__txn_over(pga_conn *conn, int committed, int broken);
/* End the transaction: COMMIT, ROLLBACK or PREPARE TRANSACTION (gid). */
enum { PGA__END_COMMIT, PGA__END_ROLLBACK, PGA__END_PREPARE };
int pga__txn_finish(pga_conn *conn, int how, int asked);
/* How the ending block or transaction ended (pga_atomic_outcome()); cause:
 * the error that broke it, or NULL. */
void pga__outcome_set(pga_conn *conn, int state, const pga__error *cause);

/* savepoint.c: the savepoint stack and the statements it owes */
int pga__sp_create(pga_conn *conn, const char *name, unsigned *id);
/* The index of the newest savepoint called name (or with that id), or -1. */
int pga__sp_find(const pga_conn *conn, const char *name);
int pga__sp_find_id(const pga_conn *conn, unsigned id);
/* RELEASE the savepoint at index i, which ends every newer one too. */
int pga__sp_release(pga_conn *conn, int i);
/* ROLLBACK TO the savepoint at index i: it stays, every newer one ends. */
int pga__sp_rollback(pga_conn *conn, int i);
/* ROLLBACK TO asked for by name (SQL or C): also drops the hooks
 * registered since and clears the rollback flag.  PGA_OK or PGA_ENOMEM,
 * with the error set. */
int pga__sp_rollback_to(pga_conn *conn, int i);
/* After a batch: savepoints whose SAVEPOINT did not run are gone. */
void pga__sp_settle(pga_conn *conn);

/* controls.c: a control statement given as SQL in the SQL control mode.
 * Returns PGA__PASS when the text must go to the server as it is. */
#define PGA__PASS 1
int pga__control_start(pga_conn *conn, const pga_control *ctl);

/* complete.c: what a finished batch means for the stack */
int pga__batch_finished(pga_conn *conn, int rc, int lost);

/* stream.c: the open stream's part in step.c's reading */
/* Before reading the stream's statement: single-row mode, once. */
void pga__stream_prepare(pga_conn *conn);
/* A result of the stream's statement: 1 when the stream took it (a row,
 * copied into the batch or dropped), 0 when step.c handles it as usual. */
int pga__stream_result(pga_conn *conn, PGresult *res);
/* The batch is full: the operation pauses (PGA_OK) with the stream open. */
int pga__stream_paused(pga_conn *conn);
/* The next batch's first step reads what libpq holds before the socket. */
int pga__stream_resuming(pga_conn *conn);
/* No stream any more (a new batch, a closed session). */
void pga__stream_free(pga_conn *conn);
/* The statement ended (well or not): no more rows will come. */
void pga__stream_finished(pga_conn *conn);
/* The batch ready to take, or NULL when the stream has none. */
pga_result *pga__stream_take(pga_conn *conn);
/* A stream is open: rows may follow, and the connection is its. */
int pga__stream_busy(const pga_conn *conn);

/* query.c: the script of several commands, once its prelude is done */
int pga__send_script(pga_conn *conn);
/* What every statement needs before it may be sent: no broken block (the
 * error is its cause), an open session. */
int pga__statement_guard(pga_conn *conn);
/* The text and parameter count checks of pga_query_start(); *commands
 * receives how many commands the text holds. */
int pga__check_params(pga_conn *conn, const char *sql, const pga_params *params, int *commands);
/* A statement that has passed pga_query_start()'s checks: guarded, with
 * what is owed ahead of it, for purpose. */
int pga__statement_start(pga_conn *conn, const char *sql, const pga_params *params,
                         int commands, int purpose);


/* pipeline.c: pipelined transactions (PGA_PIPELINE) */
int pga__pipelined(const pga_conn *conn);
/* pga__check_idle(), but an open flight is no obstacle inside a pipelined
 * transaction. */
int pga__check_idle_pipelined(pga_conn *conn);
/* Queue a statement that passed pga_query_start()'s checks. */
int pga__pipeline_queue(pga_conn *conn, const char *sql, const pga_params *params,
                        int commands);
/* End the transaction (how: PGA__END_*) in the open flight. */
int pga__pipeline_end(pga_conn *conn, int how);
/* In the connection's pipeline mode, a control statement given as SQL is
 * not queued: it acts on the transaction as in normal mode, once no flight
 * is open. */
int pga__pipeline_control(const pga_conn *conn, const char *sql, const pga_params *params);

/* hooks.c */
/* Hand every hook at depth >= min_depth (or registered at seq >= the
 * mark) to the owner with the given disposition, in registration order. */
void pga__hooks_settle_depth(pga_conn *conn, int min_depth, int disposition);
void pga__hooks_settle_seq(pga_conn *conn, uint64_t seq_mark, int disposition);
/* A block at depth > depth is gone: its hooks now belong to depth. */
void pga__hooks_reparent(pga_conn *conn, int depth);
void pga__hooks_destroy_all(pga_conn *conn);
/* The transaction's hooks wait under gid (its PREPARE TRANSACTION). */
#define PGA__HOOK_PARK 3
void pga__hooks_park(pga_conn *conn, const char *gid);

/* notify.c: move what libpq parsed into the bounded queue */
void pga__notify_collect(pga_conn *conn);
void pga__notify_free_all(pga_conn *conn);

/* result.c: day_first is the DMY order of the DateStyle in force when
 * the result arrived; values in other styles are rewritten (canonical.c). */
pga_result *pga__result_wrap(PGresult *res, int day_first);
/* A stream's batch: columns (and tag) from res, the rows from rows, whose
 * buffers the result takes over (rows is left empty). */
pga_result *pga__result_rows(PGresult *res, pga__rows *rows, int day_first);
void pga__rows_free(pga__rows *rows);

/* redact.c: star every part of a password (from conninfo, or PGPASSWORD)
 * that msg shows. */
void pga__redact(char *msg, const char *conninfo);
/* The result of a control statement the engine answered: only a tag. */
pga_result *pga__result_tag(const char *tag);

/* canonical.c: the text of one value of kind (a scalar kind, or
 * PGA_T_ARRAY with elem_kind) in ISO DateStyle / postgres IntervalStyle.
 * Returns 0 when text already is, 1 with *out (malloc'd, NUL-ended) set,
 * PGA_EDECODE when it cannot be read, PGA_ENOMEM. */
int pga__canonical_text(int kind, int elem_kind, int day_first, const char *text,
                        size_t len, char **out);
/* value.c: decode a date or time in any DateStyle. */
int pga__decode_datetime_any(int kind, const char *text, size_t len, int day_first,
                             pga_value *out);

/* sqlscan.c: the lexer every reader of SQL text shares.  A token is one
 * of these kinds; literals, quoted identifiers and comments are whole
 * tokens (an unterminated one runs to the end of the text), so nothing
 * inside them is ever read as a placeholder, a word or a ';'. */
enum {
    PGA__TOK_END,          /* the terminating NUL: start == end */
    PGA__TOK_SPACE,        /* a run of blanks */
    PGA__TOK_COMMENT,      /* -- to the end of the line, or nested slash-star */
    PGA__TOK_STRING,       /* '...', E'...' (backslash escapes), $tag$...$tag$ */
    PGA__TOK_QIDENT,       /* "..." */
    PGA__TOK_PARAM,        /* $n; param holds n, saturated at INT_MAX */
    PGA__TOK_WORD,         /* a keyword or identifier (may contain '$') */
    PGA__TOK_NUMBER,
    PGA__TOK_SEMICOLON,
    PGA__TOK_OTHER         /* any other single byte (operators, '(', a lone '$') */
};

typedef struct pga__token {
    int kind;              /* PGA__TOK_* */
    const char *start, *end;
    int param;
    int open;              /* an unterminated literal, identifier or comment */
} pga__token;

/* Read the token starting at s into *tok; returns where the next starts. */
const char *pga__sql_token(const char *s, pga__token *tok);

/* The highest $n, and (if commands is not NULL) how many top-level
 * commands the text holds. */
int pga__sql_scan(const char *sql, int *commands);
/* The same, reading '...' with backslash escapes when backslash_strings
 * (standard_conforming_strings off), and setting *unsure (if not NULL)
 * when a command may use $n of its own (a function body, PREPARE), so the
 * count is only the client's guess. */
int pga__sql_scan_opts(const char *sql, int backslash_strings, int *commands, int *unsure);

/* sqlclass.c: transaction modes, each kind given in over replacing
 * base's (PGA_ISO_*, PGA_READ_*, PGA_[NOT_]DEFERRABLE). */
unsigned pga__modes_merge(unsigned base, unsigned over);

/* error.c */
int pga__kind_is_valid(int kind);

/* wait.c: poll one socket for the PGA_WANT_* mask; returns a PGA_READY_*
 * mask, 0 on timeout, or PGA_READY_READ|PGA_READY_WRITE on error so the
 * step function finds out what happened. */
int pga__poll(int fd, int want, int timeout_ms);

#endif
