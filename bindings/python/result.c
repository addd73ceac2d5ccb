/* result.c -- the Result type: the rows, column names, command tag and row
 * count of one statement, converted once from the core's results; a script
 * of several commands gives several such sets, reached with nextset() as in
 * psycopg.  It holds plain Python objects only, so it outlives the
 * connection that made it. */
#include "module.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *rows;        /* list of tuples */
    PyObject *columns;     /* list of str */
    PyObject *status;      /* str: the command tag */
    long long rowcount;
    Py_ssize_t pos;        /* fetchone()'s cursor into rows */
    PyObject *later;       /* the next sets, as Results (list), or NULL */
    Py_ssize_t next_set;   /* nextset()'s cursor into later */
    pgapy_coltype *types;  /* one per column (PyMem), for types and description */
} pgapy_Result;

/* ------------------------------------------------------------------------
 * Construction from the core
 * ---------------------------------------------------------------------- */

static PyObject *
result_from_core(pgapy_state *st, pga_result *res, PyObject *json_loads)
{
    pgapy_Result *self;
    int nrows = pga_result_nrows(res), ncols = pga_result_ncols(res);
    int *kinds = NULL;
    unsigned *elems = NULL;
    const char *tag;

    self = PyObject_GC_New(pgapy_Result, st->ResultType);
    if (self == NULL) {
        return NULL;
    }
    self->rows = PyList_New(nrows);
    self->columns = PyList_New(ncols);
    tag = pga_result_status(res);
    self->status = PyUnicode_FromString(tag != NULL ? tag : "");
    self->rowcount = (long long)pga_result_rowcount(res);
    self->pos = 0;
    self->later = NULL;
    self->next_set = 0;
    self->types = PyMem_New(pgapy_coltype, ncols > 0 ? ncols : 1);
    PyObject_GC_Track(self);
    if (self->rows == NULL || self->columns == NULL || self->status == NULL) {
        goto fail;
    }
    if (self->types == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    kinds = PyMem_New(int, ncols > 0 ? ncols : 1);
    elems = PyMem_New(unsigned, ncols > 0 ? ncols : 1);
    if (kinds == NULL || elems == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (int c = 0; c < ncols; c++) {
        const char *name = pga_result_colname(res, c);
        PyObject *s = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "replace");

        if (s == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(self->columns, c, s);
        self->types[c].oid = pga_result_coltype(res, c);
        self->types[c].typmod = pga_result_coltypmod(res, c);
        self->types[c].size = pga_result_colsize(res, c);
        elems[c] = 0;
        kinds[c] = pga_type_kind(self->types[c].oid, &elems[c]);
    }
    for (int r = 0; r < nrows; r++) {
        PyObject *row = PyTuple_New(ncols);

        if (row == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(self->rows, r, row);
        for (int c = 0; c < ncols; c++) {
            PyObject *v;

            if (pga_result_isnull(res, r, c)) {
                v = Py_NewRef(Py_None);
            }
            else {
                size_t len;
                const char *text = pga_result_text(res, r, c, &len);

                if (kinds[c] == PGA_T_JSON && json_loads != NULL) {
                    PyObject *s = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "strict");

                    v = s != NULL ? PyObject_CallOneArg(json_loads, s) : NULL;
                    Py_XDECREF(s);
                }
                else {
                    v = pgapy_value_to_python(st, kinds[c], elems[c], text, len);
                }
                if (v == NULL) {
                    goto fail;
                }
            }
            PyTuple_SET_ITEM(row, c, v);
        }
    }
    PyMem_Free(kinds);
    PyMem_Free(elems);
    return (PyObject *)self;

fail:
    PyMem_Free(kinds);
    PyMem_Free(elems);
    Py_DECREF(self);
    return NULL;
}

PyObject *
pgapy_result_from(pgapy_state *st, pga_result *res, PyObject *json_loads)
{
    return result_from_core(st, res, json_loads);
}

PyObject *
pgapy_result_take(pgapy_state *st, pga_conn *conn, PyObject *json_loads)
{
    pga_result *res = pga_conn_take_result(conn);
    pgapy_Result *first;

    if (res == NULL) {
        PyErr_SetString(PyExc_SystemError, "the core finished a statement without a result");
        return NULL;
    }
    first = (pgapy_Result *)result_from_core(st, res, json_loads);
    pga_result_free(res);
    while (first != NULL && (res = pga_conn_take_result(conn)) != NULL) {
        PyObject *set = result_from_core(st, res, json_loads);

        pga_result_free(res);
        if (set == NULL) {
            Py_CLEAR(first);
            break;
        }
        if (first->later == NULL) {
            first->later = PyList_New(0);
        }
        if (first->later == NULL || PyList_Append(first->later, set) < 0) {
            Py_CLEAR(first);
        }
        Py_DECREF(set);
    }
    /* Whatever is left (after a failure) goes with the next operation. */
    return (PyObject *)first;
}

/* ------------------------------------------------------------------------
 * Methods
 * ---------------------------------------------------------------------- */

/* psycopg's nextset(): move to the next command's set of rows; True, or
 * None when there is no other. */
static PyObject *
result_nextset(pgapy_Result *self, PyObject *Py_UNUSED(unused))
{
    pgapy_Result *next;

    if (self->later == NULL || self->next_set >= PyList_GET_SIZE(self->later)) {
        Py_RETURN_NONE;
    }
    next = (pgapy_Result *)PyList_GET_ITEM(self->later, self->next_set++);
    Py_SETREF(self->rows, Py_NewRef(next->rows));
    Py_SETREF(self->columns, Py_NewRef(next->columns));
    Py_SETREF(self->status, Py_NewRef(next->status));
    self->rowcount = next->rowcount;
    self->pos = 0;
    {
        /* The set moved here is never read through next again. */
        pgapy_coltype *t = self->types;
        self->types = next->types;
        next->types = t;
    }
    Py_RETURN_TRUE;
}

static PyObject *
result_fetchone(pgapy_Result *self, PyObject *Py_UNUSED(unused))
{
    if (self->pos >= PyList_GET_SIZE(self->rows)) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(PyList_GET_ITEM(self->rows, self->pos++));
}

static PyObject *
result_fetchall(pgapy_Result *self, PyObject *Py_UNUSED(unused))
{
    Py_ssize_t n = PyList_GET_SIZE(self->rows);
    PyObject *rest = PyList_GetSlice(self->rows, self->pos, n);

    if (rest != NULL) {
        self->pos = n;
    }
    return rest;
}

static PyObject *
result_scalar(pgapy_Result *self, PyObject *Py_UNUSED(unused))
{
    PyObject *row;

    if (PyList_GET_SIZE(self->rows) == 0) {
        Py_RETURN_NONE;
    }
    row = PyList_GET_ITEM(self->rows, 0);
    if (PyTuple_GET_SIZE(row) == 0) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(PyTuple_GET_ITEM(row, 0));
}

static PyObject *
result_dicts(pgapy_Result *self, PyObject *Py_UNUSED(unused))
{
    Py_ssize_t n = PyList_GET_SIZE(self->rows);
    Py_ssize_t ncols = PyList_GET_SIZE(self->columns);
    PyObject *out = PyList_New(n);

    if (out == NULL) {
        return NULL;
    }
    for (Py_ssize_t r = 0; r < n; r++) {
        PyObject *row = PyList_GET_ITEM(self->rows, r);
        PyObject *d = PyDict_New();

        if (d == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, r, d);
        for (Py_ssize_t c = 0; c < ncols; c++) {
            if (PyDict_SetItem(d, PyList_GET_ITEM(self->columns, c),
                               PyTuple_GET_ITEM(row, c)) < 0) {
                Py_DECREF(out);
                return NULL;
            }
        }
    }
    return out;
}

static PyObject *
result_iter(pgapy_Result *self)
{
    return PyObject_GetIter(self->rows);
}

static Py_ssize_t
result_len(pgapy_Result *self)
{
    return PyList_GET_SIZE(self->rows);
}

static PyObject *
result_getitem(pgapy_Result *self, PyObject *key)
{
    return PyObject_GetItem(self->rows, key);
}

static PyObject *
result_get_rowcount(pgapy_Result *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(self->rowcount);
}

static PyObject *
result_get_types(pgapy_Result *self, void *Py_UNUSED(closure))
{
    Py_ssize_t n = PyList_GET_SIZE(self->columns);
    PyObject *list = PyList_New(n);

    for (Py_ssize_t c = 0; list != NULL && c < n; c++) {
        PyObject *oid = PyLong_FromUnsignedLong(self->types[c].oid);

        if (oid == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, c, oid);
    }
    return list;
}

static PyObject *
result_repr(pgapy_Result *self)
{
    return PyUnicode_FromFormat("<pgatomic.Result %R, %zd rows>", self->status,
                                PyList_GET_SIZE(self->rows));
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------- */

static int
result_traverse(pgapy_Result *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->rows);
    Py_VISIT(self->columns);
    Py_VISIT(self->status);
    Py_VISIT(self->later);
    return 0;
}

static int
result_clear(pgapy_Result *self)
{
    Py_CLEAR(self->rows);
    Py_CLEAR(self->columns);
    Py_CLEAR(self->status);
    Py_CLEAR(self->later);
    return 0;
}

static void
result_dealloc(pgapy_Result *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    result_clear(self);
    PyMem_Free(self->types);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
result_new_forbidden(PyTypeObject *Py_UNUSED(type), PyObject *Py_UNUSED(args),
                     PyObject *Py_UNUSED(kw))
{
    PyErr_SetString(PyExc_TypeError, "Result objects are made by Connection.execute()");
    return NULL;
}

/* ------------------------------------------------------------------------
 * What a DB-API cursor reads (cursor.c): the same sets, rows and counts,
 * without a Python-level call per row.
 * ---------------------------------------------------------------------- */

#define RESULT(o) ((pgapy_Result *)(o))

int
pgapy_result_has_rows(PyObject *result)
{
    return PyList_GET_SIZE(RESULT(result)->columns) > 0;
}

long long
pgapy_result_rowcount(PyObject *result)
{
    return RESULT(result)->rowcount;
}

Py_ssize_t
pgapy_result_rownumber(PyObject *result)
{
    return RESULT(result)->pos;
}

PyObject *
pgapy_result_status(PyObject *result)
{
    return RESULT(result)->status;
}

PyObject *
pgapy_result_fetchone(PyObject *result)
{
    return result_fetchone(RESULT(result), NULL);
}

PyObject *
pgapy_result_fetchall(PyObject *result)
{
    return result_fetchall(RESULT(result), NULL);
}

PyObject *
pgapy_result_rows(PyObject *result)
{
    return RESULT(result)->rows;
}

PyObject *
pgapy_result_columns(PyObject *result)
{
    return RESULT(result)->columns;
}

PyObject *
pgapy_result_fetchmany(PyObject *result, Py_ssize_t size)
{
    pgapy_Result *self = RESULT(result);
    Py_ssize_t n = PyList_GET_SIZE(self->rows);
    Py_ssize_t end = size < 0 || size > n - self->pos ? n : self->pos + size;
    PyObject *some = PyList_GetSlice(self->rows, self->pos, end);

    if (some != NULL) {
        self->pos = end;
    }
    return some;
}

int
pgapy_result_nextset(PyObject *result)
{
    PyObject *r = result_nextset(RESULT(result), NULL);

    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return r == Py_True;
}

/* psycopg's reading of a type modifier (psycopg/_column.py): the length of
 * varchar(n) and char(n), the digits of numeric(p, s), the fractional
 * digits of time, timestamp and interval. */
enum {
    OID_BPCHAR = 1042, OID_VARCHAR = 1043, OID_NUMERIC = 1700, OID_TIME = 1083,
    OID_TIMETZ = 1266, OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184, OID_INTERVAL = 1186
};

static PyObject *
int_or_none(int ok, long value)
{
    return ok ? PyLong_FromLong(value) : Py_NewRef(Py_None);
}

static PyObject *
column_info(PyTypeObject *ColumnType, PyObject *name, const pgapy_coltype *t)
{
    PyObject *col = PyStructSequence_New(ColumnType);
    int mod = t->typmod, numeric = t->oid == OID_NUMERIC;
    int timelike = t->oid == OID_TIME || t->oid == OID_TIMETZ || t->oid == OID_TIMESTAMP
                   || t->oid == OID_TIMESTAMPTZ || t->oid == OID_INTERVAL;
    PyObject *items[7];

    if (col == NULL) {
        return NULL;
    }
    items[0] = Py_NewRef(name);
    items[1] = PyLong_FromUnsignedLong(t->oid);
    items[2] = int_or_none((t->oid == OID_VARCHAR || t->oid == OID_BPCHAR) && mod >= 4,
                           (long)mod - 4);
    items[3] = int_or_none(t->size >= 0, t->size);
    items[4] = numeric ? int_or_none(mod >= 4, (long)((mod - 4) >> 16) & 0xFFFF)
                       : int_or_none(timelike && mod >= 0, (long)mod & 0xFFFF);
    items[5] = int_or_none(numeric && mod >= 4, (long)(mod - 4) & 0xFFFF);
    items[6] = Py_NewRef(Py_None);     /* null_ok: the protocol does not say */
    for (int i = 0; i < 7; i++) {
        if (items[i] == NULL) {
            for (int j = i; j < 7; j++) {
                Py_XDECREF(items[j]);
            }
            Py_DECREF(col);
            return NULL;
        }
        PyStructSequence_SetItem(col, i, items[i]);
    }
    return col;
}

PyObject *
pgapy_result_description(pgapy_state *st, PyObject *result)
{
    pgapy_Result *self = RESULT(result);
    Py_ssize_t n = PyList_GET_SIZE(self->columns);
    PyObject *desc;

    if (n == 0) {
        Py_RETURN_NONE;
    }
    desc = PyTuple_New(n);
    for (Py_ssize_t c = 0; desc != NULL && c < n; c++) {
        PyObject *col = column_info(st->ColumnType, PyList_GET_ITEM(self->columns, c),
                                    &self->types[c]);

        if (col == NULL) {
            Py_CLEAR(desc);
            break;
        }
        PyTuple_SET_ITEM(desc, c, col);
    }
    return desc;
}

/* ------------------------------------------------------------------------
 * Tables, slots, spec
 * ---------------------------------------------------------------------- */

static PyMethodDef result_methods[] = {
    {"fetchone", (PyCFunction)result_fetchone, METH_NOARGS,
     PyDoc_STR("The next row, or None after the last.")},
    {"fetchall", (PyCFunction)result_fetchall, METH_NOARGS,
     PyDoc_STR("The rows not fetched yet.")},
    {"scalar", (PyCFunction)result_scalar, METH_NOARGS,
     PyDoc_STR("The first column of the first row, or None.")},
    {"dicts", (PyCFunction)result_dicts, METH_NOARGS,
     PyDoc_STR("The rows as dicts keyed by column name.")},
    {"nextset", (PyCFunction)result_nextset, METH_NOARGS,
     PyDoc_STR("Move to the next command's result (a script of several); "
               "True, or None when there is none.")},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef result_members[] = {
    {"rows", T_OBJECT, offsetof(pgapy_Result, rows), READONLY,
     PyDoc_STR("The rows, a list of tuples.")},
    {"columns", T_OBJECT, offsetof(pgapy_Result, columns), READONLY,
     PyDoc_STR("The column names.")},
    {"status", T_OBJECT, offsetof(pgapy_Result, status), READONLY,
     PyDoc_STR("The command tag, e.g. 'INSERT 0 1'.")},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef result_getset[] = {
    {"rowcount", (getter)result_get_rowcount, NULL,
     PyDoc_STR("Rows affected or returned, or -1."), NULL},
    {"types", (getter)result_get_types, NULL,
     PyDoc_STR("The columns' type OIDs, in column order."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot result_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("The outcome of one statement.")},
    {Py_tp_new, result_new_forbidden},
    {Py_tp_dealloc, result_dealloc},
    {Py_tp_traverse, result_traverse},
    {Py_tp_clear, result_clear},
    {Py_tp_iter, result_iter},
    {Py_tp_repr, result_repr},
    {Py_tp_methods, result_methods},
    {Py_tp_members, result_members},
    {Py_tp_getset, result_getset},
    {Py_sq_length, result_len},
    {Py_mp_length, result_len},
    {Py_mp_subscript, result_getitem},
    {0, NULL},
};

static PyType_Spec result_spec = {
    .name = "pgatomic.Result",
    .basicsize = sizeof(pgapy_Result),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = result_slots,
};

int
pgapy_result_setup_types(PyObject *module, pgapy_state *st)
{
    st->ResultType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &result_spec, NULL);
    if (st->ResultType == NULL) {
        return -1;
    }
    return PyModule_AddType(module, st->ResultType);
}
