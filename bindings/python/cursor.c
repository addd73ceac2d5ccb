/* cursor.c -- the DB-API cursor (pgatomic.dbapi.Cursor), in the manner of
 * CPython's _sqlite cursor: execute, executemany and every fetch are C,
 * with no Python-level loop per statement or row.  It adds three things to
 * the connection it runs on: psycopg's placeholders, rewritten into $n by
 * the core (pga_placeholders); PEP 249's view of the last statement's
 * Result (description, rowcount, fetch*, nextset); and the cursor's own
 * life cycle.  Statements run through the connection's paths
 * (connection.c), so a cursor's statement is a block's statement like any
 * other. */
#include "module.h"

typedef struct {
    PyObject_HEAD
    pgapy_Connection *connection;  /* strong; kept after close(), as psycopg does */
    pgapy_state *state;
    pga_placeholders *ph;          /* reused by every execute */
    PyObject *result;              /* the last statement's Result, or NULL */
    /* In a pipelined transaction (conn.pipeline()): the results of the
     * last execute (one) or executemany (one per item) not read yet,
     * objects the connection settles when their flight travels; NULL when
     * none waits.  The first touch (fetch*, description, rowcount, ...)
     * reads them (settle()). */
    PyObject *pending;
    int pending_many;
    PyObject *description;         /* built on first use for result, or NULL */
    long long rowcount;
    Py_ssize_t arraysize;
    int closed;
} pgapy_Cursor;

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

static void adopt(pgapy_Cursor *self, PyObject *result);

/* The Result of one pending item: a statement of executemany's that ran
 * at once is one already; a queued one is read (its flight sent if it has
 * not travelled yet).  A new reference, or NULL with the exception. */
static PyObject *
pending_result(pgapy_Cursor *self, PyObject *item)
{
    if (PyObject_TypeCheck(item, self->state->ResultType)) {
        return Py_NewRef(item);
    }
    return PyObject_CallMethod(item, "_get", NULL);
}

/* Read the results a pipelined execute*() left waiting: the flight they
 * are in travels now if it has not yet, and its first failure (psycopg's
 * rule: the sync raises it, whichever statement it was) or the
 * statement's own error is raised here; the pending results are then kept,
 * so every later touch raises the statement's own outcome.  0, or -1 with
 * the exception. */
static int
settle(pgapy_Cursor *self)
{
    PyObject *pending = self->pending, *res = NULL;
    long long total = 0;
    Py_ssize_t i, n;

    if (pending == NULL) {
        return 0;
    }
    /* Ours while _get() runs Python code, which might use this cursor. */
    Py_INCREF(pending);
    n = self->pending_many ? PyList_GET_SIZE(pending) : 1;
    for (i = 0; i < n; i++) {
        long long count;

        Py_XSETREF(res, pending_result(self, PyList_GET_ITEM(pending, i)));
        if (res == NULL) {
            self->rowcount = -1;
            Py_DECREF(pending);
            return -1;
        }
        count = pgapy_result_rowcount(res);
        total = (count < 0 || total < 0) ? -1 : total + count;
    }
    if (self->pending == pending) {
        Py_CLEAR(self->pending);
        if (self->pending_many) {
            self->rowcount = total;
        }
        else {
            adopt(self, Py_NewRef(res));
        }
    }
    Py_XDECREF(res);
    Py_DECREF(pending);
    return 0;
}

/* Every method that talks to the server starts here. */
static int
check_open(pgapy_Cursor *self)
{
    if (self->closed) {
        pgapy_raise_condition(self->state, "ECURSORCLOSED", NULL);
        return -1;
    }
    return pgapy_conn_guard(self->connection);
}

/* The fetch methods: a statement that gave rows must have run. */
static int
check_rows(pgapy_Cursor *self)
{
    if (self->closed) {
        pgapy_raise_condition(self->state, "ECURSORCLOSED", NULL);
        return -1;
    }
    if (settle(self) < 0) {
        return -1;
    }
    if (self->result == NULL || !pgapy_result_has_rows(self->result)) {
        pgapy_raise_condition(self->state, "ENORESULT", NULL);
        return -1;
    }
    return 0;
}

