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

typedef struct {
    PyObject_HEAD
    pga_conn *conn;
    pga_params *params;           /* reused by every statement */
    pgapy_state *state;           /* the type keeps the module alive */
    unsigned long thread_ident;   /* the creating thread: the only user */
    PyObject *hooks;              /* runnable hook data, taken by Python */
    PyObject *last_error;         /* last server error raised here, or NULL */
    /* Held by cancel() (any thread) while the core reads the cancel key,
     * and by the owner while the core may free it (close, reconnect,
     * dealloc): without it a cancel racing a close reads freed memory. */
    PyThread_type_lock cancel_lock;
} pgapy_Connection;

extern PyModuleDef pgapy_module_def;

/* Type names: a type users import from pgatomic is named "pgatomic.<Name>"
 * (Result); a base that python/pgatomic subclasses or wraps keeps the name
 * of the module it lives in, "pgatomic._pgatomic.<Name>" (Connection, whose
 * public face is pgatomic.Connection). */

pgapy_state *pgapy_get_state_by_type(PyTypeObject *tp);

/* connection.c / result.c */
int pgapy_connection_setup_types(PyObject *module, pgapy_state *st);
int pgapy_result_setup_types(PyObject *module, pgapy_state *st);
/* Take every result of the finished statement from conn: a Result on the
 * first, the others reached with its nextset() (psycopg's model). */
PyObject *pgapy_result_take(pgapy_state *st, pga_conn *conn);

/* convert.c */
int pgapy_params_from_python(pgapy_state *st, pga_params *p, PyObject *seq);
PyObject *pgapy_value_to_python(pgapy_state *st, int kind, unsigned elem_oid,
                                const char *text, size_t len);
int pgapy_convert_init(pgapy_state *st);

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
