/* errors.c -- the binding's one raise path: a core result code and the
 * connection's error state become a Python exception, with the error that
 * broke a block as its cause.  Which class and which words is decided by
 * pgatomic.errors (Python); this file only gathers the facts. */
#include "module.h"

static const struct {
    int field;
    const char *name;
} diag_fields[] = {
    {PGA_DIAG_MESSAGE_PRIMARY, "message_primary"},
    {PGA_DIAG_DETAIL, "detail"},
    {PGA_DIAG_HINT, "hint"},
    {PGA_DIAG_SCHEMA_NAME, "schema_name"},
    {PGA_DIAG_TABLE_NAME, "table_name"},
    {PGA_DIAG_COLUMN_NAME, "column_name"},
    {PGA_DIAG_CONSTRAINT_NAME, "constraint_name"},
    {PGA_DIAG_SEVERITY, "severity"},
    {PGA_DIAG_STATEMENT_POSITION, "statement_position"},
};

static int
set_str(PyObject *dict, const char *key, const char *value)
{
    PyObject *v;
    int rc;

    if (value == NULL) {
        return PyDict_SetItemString(dict, key, Py_None);
    }
    /* Server text is UTF-8 (client_encoding), but a broken server message
     * must not hide the error it describes. */
    v = PyUnicode_DecodeUTF8(value, (Py_ssize_t)strlen(value), "replace");
    if (v == NULL) {
        return -1;
    }
    rc = PyDict_SetItemString(dict, key, v);
    Py_DECREF(v);
    return rc;
}

static const char *const facts_names[] = {"none", "own", "cause"};

/* The facts of one failure for pgatomic.errors; facts says whose the
 * server's fields are (PGA_FACTS_*: the core's decision). */
static PyObject *
build_info(pga_conn *conn, int rc, int facts)
{
    PyObject *info = PyDict_New(), *diag = NULL;
    const char *sqlstate;

    if (info == NULL) {
        return NULL;
    }
    if (set_str(info, "core_message", pga_strerror(rc)) < 0) {
        goto fail;
    }
    {
        /* The core's code travels with the exception (as _pga_code) so the
         * retry decision is the core's pga_retryable(), not a Python copy. */
        PyObject *code = PyLong_FromLong(rc);
        if (code == NULL || PyDict_SetItemString(info, "code", code) < 0) {
            Py_XDECREF(code);
            goto fail;
        }
        Py_DECREF(code);
    }
    if (conn == NULL) {
        if (set_str(info, "message", "") < 0 || set_str(info, "sqlstate", NULL) < 0) {
            goto fail;
        }
        return info;
    }
    if (set_str(info, "message", pga_conn_errmsg(conn)) < 0) {
        goto fail;
    }
    sqlstate = pga_conn_sqlstate(conn);
    if (set_str(info, "sqlstate", sqlstate) < 0) {
        goto fail;
    }
    if (set_str(info, "kind", sqlstate != NULL
                ? pga_kind_name(pga_conn_error_kind(conn)) : NULL) < 0) {
        goto fail;
    }
    if (set_str(info, "facts", facts_names[facts]) < 0) {
        goto fail;
    }
    diag = PyDict_New();
    if (diag == NULL) {
        goto fail;
    }
    if (sqlstate != NULL) {
        for (size_t i = 0; i < sizeof(diag_fields) / sizeof(diag_fields[0]); i++) {
            if (set_str(diag, diag_fields[i].name,
                        pga_conn_diag(conn, diag_fields[i].field)) < 0) {
                goto fail;
            }
        }
    }
    if (PyDict_SetItemString(info, "diag", diag) < 0) {
        goto fail;
    }
    Py_DECREF(diag);
    return info;

fail:
    Py_XDECREF(diag);
    Py_DECREF(info);
    return NULL;
}

static PyObject *
call_factory(pgapy_state *st, const char *condition, PyObject *info)
{
    PyObject *name = PyUnicode_FromString(condition), *exc;

    if (name == NULL) {
        return NULL;
    }
    exc = PyObject_CallFunctionObjArgs(st->core_error, name, info, NULL);
    Py_DECREF(name);
    if (exc != NULL && !PyExceptionInstance_Check(exc)) {
        Py_DECREF(exc);
        PyErr_SetString(PyExc_SystemError,
                        "pgatomic.errors._core_error did not return an exception");
        return NULL;
    }
    return exc;
}

/* The alias python/pgatomic opened owner under (its _alias), so a message
 * about a connection can name it; nothing for an independent one. */
