/* module.c -- pgatomic._pgatomic: multi-phase init, the module state, and
 * the imports the binding needs from Python (exception factory, Decimal,
 * UUID, json).  Exception classes are defined in pgatomic/errors.py. */
#include "module.h"

#include <limits.h>

#include <libpq-fe.h>

static pgapy_state *
get_state(PyObject *module)
{
    return (pgapy_state *)PyModule_GetState(module);
}

#if PY_VERSION_HEX < 0x030B0000
/* PyType_GetModuleByDef() arrived in 3.11: walk the MRO as it does, so a
 * Python subclass of Connection finds the module of its C base. */
static PyObject *
PyType_GetModuleByDef(PyTypeObject *tp, PyModuleDef *def)
{
    PyObject *mro = tp->tp_mro;

    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *module;

        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            continue;
        }
        module = PyType_GetModule(base);
        if (module == NULL) {
            PyErr_Clear();
            continue;
        }
        if (PyModule_GetDef(module) == def) {
            return module;
        }
    }
    PyErr_Format(PyExc_TypeError, "PyType_GetModuleByDef: no superclass of '%s' "
                 "has the given module", tp->tp_name);
    return NULL;
}
#endif

pgapy_state *
pgapy_get_state_by_type(PyTypeObject *tp)
{
    PyObject *module = PyType_GetModuleByDef(tp, &pgapy_module_def);

    if (module == NULL) {
        return NULL;
    }
    return get_state(module);
}

static PyObject *
import_attr(const char *module_name, const char *attr)
{
    PyObject *mod = PyImport_ImportModule(module_name), *value;

    if (mod == NULL) {
        return NULL;
    }
    value = PyObject_GetAttrString(mod, attr);
    Py_DECREF(mod);
    return value;
}

static PyObject *
sql_count_params(PyObject *Py_UNUSED(module), PyObject *sql)
{
    const char *text;

    if (!PyUnicode_Check(sql)) {
        PyErr_SetString(PyExc_TypeError, "sql must be a str");
        return NULL;
    }
    text = PyUnicode_AsUTF8(sql);
    if (text == NULL) {
        return NULL;
    }
    return PyLong_FromLong(pga_sql_count_params(text));
}

/* conninfo_parse(dsn) -> (dict, None) or (None, message): libpq's own
 * reading of a connection string or URI, so pgatomic.dbapi.connect() can
 * merge keywords into it as psycopg does. */
static PyObject *
conninfo_parse(PyObject *Py_UNUSED(module), PyObject *dsn)
{
    const char *text;
    char *errmsg = NULL;
    PQconninfoOption *opts;
    PyObject *dict, *out;

    if (!PyUnicode_Check(dsn)) {
        PyErr_SetString(PyExc_TypeError, "dsn must be a str");
        return NULL;
    }
    text = PyUnicode_AsUTF8(dsn);
    if (text == NULL) {
        return NULL;
    }
    opts = PQconninfoParse(text, &errmsg);
    if (opts == NULL) {
        out = Py_BuildValue("(Os)", Py_None, errmsg != NULL ? errmsg : "out of memory");
        PQfreemem(errmsg);
        return out;
    }
    dict = PyDict_New();
    for (PQconninfoOption *o = opts; dict != NULL && o->keyword != NULL; o++) {
        PyObject *v;

        if (o->val == NULL) {
            continue;
        }
        v = PyUnicode_DecodeUTF8(o->val, (Py_ssize_t)strlen(o->val), "surrogateescape");
        if (v == NULL || PyDict_SetItemString(dict, o->keyword, v) < 0) {
            Py_CLEAR(dict);
        }
        Py_XDECREF(v);
    }
    PQconninfoFree(opts);
    if (dict == NULL) {
        return NULL;
    }
    out = PyTuple_Pack(2, dict, Py_None);
    Py_DECREF(dict);
    return out;
}

/* The name of a SQLSTATE's kind, so pgatomic.errors.lookup() uses the
 * core's one classification instead of a copy. */
static PyObject *
sqlstate_kind_name(PyObject *Py_UNUSED(module), PyObject *sqlstate)
{
    const char *text;

    if (!PyUnicode_Check(sqlstate)) {
        PyErr_SetString(PyExc_TypeError, "sqlstate must be a str");
        return NULL;
    }
    text = PyUnicode_AsUTF8(sqlstate);
    if (text == NULL) {
        return NULL;
    }
    if (strlen(text) != 5) {
        text = NULL;
    }
    return PyUnicode_FromString(pga_kind_name(pga_sqlstate_kind(text)));
}

