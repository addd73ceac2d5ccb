/* module.h -- what the files of pgatomic._pgatomic share: the module state
 * and the entry points each file offers the others.  No transaction logic
 * lives here: the core (pgatomic.h) decides, these files translate. */
#ifndef PGAPY_MODULE_H
#define PGAPY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pgatomic.h"

#include <pythread.h>

/* Compatibility with Python 3.9 and 3.10 (the limited set used here). */
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
pgapy_new_ref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) pgapy_new_ref((PyObject *)(o))
#endif
#ifndef Py_TPFLAGS_IMMUTABLETYPE
#define Py_TPFLAGS_IMMUTABLETYPE 0
#endif

/* How long a network wait runs before we look at signals again (Ctrl-C). */
#define PGAPY_SIGNAL_CHECK_MS 100

/* An operation ended with a Python exception already set (Ctrl-C stopped
 * the wait, or an argument could not be converted): pass it on, build
 * nothing.  Outside the core's code range on purpose. */
#define PGAPY_RAISED (-1000)

/* Everything the module needs at run time.  There are no C globals apart
 * from the datetime C API capsule, which CPython itself keeps per process. */
typedef struct {
    PyTypeObject *ConnectionType;
    PyTypeObject *ResultType;
    PyTypeObject *CursorType;
    PyTypeObject *StreamType;
    PyTypeObject *ColumnType;    /* a struct sequence: PEP 249's description item */
    /* pgatomic.errors._core_error(condition, info) -> exception instance:
     * the wording and the class live in Python, not here. */
    PyObject *core_error;
    PyObject *Error;             /* pgatomic.errors.Error, for isinstance */
    PyObject *Decimal;           /* decimal.Decimal */
    PyObject *UUID;              /* uuid.UUID */
    PyObject *json_loads;        /* json.loads */
    PyObject *json_dumps;        /* json.dumps */
    PyObject *Json;              /* pgatomic._json.Json */
    /* pgatomic._values: values that remember what PostgreSQL sent */
    PyObject *InfiniteDate;
    PyObject *InfiniteDatetime;
    PyObject *Interval;
    PyObject *utc;               /* datetime.timezone.utc */
} pgapy_state;

/* values(ctx, item): the parameter sequence for one item of executemany
 * (a new reference), or NULL with an exception set. */
typedef PyObject *(*pgapy_values_fn)(void *ctx, PyObject *item);

typedef struct {
    PyObject_HEAD
    pga_conn *conn;
    pga_params *params;           /* reused by every statement */
    pgapy_state *state;           /* the type keeps the module alive */
    unsigned long thread_ident;   /* the creating thread: the only user */
    int any_thread;               /* DB-API: pools hand it from thread to thread */
    PyObject *hooks;              /* runnable hook data, taken by Python */
    PyObject *last_error;         /* the last core error raised here, or NULL */
    uint64_t last_error_seq;      /* its pga_conn_error_seq() */
    PyObject *json_loads;         /* reads json/jsonb text, or NULL: json.loads */
    /* Held by cancel() (any thread) while the core reads the cancel key,
     * and by the owner while the core may free it (close, reconnect,
     * dealloc): without it a cancel racing a close reads freed memory. */
    PyThread_type_lock cancel_lock;
    /* The network operation in progress (connection.c "Operations"), kept
     * here so that any driver can end it with the one finish. */
    int op;                       /* PGAPY_OP_* */
    long long op_rowcount;        /* executemany: rows affected so far */
    PyObject *op_items;           /* executemany's loop: the items left */
    char *op_sql;                 /* ... and its statement (a copy) */
    pgapy_values_fn op_values;    /* ... and what makes parameters of an item */
    void *op_ctx;
    PyObject *op_error;           /* the batch: a bad item's (type, value, tb) */
    /* A pipelined transaction's results not read yet: (index, result)
     * pairs of the open flight, settled once it has travelled
     * (connection.c "Pipelined transactions"), or NULL. */
    PyObject *pl_pending;
    PyObject *stream;             /* the open Stream (stream.c), borrowed: it holds
                                     us and clears this when it ends, or NULL */
} pgapy_Connection;