static int
add_alias(PyObject *info, pgapy_Connection *owner)
{
    PyObject *alias;
    int rc;

    if (owner == NULL) {
        return 0;
    }
    alias = PyObject_GetAttrString((PyObject *)owner, "_alias");
    if (alias == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    rc = PyDict_SetItemString(info, "alias", alias);
    Py_DECREF(alias);
    return rc;
}

/* Build (not raise) the exception for rc; NULL with an exception set if
 * building failed. */
static PyObject *
make_error(pgapy_state *st, pgapy_Connection *owner, pga_conn *conn, int rc, int facts,
           PyObject *extra)
{
    PyObject *info = build_info(conn, rc, facts), *exc;

    if (info == NULL) {
        return NULL;
    }
    if (add_alias(info, owner) < 0) {
        Py_DECREF(info);
        return NULL;
    }
    if (extra != NULL && PyDict_Update(info, extra) < 0) {
        Py_DECREF(info);
        return NULL;
    }
    exc = call_factory(st, pga_err_name(rc), info);
    Py_DECREF(info);
    return exc;
}

/* Set exc (a new reference, or NULL when building failed) as the error in
 * flight. */
static PyObject *
set_raised(PyObject *exc)
{
    if (exc == NULL) {
        return NULL;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

/* The exception a failure is the result of (the core says which error:
 * pga_conn_error_seq()), for __cause__: the very object raised earlier
 * when it was raised here (it is what Django chains), else one built from
 * the core's description of it. */
static PyObject *
cause_of(pgapy_state *st, pgapy_Connection *owner)
{
    pga_conn *conn = owner->conn;

    if (owner->last_error != NULL && owner->last_error_seq == pga_conn_error_seq(conn)) {
        return Py_NewRef(owner->last_error);
    }
    if (pga_conn_sqlstate(conn) != NULL) {
        return make_error(st, owner, conn, PGA_ESERVER, PGA_FACTS_OWN, NULL);
    }
    /* A lost session's error, raised elsewhere (a batch's outcome). */
    return make_error(st, owner, conn, PGA_ECONN, PGA_FACTS_NONE, NULL);
}

PyObject *
pgapy_raise(pgapy_state *st, pgapy_Connection *owner, int rc, PyObject *extra)
{
    pga_conn *conn = owner != NULL ? owner->conn : NULL;
    PyObject *exc, *cause = NULL;
    int facts;

    if (rc == PGAPY_RAISED) {
        return NULL;
    }
    if (rc == PGA_ENOMEM) {
        return PyErr_NoMemory();
    }
    facts = conn != NULL ? pga_conn_error_facts(conn, rc) : PGA_FACTS_NONE;
    if (facts == PGA_FACTS_CAUSE) {
        cause = cause_of(st, owner);
        if (cause == NULL) {
            return NULL;
        }
    }
    exc = make_error(st, owner, conn, rc, facts, extra);
    if (exc == NULL) {
        Py_XDECREF(cause);
        return NULL;
    }
    if (cause != NULL) {
        /* Steals cause and sets __suppress_context__, as `raise ... from
         * cause` does. */
        PyException_SetCause(exc, cause);
    }
    /* Kept, with the core's number for it, so that a later failure whose
     * cause it is (pga_conn_error_seq()) chains this very object. */
    if (conn != NULL && facts != PGA_FACTS_CAUSE && pga_conn_error_seq(conn) != 0) {
        Py_XSETREF(owner->last_error, Py_NewRef(exc));
        owner->last_error_seq = pga_conn_error_seq(conn);
    }
    return set_raised(exc);
}

/* The stack emptied: nothing can be broken by an older error any more. */
void
pgapy_forget_errors_if_idle(pgapy_Connection *self)
{
    if (pga_atomic_depth(self->conn) == 0) {
        Py_CLEAR(self->last_error);
    }
}

PyObject *
pgapy_raise_condition(pgapy_state *st, const char *condition, PyObject *info)
{
    PyObject *exc;

    if (info == NULL) {
        PyObject *empty = PyDict_New();
        if (empty == NULL) {
            return NULL;
        }
        exc = call_factory(st, condition, empty);
        Py_DECREF(empty);
    }
    else {
        exc = call_factory(st, condition, info);
    }
    return set_raised(exc);
}

/* Every condition name the core can return, so a test can check that
 * pgatomic.errors words each of them. */
PyObject *
pgapy_error_names(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    PyObject *list = PyList_New(0);

    if (list == NULL) {
        return NULL;
    }
    for (int code = -1; code > PGA__ERRNO_LAST; code--) {
        PyObject *name = PyUnicode_FromString(pga_err_name(code));
        if (name == NULL || PyList_Append(list, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(name);
    }
    return list;
}