/* An int argument (PyLong_AsInt is public only from Python 3.13). */
static int
int_arg(PyObject *o, int *out)
{
    long v = PyLong_AsLong(o);

    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "argument out of range for a C int");
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* retryable(code, sqlstate): the core's one decision whether a failed
 * outermost block may be re-run (40001 / 40P01, never an unknown COMMIT). */
static PyObject *
retryable(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    const char *sqlstate = NULL;
    int code;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "retryable() takes 2 positional arguments");
        return NULL;
    }
    if (int_arg(args[0], &code) < 0) {
        return NULL;
    }
    if (args[1] != Py_None) {
        if (!PyUnicode_Check(args[1])) {
            PyErr_SetString(PyExc_TypeError, "sqlstate must be a str or None");
            return NULL;
        }
        sqlstate = PyUnicode_AsUTF8(args[1]);
        if (sqlstate == NULL) {
            return NULL;
        }
    }
    return PyBool_FromLong(pga_retryable(code, sqlstate));
}

/* retry_delay_ms(attempt, base_ms, cap_ms, random): the core's jittered
 * exponential backoff; random is any 32 bits the caller drew. */
static PyObject *
retry_delay_ms(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    int v[3];
    unsigned long random;

    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "retry_delay_ms() takes 4 positional arguments");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (int_arg(args[i], &v[i]) < 0) {
            return NULL;
        }
    }
    random = PyLong_AsUnsignedLongMask(args[3]);
    if (random == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(pga_retry_delay_ms(v[0], v[1], v[2], (uint32_t)random));
}

/* The core's SQLSTATE table as (code, condition, base kind name) tuples,
 * so pgatomic.errors makes one class per code from the one list. */