enum {
    PGAPY_OP_NONE,
    PGAPY_OP_CONNECT,
    PGAPY_OP_EXECUTE,             /* one statement; its Result */
    PGAPY_OP_EACH,                /* executemany outside a transaction: a loop */
    PGAPY_OP_BATCH,               /* executemany inside one: one round trip */
    PGAPY_OP_END,                 /* atomic exit, commit, rollback */
    PGAPY_OP_EXECUTE_LAZY,        /* one statement; in a pipelined transaction
                                     its index in the flight, else its Result */
    PGAPY_OP_SYNC,                /* a pipelined transaction's flight, sent */
    PGAPY_OP_STREAM               /* one batch of a stream (or its close); a Result */
};

/* What a stream operation does (pgapy_conn_stream_op). */
enum { PGAPY_STREAM_START, PGAPY_STREAM_NEXT, PGAPY_STREAM_CLOSE };

extern PyModuleDef pgapy_module_def;

/* Type names: a type users import from pgatomic is named "pgatomic.<Name>"
 * (Result); a base that python/pgatomic subclasses or wraps keeps the name
 * of the module it lives in, "pgatomic._pgatomic.<Name>" (Connection, whose
 * public face is pgatomic.Connection). */

pgapy_state *pgapy_get_state_by_type(PyTypeObject *tp);

/* One column's type facts, kept by a Result for types and description. */
typedef struct {
    unsigned oid;
    int typmod;
    int size;
} pgapy_coltype;

/* connection.c / result.c / cursor.c */
int pgapy_connection_setup_types(PyObject *module, pgapy_state *st);
int pgapy_result_setup_types(PyObject *module, pgapy_state *st);
int pgapy_cursor_setup_types(PyObject *module, pgapy_state *st);
int pgapy_stream_setup_types(PyObject *module, pgapy_state *st);
/* Take every result of the finished statement from conn: a Result on the
 * first, the others reached with its nextset() (psycopg's model).
 * json_loads, if not NULL, reads the text of json and jsonb columns. */
PyObject *pgapy_result_take(pgapy_state *st, pga_conn *conn, PyObject *json_loads);
/* A Result of one core result (not freed here). */
PyObject *pgapy_result_from(pgapy_state *st, pga_result *res, PyObject *json_loads);

/* connection.c: what a cursor needs of its connection. */
/* The check every method opens with: open, and the owner's thread (unless
 * any_thread).  0, or -1 with an exception set. */
int pgapy_conn_guard(pgapy_Connection *self);
/* The UTF-8 text of a query (a str without NUL), or NULL with an exception. */
const char *pgapy_sql_text(pgapy_state *st, PyObject *sql);
/* Run one statement with params (a sequence, or None: none, and the simple
 * protocol); its Result, or NULL with the exception raised. */
PyObject *pgapy_conn_run(pgapy_Connection *self, const char *sql, PyObject *params);
/* pgapy_conn_run(), except that in a pipelined transaction the statement
 * is queued and factory(connection) is returned: an object whose _result
 * or _error is set once its flight has travelled. */
PyObject *pgapy_conn_run_lazy(pgapy_Connection *self, const char *sql, PyObject *params,
                              PyObject *factory);
/* Run sql once per item of the iterator it (values NULL: each item is the
 * sequence itself), in one round trip inside a transaction.  *rowcount
 * receives the rows affected in all, or -1 when a statement reports none.
 * 0, or -1 with the exception raised. */
int pgapy_conn_run_many(pgapy_Connection *self, const char *sql, PyObject *it,
                        pgapy_values_fn values, void *ctx, long long *rowcount);

/* One operation of a stream, blocking (GIL released while waiting): START
 * (sql, params, size), NEXT or CLOSE.  The batch read, as a Result; None
 * after CLOSE; NULL with the exception raised. */
PyObject *pgapy_conn_stream_op(pgapy_Connection *self, int which, const char *sql,
                               PyObject *params, int size);

/* stream.c */
/* A Stream over the first batch (a Result) of the stream just started. */
PyObject *pgapy_stream_new(pgapy_Connection *conn, PyObject *first);
/* Another operation needs the connection: drain the open stream (errors
 * dropped: inside a block the core keeps the one that broke it), and mark
 * the Stream closed.  0, or -1 with an exception (Ctrl-C). */
