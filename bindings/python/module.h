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

pgapy_state *pgapy_get_state_by_type(PyTypeObject *tp);

/* connection.c / result.c */
int pgapy_connection_setup_types(PyObject *module, pgapy_state *st);
int pgapy_result_setup_types(PyObject *module, pgapy_state *st);
PyObject *pgapy_result_from_core(pgapy_state *st, pga_result *res);

/* convert.c */
int pgapy_params_from_python(pgapy_state *st, pga_params *p, PyObject *seq);
PyObject *pgapy_value_to_python(pgapy_state *st, int kind, unsigned elem_oid,
                                const char *text, size_t len);
int pgapy_convert_init(pgapy_state *st);

/* errors.c */
/* Raise the exception for core code rc on conn (conn may be NULL for codes
 * that need no connection state).  cause, if not NULL, becomes __cause__.
 * Always returns NULL. */
PyObject *pgapy_raise(pgapy_state *st, pga_conn *conn, int rc, PyObject *cause);
/* The same with extra items for the message (a dict, may be NULL). */
PyObject *pgapy_raise_extra(pgapy_state *st, pga_conn *conn, int rc,
                            PyObject *cause, PyObject *extra);
/* Raise a binding-level condition ("ETHREAD", "EADAPT", ...) with extra
 * info items; always returns NULL. */
PyObject *pgapy_raise_condition(pgapy_state *st, const char *condition,
                                PyObject *info);
/* Build (do not raise) the exception for rc; NULL with an exception set if
 * building failed. */
PyObject *pgapy_make_error(pgapy_state *st, pga_conn *conn, int rc,
                           PyObject *extra);
PyObject *pgapy_error_names(PyObject *module, PyObject *unused);

#endif