static void
forget_result(pgapy_Cursor *self)
{
    /* Results still waiting are settled by their flight all the same; a
     * failure among them is still raised by whatever sends it. */
    Py_CLEAR(self->pending);
    Py_CLEAR(self->result);
    Py_CLEAR(self->description);
    self->rowcount = -1;
}

/* Parameters as a mapping (psycopg's test is isinstance(Mapping)): a dict,
 * or anything with keys() that is not a list or tuple. */
static int
is_mapping(PyObject *o)
{
    return PyDict_Check(o)
           || (!PyList_Check(o) && !PyTuple_Check(o) && PyMapping_Check(o)
               && PyObject_HasAttrString(o, "keys"));
}

static PyObject *
wrong_params(const char *want, PyObject *params)
{
    return PyErr_Format(PyExc_TypeError, "query parameters should be a %s, got %.100s",
                        want, Py_TYPE(params)->tp_name);
}

/* The values in $n order for the rewritten text: a sequence (new
 * reference), or None when the text takes none, so that it goes over the
 * simple protocol and may hold several statements.  A sequence of the
 * wrong length goes on: the core refuses it with the counts. */
static PyObject *
values_for(pgapy_Cursor *self, PyObject *params)
{
    int style = pga_placeholders_style(self->ph);
    int count = pga_placeholders_count(self->ph);

    if (style == PGA_PH_NAMED) {
        PyObject *values;

        if (!is_mapping(params)) {
            return wrong_params("mapping for %(name)s placeholders", params);
        }
        values = PyTuple_New(count);
        for (int i = 0; values != NULL && i < count; i++) {
            size_t len;
            const char *name = pga_placeholders_name(self->ph, i, &len);
            PyObject *key = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "strict");
            PyObject *v = key != NULL ? PyObject_GetItem(params, key) : NULL;

            if (v == NULL) {
                if (key != NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
                    PyObject *info = Py_BuildValue("{s:O}", "name", key);

                    PyErr_Clear();
                    if (info != NULL) {
                        pgapy_raise_condition(self->state, "EPARAMMISSING", info);
                        Py_DECREF(info);
                    }
                }
                Py_XDECREF(key);
                Py_CLEAR(values);
                break;
            }
            Py_DECREF(key);
            PyTuple_SET_ITEM(values, i, v);
        }
        return values;
    }
    if (is_mapping(params)) {
        if (style == PGA_PH_NONE) {
            return Py_NewRef(Py_None);     /* no placeholder asks for a name */
        }
        return wrong_params("sequence for %s and $n placeholders", params);
    }
    if (style == PGA_PH_NONE && PySequence_Check(params) && !PyUnicode_Check(params)
        && !PyBytes_Check(params) && PySequence_Size(params) == 0) {
        return Py_NewRef(Py_None);
    }
    return Py_NewRef(params);
}

/* executemany()'s view of values_for(). */
static PyObject *
item_values(void *cursor, PyObject *item)
{
    return values_for((pgapy_Cursor *)cursor, item);
}

/* Rewrite sql for params; the text to send, or NULL with the exception. */
static const char *
rewrite(pgapy_Cursor *self, const char *sql)
{
    int rc = pga_placeholders_rewrite(self->ph, sql);
    PyObject *info;

    if (rc == PGA_OK) {
        return pga_placeholders_sql(self->ph);
    }
    if (rc == PGA_ENOMEM) {
        PyErr_NoMemory();
        return NULL;
    }
    info = Py_BuildValue("{s:s}", "message", pga_placeholders_errmsg(self->ph));
    if (info != NULL) {
        pgapy_raise_condition(self->state, "EPLACEHOLDER", info);
        Py_DECREF(info);
    }
    return NULL;
}

/* (query, params=None) by position or keyword, as execute() and
 * executemany() take them (name is the second keyword). */