static PyObject *
sqlstate_table(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    PyObject *list = PyList_New(0);
    const char *code, *condition;

    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; (code = pga_sqlstate_at(i, &condition)) != NULL; i++) {
        PyObject *item = Py_BuildValue("(sss)", code, condition,
                                       pga_kind_name(pga_kind_base(pga_sqlstate_kind(code))));
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

static PyObject *
kind_names(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    PyObject *list = PyList_New(PGA_KIND__COUNT);

    if (list == NULL) {
        return NULL;
    }
    for (int k = 0; k < PGA_KIND__COUNT; k++) {
        PyObject *name = PyUnicode_FromString(pga_kind_name(k));
        if (name == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, name);
    }
    return list;
}

static int
module_exec(PyObject *module)
{
    pgapy_state *st = get_state(module);

    st->core_error = import_attr("pgatomic.errors", "_core_error");
    st->Error = import_attr("pgatomic.errors", "Error");
    st->Json = import_attr("pgatomic._json", "Json");
    st->InfiniteDate = import_attr("pgatomic._values", "InfiniteDate");
    st->InfiniteDatetime = import_attr("pgatomic._values", "InfiniteDatetime");
    st->Interval = import_attr("pgatomic._values", "Interval");
    st->Decimal = import_attr("decimal", "Decimal");
    st->UUID = import_attr("uuid", "UUID");
    st->json_loads = import_attr("json", "loads");
    st->json_dumps = import_attr("json", "dumps");
    if (st->core_error == NULL || st->Error == NULL || st->Json == NULL
        || st->InfiniteDate == NULL || st->InfiniteDatetime == NULL
        || st->Interval == NULL
        || st->Decimal == NULL || st->UUID == NULL || st->json_loads == NULL
        || st->json_dumps == NULL) {
        return -1;
    }
    if (pgapy_convert_init(st) < 0) {
        return -1;
    }
    {
        PyObject *tz = import_attr("datetime", "timezone");
        if (tz == NULL) {
            return -1;
        }
        st->utc = PyObject_GetAttrString(tz, "utc");
        Py_DECREF(tz);
        if (st->utc == NULL) {
            return -1;
        }
    }
    /* Block flags, so python/pgatomic never repeats the core's numbers. */
    if (PyModule_AddIntConstant(module, "SAVEPOINT", PGA_SAVEPOINT) < 0
        || PyModule_AddIntConstant(module, "DURABLE", PGA_DURABLE) < 0
        || PyModule_AddIntConstant(module, "ISO_READ_COMMITTED", PGA_ISO_READ_COMMITTED) < 0
        || PyModule_AddIntConstant(module, "ISO_REPEATABLE_READ", PGA_ISO_REPEATABLE_READ) < 0
        || PyModule_AddIntConstant(module, "ISO_SERIALIZABLE", PGA_ISO_SERIALIZABLE) < 0
        || PyModule_AddIntConstant(module, "ISO_READ_UNCOMMITTED", PGA_ISO_READ_UNCOMMITTED) < 0
        || PyModule_AddIntConstant(module, "READ_ONLY", PGA_READ_ONLY) < 0
        || PyModule_AddIntConstant(module, "READ_WRITE", PGA_READ_WRITE) < 0
        || PyModule_AddIntConstant(module, "DEFERRABLE", PGA_DEFERRABLE) < 0
        || PyModule_AddIntConstant(module, "NOT_DEFERRABLE", PGA_NOT_DEFERRABLE) < 0
        || PyModule_AddIntConstant(module, "PIPELINE", PGA_PIPELINE) < 0) {
        return -1;
    }
    if (pgapy_connection_setup_types(module, st) < 0
        || pgapy_result_setup_types(module, st) < 0
        || pgapy_cursor_setup_types(module, st) < 0
        || pgapy_stream_setup_types(module, st) < 0) {
        return -1;
    }
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    pgapy_state *st = get_state(module);

    Py_VISIT(st->ConnectionType);
    Py_VISIT(st->ResultType);
    Py_VISIT(st->CursorType);
    Py_VISIT(st->StreamType);
    Py_VISIT(st->ColumnType);
    Py_VISIT(st->core_error);
    Py_VISIT(st->Error);
    Py_VISIT(st->Decimal);
    Py_VISIT(st->UUID);
    Py_VISIT(st->json_loads);
    Py_VISIT(st->json_dumps);
    Py_VISIT(st->Json);
    Py_VISIT(st->InfiniteDate);
    Py_VISIT(st->InfiniteDatetime);
    Py_VISIT(st->Interval);
    Py_VISIT(st->utc);
    return 0;
}

static int
module_clear(PyObject *module)
{
    pgapy_state *st = get_state(module);

    Py_CLEAR(st->ConnectionType);
    Py_CLEAR(st->ResultType);
    Py_CLEAR(st->CursorType);
    Py_CLEAR(st->StreamType);
    Py_CLEAR(st->ColumnType);
    Py_CLEAR(st->core_error);
    Py_CLEAR(st->Error);
    Py_CLEAR(st->Decimal);
    Py_CLEAR(st->UUID);
    Py_CLEAR(st->json_loads);
    Py_CLEAR(st->json_dumps);
    Py_CLEAR(st->Json);
    Py_CLEAR(st->InfiniteDate);
    Py_CLEAR(st->InfiniteDatetime);
    Py_CLEAR(st->Interval);
    Py_CLEAR(st->utc);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyMethodDef module_methods[] = {
    {"error_names", pgapy_error_names, METH_NOARGS,
     PyDoc_STR("The names of every result code of the core.")},
    {"kind_names", kind_names, METH_NOARGS,
     PyDoc_STR("The names of every SQLSTATE kind of the core.")},
    {"sqlstate_kind_name", sqlstate_kind_name, METH_O,
     PyDoc_STR("The kind the core picks for a SQLSTATE ('operational', 'unique_violation').")},
    {"sqlstate_table", sqlstate_table, METH_NOARGS,
     PyDoc_STR("Every SQLSTATE the core knows: (code, condition, base kind) tuples.")},
    {"conninfo_parse", conninfo_parse, METH_O,
     PyDoc_STR("conninfo_parse(dsn) -> (dict, None) or (None, libpq's message).")},
    {"sql_count_params", sql_count_params, METH_O,
     PyDoc_STR("The number of $n placeholders a statement uses.")},
    {"retryable", (PyCFunction)(void (*)(void))retryable, METH_FASTCALL,
     PyDoc_STR("retryable(code, sqlstate): may a failed outermost block be re-run?")},
    {"retry_delay_ms", (PyCFunction)(void (*)(void))retry_delay_ms, METH_FASTCALL,
     PyDoc_STR("retry_delay_ms(attempt, base_ms, cap_ms, random): the pause before a retry.")},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

PyModuleDef pgapy_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pgatomic._pgatomic",
    .m_doc = "The C binding of pgatomic: connections over the libpgatomic core.",
    .m_size = sizeof(pgapy_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__pgatomic(void);

PyMODINIT_FUNC
PyInit__pgatomic(void)
{
    return PyModuleDef_Init(&pgapy_module_def);
}