int pgapy_stream_abandon(pgapy_Connection *conn);
/* The session went away (close): the Stream ends without a round trip. */
void pgapy_stream_detach(pgapy_Connection *conn);

/* result.c: what a cursor reads of a Result (result is one). */
int pgapy_result_has_rows(PyObject *result);        /* it has columns */
long long pgapy_result_rowcount(PyObject *result);
Py_ssize_t pgapy_result_rownumber(PyObject *result);
PyObject *pgapy_result_status(PyObject *result);    /* borrowed: the command tag */
PyObject *pgapy_result_fetchone(PyObject *result);  /* the next row or None */
PyObject *pgapy_result_fetchmany(PyObject *result, Py_ssize_t size);
PyObject *pgapy_result_fetchall(PyObject *result);
PyObject *pgapy_result_rows(PyObject *result);      /* borrowed: the list of rows */
PyObject *pgapy_result_columns(PyObject *result);   /* borrowed: the list of names */
int pgapy_result_nextset(PyObject *result);         /* 1 moved, 0 no other, -1 error */
/* A tuple of Column items (name, type_code, display_size, internal_size,
 * precision, scale, null_ok), or None when the statement has no columns. */
PyObject *pgapy_result_description(pgapy_state *st, PyObject *result);

/* convert.c */
int pgapy_params_from_python(pgapy_state *st, pga_params *p, PyObject *seq);
PyObject *pgapy_value_to_python(pgapy_state *st, int kind, unsigned elem_oid,
                                const char *text, size_t len);
int pgapy_convert_init(pgapy_state *st);

/* connection.c: the operation in progress ended well so far; start what
 * comes next (executemany's loop: the next item) and take its first step.
 * Returns a PGA_WANT_* mask, PGA_OK when the operation is done, or a
 * failure code.  Both drivers call it whenever a step returns PGA_OK. */
int pgapy_op_continue(pgapy_Connection *self);

/* wait.c: the blocking driver */
/* Run the operation a *_start call queued (rc is that call's return) until
 * it ends, the GIL released while waiting.  Returns the step's final code;
 * rc < 0 passes through; PGAPY_RAISED when a signal handler raised (with
 * cancel set, the statement was cancelled and drained first; without, the
 * operation is left for the caller to abandon). */
int pgapy_wait(pgapy_Connection *self, int rc, int cancel);
/* pgapy_wait() with cancel on Ctrl-C: what every statement uses. */
int pgapy_drive(pgapy_Connection *self, int rc);
/* The owner takes cancel_lock around anything that frees the cancel key. */
void pgapy_cancel_lock_acquire(pgapy_Connection *self);
void pgapy_cancel_lock_release(pgapy_Connection *self);
/* pga_conn_close() under cancel_lock. */
void pgapy_close_session(pgapy_Connection *self);
/* Cancel the running statement from any thread; 1 if delivered. */
int pgapy_cancel(pgapy_Connection *self);

/* errors.c: the one raise path */
/* Raise the exception for core code rc: class and words from
 * pgatomic.errors, facts from owner's connection (owner may be NULL, or its
 * conn NULL, for codes that need no connection state).  extra (a dict, may
 * be NULL) adds facts for the message.  PGAPY_RAISED raises nothing new;
 * PGA_EBROKEN chains the error that broke the block as __cause__; a server
 * or connection error inside a block is remembered for that.  Always
 * returns NULL. */
PyObject *pgapy_raise(pgapy_state *st, pgapy_Connection *owner, int rc,
                      PyObject *extra);
/* Raise a binding-level condition ("ETHREAD", "EADAPT", ...) with extra
 * info items; always returns NULL. */
PyObject *pgapy_raise_condition(pgapy_state *st, const char *condition,
                                PyObject *info);
/* Forget the remembered error once no block is active. */
void pgapy_forget_errors_if_idle(pgapy_Connection *self);
PyObject *pgapy_error_names(PyObject *module, PyObject *unused);

#endif