static int
parse_query_args(const char *fname, const char *name, PyObject *const *args,
                 Py_ssize_t nargs, PyObject *kwnames, PyObject **query, PyObject **params,
                 int params_required)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;

    *query = nargs > 0 ? args[0] : NULL;
    *params = nargs > 1 ? args[1] : NULL;
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 2 positional arguments (%zd given)",
                     fname, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, i);
        PyObject **slot = PyUnicode_CompareWithASCIIString(kw, "query") == 0 ? query
                          : PyUnicode_CompareWithASCIIString(kw, name) == 0 ? params
                          : NULL;

        if (slot == NULL || *slot != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got %s argument '%U'", fname,
                         slot == NULL ? "an unexpected keyword" : "multiple values for",
                         kw);
            return -1;
        }
        *slot = args[nargs + i];
    }
    if (*query == NULL || (params_required && *params == NULL)) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname,
                     *query == NULL ? "query" : name);
        return -1;
    }
    if (*params == NULL) {
        *params = Py_None;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Methods
 * ---------------------------------------------------------------------- */

/* execute()'s first half, shared with the asyncio cursor's _prepare():
 * forget the last result, and give the text to send (*sql, borrowed until
 * the next rewrite) and its values (*values: a new reference, None for the
 * simple protocol).  0, or -1 with the exception set. */
static int
prepare(pgapy_Cursor *self, PyObject *query, PyObject *params, const char **sql,
        PyObject **values)
{
    *sql = pgapy_sql_text(self->state, query);
    if (*sql == NULL) {
        return -1;
    }
    forget_result(self);
    if (params == Py_None) {
        *values = Py_NewRef(Py_None);
        return 0;
    }
    *sql = rewrite(self, *sql);
    *values = *sql != NULL ? values_for(self, params) : NULL;
    return *values == NULL ? -1 : 0;
}

/* The statement's Result becomes the cursor's (a reference we take). */
static void
adopt(pgapy_Cursor *self, PyObject *result)
{
    self->result = result;
    self->rowcount = pgapy_result_rowcount(result);
}

/* The object the connection settles for a queued statement
 * (pgatomic.PipelinedResult, named by the connection's class), or NULL
 * when the connection cannot defer results. */
static PyObject *
pending_factory(pgapy_Cursor *self)
{
    PyObject *factory = PyObject_GetAttrString((PyObject *)self->connection,
                                               "_pipelined_result");

    if (factory == NULL) {
        PyErr_Clear();
    }
    return factory;
}

/* One statement: its Result, or in a pipelined transaction (the core
 * says, pga_pipeline_active()) a pending result read when first touched. */
static PyObject *
run(pgapy_Cursor *self, const char *sql, PyObject *values)
{
    PyObject *factory, *out;

    if (!pga_pipeline_active(self->connection->conn)
        || (factory = pending_factory(self)) == NULL) {
        return pgapy_conn_run(self->connection, sql, values);
    }
    out = pgapy_conn_run_lazy(self->connection, sql, values, factory);
    Py_DECREF(factory);
    return out;
}

/* A pending result (a reference we take) joins those settle() reads. */
static int
wait_for(pgapy_Cursor *self, PyObject *pending, int many)
{
    int rc;

    if (self->pending == NULL && (self->pending = PyList_New(0)) == NULL) {
        Py_DECREF(pending);
        return -1;
    }
    self->pending_many = many;
    rc = PyList_Append(self->pending, pending);
    Py_DECREF(pending);
    return rc;
}

/* executemany() in a pipelined transaction: each item's statement joins
 * the flight, as psycopg pipelines executemany(); rowcount (the sum) is
 * read when first touched.  0, or -1 with the exception. */
static int
queue_many(pgapy_Cursor *self, const char *sql, PyObject *it)
{
    PyObject *item;

    self->rowcount = 0;     /* no item: nothing ran, as outside the pipeline */
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *values = values_for(self, item), *res;

        Py_DECREF(item);
        if (values == NULL) {
            return -1;
        }
        res = run(self, sql, values);
        Py_DECREF(values);
        if (res == NULL) {
            return -1;
        }
        if (wait_for(self, res, 1) < 0) {
            return -1;
        }
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* execute(query, params=None): run one statement.  With params, psycopg's
 * %s / %(name)s become $n (a text in $n style goes as written); without,
 * the text goes as written and may hold several statements (nextset()).
 * Returns the cursor, as psycopg does. */
static PyObject *
cursor_execute(pgapy_Cursor *self, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    PyObject *query, *params, *values, *result;
    const char *sql;

    if (parse_query_args("execute", "params", args, nargs, kwnames, &query, &params, 0) < 0
        || check_open(self) < 0 || prepare(self, query, params, &sql, &values) < 0) {
        return NULL;
    }
    result = run(self, sql, values);
    Py_DECREF(values);
    if (result == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(result, self->state->ResultType)) {
        return wait_for(self, result, 0) < 0 ? NULL : Py_NewRef(self);
    }
    adopt(self, result);
    return Py_NewRef(self);
}

/* executemany(query, params_seq): the statement once per item, in one
 * round trip inside a transaction (the core's batch).  rowcount is the
 * rows affected in all. */
static PyObject *
cursor_executemany(pgapy_Cursor *self, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames)
{
    PyObject *query, *params_seq, *it;
    const char *sql;
    long long rowcount;
    int rc;

    if (parse_query_args("executemany", "params_seq", args, nargs, kwnames, &query,
                         &params_seq, 1) < 0
        || check_open(self) < 0) {
        return NULL;
    }
    sql = pgapy_sql_text(self->state, query);
    if (sql == NULL) {
        return NULL;
    }
    forget_result(self);
    sql = rewrite(self, sql);
    if (sql == NULL) {
        return NULL;
    }
    it = PyObject_GetIter(params_seq);
    if (it == NULL) {
        return NULL;
    }
    if (pga_pipeline_active(self->connection->conn)) {
        rc = queue_many(self, sql, it);
        Py_DECREF(it);
        return rc < 0 ? NULL : Py_NewRef(Py_None);
    }
    rc = pgapy_conn_run_many(self->connection, sql, it, item_values, self, &rowcount);
    Py_DECREF(it);
    if (rc < 0) {
        return NULL;
    }
    self->rowcount = rowcount;
    Py_RETURN_NONE;
}

/* The asyncio cursor's halves (pgatomic.dbapi.AsyncCursor runs the
 * statement itself, on the event loop, between them):
 * _prepare(query, params=None) -> (text, values); _prepare_many(query,
 * params_seq) -> (text, [values, ...]); _adopt(result) after execute;
 * _adopt_rowcount(n) after executemany. */
static PyObject *
cursor_prepare(pgapy_Cursor *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *values, *out;
    const char *sql;

    if (nargs < 1 || nargs > 2) {
        return PyErr_Format(PyExc_TypeError, "_prepare() takes 1 or 2 arguments (%zd given)",
                            nargs);
    }
    if (check_open(self) < 0
        || prepare(self, args[0], nargs > 1 ? args[1] : Py_None, &sql, &values) < 0) {
        return NULL;
    }
    out = Py_BuildValue("(sN)", sql, values);
    return out;
}

static PyObject *
cursor_prepare_many(pgapy_Cursor *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *it, *item, *list;
    const char *sql;

    if (nargs != 2) {
        return PyErr_Format(PyExc_TypeError, "_prepare_many() takes 2 arguments (%zd given)",
                            nargs);
    }
    if (check_open(self) < 0 || (sql = pgapy_sql_text(self->state, args[0])) == NULL) {
        return NULL;
    }
    forget_result(self);
    if ((sql = rewrite(self, sql)) == NULL || (it = PyObject_GetIter(args[1])) == NULL) {
        return NULL;
    }
    list = PyList_New(0);
    while (list != NULL && (item = PyIter_Next(it)) != NULL) {
        PyObject *values = values_for(self, item);

        Py_DECREF(item);
        if (values == NULL || PyList_Append(list, values) < 0) {
            Py_XDECREF(values);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(values);
    }
    Py_DECREF(it);
    if (list == NULL || PyErr_Occurred()) {
        Py_XDECREF(list);
        return NULL;
    }
    return Py_BuildValue("(sN)", sql, list);
}

static PyObject *
cursor_adopt(pgapy_Cursor *self, PyObject *result)
{
    if (!PyObject_TypeCheck(result, self->state->ResultType)) {
        return PyErr_Format(PyExc_TypeError, "_adopt() takes a Result, not %.100s",
                            Py_TYPE(result)->tp_name);
    }
    forget_result(self);
    adopt(self, Py_NewRef(result));
    Py_RETURN_NONE;
}

static PyObject *
cursor_adopt_rowcount(pgapy_Cursor *self, PyObject *count)
{
    long long n = PyLong_AsLongLong(count);

    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    forget_result(self);
    self->rowcount = n;
    Py_RETURN_NONE;
}

static PyObject *
cursor_fetchone(pgapy_Cursor *self, PyObject *Py_UNUSED(unused))
{
    if (check_rows(self) < 0) {
        return NULL;
    }
    return pgapy_result_fetchone(self->result);
}

static PyObject *
cursor_fetchmany(pgapy_Cursor *self, PyObject *const *args, Py_ssize_t nargs,
                 PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t size = self->arraysize;

    if (nargs + nkw > 1
        || (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                                         "size") != 0)) {
        PyErr_SetString(PyExc_TypeError, "fetchmany() takes one argument, size");
        return NULL;
    }
    if (nargs + nkw == 1 && args[0] != Py_None) {
        size = PyLong_AsSsize_t(args[0]);
        if (size == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (check_rows(self) < 0) {
        return NULL;
    }
    return pgapy_result_fetchmany(self->result, size);
}

static PyObject *
cursor_fetchall(pgapy_Cursor *self, PyObject *Py_UNUSED(unused))
{
    if (check_rows(self) < 0) {
        return NULL;
    }
    return pgapy_result_fetchall(self->result);
}

static PyObject *
cursor_iternext(pgapy_Cursor *self)
{
    PyObject *row;

    if (check_rows(self) < 0) {
        return NULL;
    }
    row = pgapy_result_fetchone(self->result);
    if (row == Py_None) {
        Py_DECREF(row);
        return NULL;        /* StopIteration */
    }
    return row;
}

/* nextset(): the next statement's result of a script; True, or None when
 * there is none (psycopg). */
static PyObject *
cursor_nextset(pgapy_Cursor *self, PyObject *Py_UNUSED(unused))
{
    int moved;

    if (self->closed) {
        return pgapy_raise_condition(self->state, "ECURSORCLOSED", NULL);
    }
    if (settle(self) < 0) {
        return NULL;
    }
    if (self->result == NULL) {
        Py_RETURN_NONE;
    }
    moved = pgapy_result_nextset(self->result);
    if (moved < 0) {
        return NULL;
    }
    if (!moved) {
        Py_RETURN_NONE;
    }
    Py_CLEAR(self->description);
    self->rowcount = pgapy_result_rowcount(self->result);
    Py_RETURN_TRUE;
}

static PyObject *
cursor_close(pgapy_Cursor *self, PyObject *Py_UNUSED(unused))
{
    forget_result(self);
    self->closed = 1;
    Py_RETURN_NONE;
}

/* PEP 249 lets these do nothing: parameters carry their own types. */
static PyObject *
cursor_setsizes(pgapy_Cursor *Py_UNUSED(self), PyObject *Py_UNUSED(args))
{
    Py_RETURN_NONE;
}

static PyObject *
cursor_enter(pgapy_Cursor *self, PyObject *Py_UNUSED(unused))
{
    return Py_NewRef(self);
}

static PyObject *
cursor_exit(pgapy_Cursor *self, PyObject *Py_UNUSED(args))
{
    return cursor_close(self, NULL);
}

/* ------------------------------------------------------------------------
 * Properties
 * ---------------------------------------------------------------------- */

static PyObject *
cursor_get_description(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    if (settle(self) < 0) {
        return NULL;
    }
    if (self->result == NULL) {
        Py_RETURN_NONE;
    }
    if (self->description == NULL) {
        self->description = pgapy_result_description(self->state, self->result);
        if (self->description == NULL) {
            return NULL;
        }
    }
    return Py_NewRef(self->description);
}

static PyObject *
cursor_get_rowcount(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    if (settle(self) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(self->rowcount);
}

static PyObject *
cursor_get_rownumber(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    if (settle(self) < 0) {
        return NULL;
    }
    if (self->result == NULL || !pgapy_result_has_rows(self->result)) {
        Py_RETURN_NONE;
    }
    return PyLong_FromSsize_t(pgapy_result_rownumber(self->result));
}

static PyObject *
cursor_get_arraysize(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->arraysize);
}

static int
cursor_set_arraysize(pgapy_Cursor *self, PyObject *value, void *Py_UNUSED(closure))
{
    Py_ssize_t n;

    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete arraysize");
        return -1;
    }
    n = PyLong_AsSsize_t(value);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "arraysize must be at least 1");
        return -1;
    }
    self->arraysize = n;
    return 0;
}

static PyObject *
cursor_get_statusmessage(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    if (settle(self) < 0) {
        return NULL;
    }
    if (self->result == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(pgapy_result_status(self->result));
}

static PyObject *
cursor_get_closed(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->closed);
}

static PyObject *
cursor_get_connection(pgapy_Cursor *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->connection);
}

static PyObject *
cursor_get_none(pgapy_Cursor *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------- */

static PyObject *
cursor_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    pgapy_state *st = pgapy_get_state_by_type(type);
    pgapy_Cursor *self;
    PyObject *connection;

    if (st == NULL) {
        return NULL;
    }
    if ((kwds != NULL && PyDict_GET_SIZE(kwds) > 0) || PyTuple_GET_SIZE(args) != 1) {
        PyErr_SetString(PyExc_TypeError, "Cursor() takes one argument, the connection");
        return NULL;
    }
    connection = PyTuple_GET_ITEM(args, 0);
    if (!PyObject_TypeCheck(connection, st->ConnectionType)) {
        return PyErr_Format(PyExc_TypeError, "Cursor() needs a pgatomic connection, not %.100s",
                            Py_TYPE(connection)->tp_name);
    }
    self = (pgapy_Cursor *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->state = st;
    self->connection = (pgapy_Connection *)Py_NewRef(connection);
    self->rowcount = -1;
    self->arraysize = 1;
    if (pga_placeholders_new(&self->ph) != PGA_OK) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int
cursor_traverse(pgapy_Cursor *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->connection);
    Py_VISIT(self->result);
    Py_VISIT(self->pending);
    Py_VISIT(self->description);
    return 0;
}

static int
cursor_clear(pgapy_Cursor *self)
{
    Py_CLEAR(self->connection);
    Py_CLEAR(self->result);
    Py_CLEAR(self->pending);
    Py_CLEAR(self->description);
    return 0;
}

static void
cursor_dealloc(pgapy_Cursor *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    cursor_clear(self);
    pga_placeholders_free(self->ph);
    self->ph = NULL;
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ------------------------------------------------------------------------
 * Tables, slots, spec
 * ---------------------------------------------------------------------- */

static PyMethodDef cursor_methods[] = {
    {"execute", (PyCFunction)(void (*)(void))cursor_execute, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("execute(query, params=None): run one statement; returns the cursor.")},
    {"executemany", (PyCFunction)(void (*)(void))cursor_executemany,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("executemany(query, params_seq): the statement once per item, pipelined.")},
    {"fetchone", (PyCFunction)cursor_fetchone, METH_NOARGS,
     PyDoc_STR("The next row, or None after the last.")},
    {"fetchmany", (PyCFunction)(void (*)(void))cursor_fetchmany,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("fetchmany(size=arraysize): up to size more rows.")},
    {"fetchall", (PyCFunction)cursor_fetchall, METH_NOARGS,
     PyDoc_STR("The rows not fetched yet.")},
    {"nextset", (PyCFunction)cursor_nextset, METH_NOARGS,
     PyDoc_STR("Move to the next statement's result; True, or None when there is none.")},
    {"close", (PyCFunction)cursor_close, METH_NOARGS,
     PyDoc_STR("Close the cursor (the connection stays open).")},
    {"setinputsizes", (PyCFunction)cursor_setsizes, METH_VARARGS,
     PyDoc_STR("Does nothing: parameters carry their own types.")},
    {"setoutputsize", (PyCFunction)cursor_setsizes, METH_VARARGS,
     PyDoc_STR("Does nothing: every value is fetched whole.")},
    {"__enter__", (PyCFunction)cursor_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)cursor_exit, METH_VARARGS, NULL},
    {"_prepare", (PyCFunction)(void (*)(void))cursor_prepare, METH_FASTCALL, NULL},
    {"_prepare_many", (PyCFunction)(void (*)(void))cursor_prepare_many, METH_FASTCALL, NULL},
    {"_adopt", (PyCFunction)cursor_adopt, METH_O, NULL},
    {"_adopt_rowcount", (PyCFunction)cursor_adopt_rowcount, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cursor_getset[] = {
    {"description", (getter)cursor_get_description, NULL,
     PyDoc_STR("One Column per column of the current result, or None."), NULL},
    {"rowcount", (getter)cursor_get_rowcount, NULL,
     PyDoc_STR("Rows returned or affected by the last execute*(), or -1."), NULL},
    {"rownumber", (getter)cursor_get_rownumber, NULL,
     PyDoc_STR("The index of the next row to fetch, or None."), NULL},
    {"arraysize", (getter)cursor_get_arraysize, (setter)cursor_set_arraysize,
     PyDoc_STR("How many rows fetchmany() returns by default."), NULL},
    {"statusmessage", (getter)cursor_get_statusmessage, NULL,
     PyDoc_STR("The command tag of the current result, e.g. 'INSERT 0 1'."), NULL},
    {"lastrowid", (getter)cursor_get_none, NULL,
     PyDoc_STR("Always None: use RETURNING."), NULL},
    {"closed", (getter)cursor_get_closed, NULL, NULL, NULL},
    {"connection", (getter)cursor_get_connection, NULL,
     PyDoc_STR("The connection the cursor runs on."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot cursor_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Cursor(connection): PEP 249's cursor over a pgatomic "
                                  "connection.")},
    {Py_tp_new, cursor_new},
    {Py_tp_dealloc, cursor_dealloc},
    {Py_tp_traverse, cursor_traverse},
    {Py_tp_clear, cursor_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, cursor_iternext},
    {Py_tp_methods, cursor_methods},
    {Py_tp_getset, cursor_getset},
    {0, NULL},
};

static PyType_Spec cursor_spec = {
    .name = "pgatomic.dbapi.Cursor",
    .basicsize = sizeof(pgapy_Cursor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = cursor_slots,
};

static PyStructSequence_Field column_fields[] = {
    {"name", "the column's name"},
    {"type_code", "the column's type OID"},
    {"display_size", "n of varchar(n) and char(n), else None"},
    {"internal_size", "the type's size in bytes on the server, None when it varies"},
    {"precision", "digits of numeric(p, s); fractional digits of time types; else None"},
    {"scale", "s of numeric(p, s), else None"},
    {"null_ok", "always None: the protocol does not say"},
    {NULL, NULL},
};

static PyStructSequence_Desc column_desc = {
    .name = "pgatomic.dbapi.Column",
    .doc = "One item of Cursor.description (PEP 249's seven fields, also by name).",
    .fields = column_fields,
    .n_in_sequence = 7,
};

int
pgapy_cursor_setup_types(PyObject *module, pgapy_state *st)
{
    st->ColumnType = PyStructSequence_NewType(&column_desc);
    if (st->ColumnType == NULL || PyModule_AddType(module, st->ColumnType) < 0) {
        return -1;
    }
    st->CursorType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &cursor_spec, NULL);
    if (st->CursorType == NULL) {
        return -1;
    }
    return PyModule_AddType(module, st->CursorType);
}
