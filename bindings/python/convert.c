/* convert.c -- Python values to pga_params, and decoded result values to
 * Python objects (API.md 1.1).  The core encodes and parses the wire text;
 * this file only says what a Python value is and builds the objects. */
#include "module.h"

#include <datetime.h>
#include <string.h>

/* Python 3.9 has no accessor macros for tzinfo. */
#ifndef PyDateTime_DATE_GET_TZINFO
#define PyDateTime_DATE_GET_TZINFO(o) \
    (((PyDateTime_DateTime *)(o))->hastzinfo ? ((PyDateTime_DateTime *)(o))->tzinfo : Py_None)
#define PyDateTime_TIME_GET_TZINFO(o) \
    (((PyDateTime_Time *)(o))->hastzinfo ? ((PyDateTime_Time *)(o))->tzinfo : Py_None)
#endif

/* Nested lists deeper than this are refused rather than recursed into:
 * PostgreSQL allows 6 array dimensions anyway. */
#define MAX_ARRAY_DEPTH 16

/* The datetime C API lives in a per-process capsule (PyDateTimeAPI is a
 * static pointer set by PyDateTime_IMPORT); importing it is idempotent. */
int
pgapy_convert_init(pgapy_state *Py_UNUSED(st))
{
    PyDateTime_IMPORT;
    return PyDateTimeAPI == NULL ? -1 : 0;
}

/* ------------------------------------------------------------------------
 * Python -> parameters
 * ---------------------------------------------------------------------- */

/* A core refusal (PGA_EPARAM: NUL byte, mixed array types, ...) becomes a
 * DataError worded by pgatomic.errors, with the core's reason. */
static int
param_failed(pgapy_state *st, pga_params *p, int rc)
{
    PyObject *info;

    if (rc == PGA_ENOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    info = Py_BuildValue("{s:s}", "message", pga_params_errmsg(p));
    if (info == NULL) {
        return -1;
    }
    pgapy_raise_condition(st, pga_err_name(rc), info);
    Py_DECREF(info);
    return -1;
}

static int
cannot_adapt(pgapy_state *st, PyObject *v)
{
    PyObject *info = Py_BuildValue("{s:s}", "type", Py_TYPE(v)->tp_name);

    if (info == NULL) {
        return -1;
    }
    pgapy_raise_condition(st, "EADAPT", info);
    Py_DECREF(info);
    return -1;
}

/* A str that is not valid Unicode (lone surrogates) cannot travel as
 * UTF-8: a DataError like the other values PostgreSQL cannot hold (a NUL
 * byte), with the UnicodeEncodeError, which says where, as its cause. */
static int
encode_failed(pgapy_state *st)
{
    PyObject *type, *value, *tb, *text, *info;
    PyObject *dtype, *dvalue, *dtb;

    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        return -1;
    }
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    text = PyObject_Str(value);
    info = text != NULL ? Py_BuildValue("{s:O}", "message", text) : NULL;
    Py_XDECREF(text);
    if (info == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    pgapy_raise_condition(st, "ETEXTENCODE", info);
    Py_DECREF(info);
    PyErr_Fetch(&dtype, &dvalue, &dtb);
    PyErr_NormalizeException(&dtype, &dvalue, &dtb);
    if (dvalue != NULL) {
        PyException_SetCause(dvalue, value);    /* steals value */
    }
    else {
        Py_XDECREF(value);
    }
    PyErr_Restore(dtype, dvalue, dtb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return -1;
}

static int
add_text_object(pgapy_state *st, pga_params *p, PyObject *str)
{
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(str, &len);
    int rc;

    if (utf8 == NULL) {
        return encode_failed(st);
    }
    rc = pga_params_add_text(p, utf8, (size_t)len);
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

static int
add_json(pgapy_state *st, pga_params *p, PyObject *obj, PyObject *dumps)
{
    PyObject *text = PyObject_CallOneArg(dumps, obj);
    Py_ssize_t len;
    const char *utf8;
    int rc;

    if (text == NULL) {
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        Py_DECREF(text);
        PyErr_SetString(PyExc_TypeError, "the JSON dumps function must return str");
        return -1;
    }
    utf8 = PyUnicode_AsUTF8AndSize(text, &len);
    if (utf8 == NULL) {
        Py_DECREF(text);
        return encode_failed(st);
    }
    rc = pga_params_add_json(p, utf8, (size_t)len);
    Py_DECREF(text);
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

/* Seconds east of UTC of an aware datetime, or 0 with *aware = 0. */
/* *aware = 2 when the offset has a fraction of a second, which
 * PostgreSQL's offsets cannot carry: the caller sends the instant in UTC. */
static int
utc_offset_of(PyObject *dt, int *aware, int *offset)
{
    PyObject *delta;

    *aware = 0;
    *offset = 0;
    if (PyDateTime_DATE_GET_TZINFO(dt) == Py_None) {
        return 0;
    }
    delta = PyObject_CallMethod(dt, "utcoffset", NULL);
    if (delta == NULL) {
        return -1;
    }
    if (delta != Py_None) {
        if (!PyDelta_Check(delta)) {
            Py_DECREF(delta);
            PyErr_SetString(PyExc_TypeError, "utcoffset() must return a timedelta");
            return -1;
        }
        *aware = PyDateTime_DELTA_GET_MICROSECONDS(delta) != 0 ? 2 : 1;
        *offset = PyDateTime_DELTA_GET_DAYS(delta) * 86400
                  + PyDateTime_DELTA_GET_SECONDS(delta);
    }
    Py_DECREF(delta);
    return 0;
}

static int add_value(pgapy_state *st, pga_params *p, PyObject *v, int depth);

/* An EPARAM DataError with our words. */
static int
param_refused(pgapy_state *st, PyObject *message)
{
    PyObject *info;

    if (message == NULL) {
        return -1;
    }
    info = Py_BuildValue("{s:O}", "message", message);
    Py_DECREF(message);
    if (info != NULL) {
        pgapy_raise_condition(st, "EPARAM", info);
        Py_DECREF(info);
    }
    return -1;
}

/* An infinity read from PostgreSQL (pgatomic._values), still date.max or
 * date.min: its sign, else 0 (changed into an ordinary value). */
static int
infinity_sign(PyObject *v, int dated)
{
    int y = PyDateTime_GET_YEAR(v), m = PyDateTime_GET_MONTH(v), d = PyDateTime_GET_DAY(v);

    if (y == 9999 && m == 12 && d == 31
        && (!dated || (PyDateTime_DATE_GET_HOUR(v) == 23 && PyDateTime_DATE_GET_MINUTE(v) == 59
                       && PyDateTime_DATE_GET_SECOND(v) == 59
                       && PyDateTime_DATE_GET_MICROSECOND(v) == 999999))) {
        return 1;
    }
    if (y == 1 && m == 1 && d == 1
        && (!dated || (PyDateTime_DATE_GET_HOUR(v) == 0 && PyDateTime_DATE_GET_MINUTE(v) == 0
                       && PyDateTime_DATE_GET_SECOND(v) == 0
                       && PyDateTime_DATE_GET_MICROSECOND(v) == 0))) {
        return -1;
    }
    return 0;
}

/* An aware time: timetz needs a fixed offset, which a zone whose offset
 * depends on the date (Europe/Paris) does not have without a date; psycopg
 * refuses those too, rather than guess. */
static int
add_timetz(pgapy_state *st, pga_params *p, PyObject *v)
{
    PyObject *delta = PyObject_CallMethod(v, "utcoffset", NULL);
    int rc;

    if (delta == NULL) {
        return -1;
    }
    if (delta == Py_None) {
        Py_DECREF(delta);
        return param_refused(st, PyUnicode_FromFormat(
            "the time zone %R of a time has no fixed offset without a date: "
            "pass a datetime, or a time with a fixed-offset timezone",
            PyDateTime_TIME_GET_TZINFO(v)));
    }
    if (!PyDelta_Check(delta)) {
        Py_DECREF(delta);
        PyErr_SetString(PyExc_TypeError, "utcoffset() must return a timedelta");
        return -1;
    }
    if (PyDateTime_DELTA_GET_MICROSECONDS(delta) != 0) {
        Py_DECREF(delta);
        return param_refused(st, PyUnicode_FromString(
            "a time's UTC offset has a fraction of a second, which PostgreSQL cannot hold"));
    }
    rc = pga_params_add_timetz(p, PyDateTime_TIME_GET_HOUR(v), PyDateTime_TIME_GET_MINUTE(v),
                               PyDateTime_TIME_GET_SECOND(v),
                               PyDateTime_TIME_GET_MICROSECOND(v),
                               PyDateTime_DELTA_GET_DAYS(delta) * 86400
                               + PyDateTime_DELTA_GET_SECONDS(delta));
    Py_DECREF(delta);
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

/* An Interval goes back as the three fields it was read with. */
static int
add_exact_interval(pgapy_state *st, pga_params *p, PyObject *v)
{
    static const char *const names[3] = {"months", "interval_days", "interval_microseconds"};
    long long part[3];
    int rc;

    for (int i = 0; i < 3; i++) {
        PyObject *o = PyObject_GetAttrString(v, names[i]);

        if (o == NULL) {
            return -1;
        }
        part[i] = PyLong_AsLongLong(o);
        Py_DECREF(o);
        if (part[i] == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    rc = pga_params_add_interval_months(p, part[0], part[1], part[2]);
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

static int
add_sequence(pgapy_state *st, pga_params *p, PyObject *v, int depth)
{
    PyObject *fast;
    int rc;

    if (depth >= MAX_ARRAY_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "list parameter nested too deeply");
        return -1;
    }
    rc = pga_params_array_begin(p);
    if (rc != PGA_OK) {
        return param_failed(st, p, rc);
    }
    fast = PySequence_Fast(v, "expected a list or tuple");
    if (fast == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        if (add_value(st, p, PySequence_Fast_GET_ITEM(fast, i), depth + 1) < 0) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    rc = pga_params_array_end(p);
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

/* Decimals and integers beyond int64 travel as numeric text, so every
 * digit survives. */
static int
add_numeric_text(pga_params *p, PyObject *v)
{
    Py_ssize_t len;
    const char *digits;
    PyObject *text = PyObject_Str(v);
    int rc;

    if (text == NULL) {
        return -1;
    }
    digits = PyUnicode_AsUTF8AndSize(text, &len);
    if (digits == NULL) {
        Py_DECREF(text);
        return -1;
    }
    if (len == 4 && strcmp(digits, "-NaN") == 0) {
        /* numeric's NaN has no sign: Decimal('-NaN') is the same NaN. */
        digits++;
        len--;
    }
    rc = pga_params_add_numeric(p, digits, (size_t)len);
    Py_DECREF(text);
    return rc;
}

static int
add_value(pgapy_state *st, pga_params *p, PyObject *v, int depth)
{
    int rc, r;

    if (v == Py_None) {
        rc = pga_params_add_null(p);
    }
    else if (PyBool_Check(v)) {
        rc = pga_params_add_bool(p, v == Py_True);
    }
    else if (PyLong_Check(v)) {
        int overflow;
        long long value = PyLong_AsLongLongAndOverflow(v, &overflow);

        if (value == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow) {
            rc = add_numeric_text(p, v);
            if (rc == -1 && PyErr_Occurred()) {
                return -1;
            }
        }
        else {
            rc = pga_params_add_int64(p, (int64_t)value);
        }
    }
    else if (PyFloat_Check(v)) {
        rc = pga_params_add_float64(p, PyFloat_AS_DOUBLE(v));
    }
    else if (PyUnicode_Check(v)) {
        return add_text_object(st, p, v);
    }
    else if (PyBytes_Check(v)) {
        rc = pga_params_add_bytea(p, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
    }
    else if (PyByteArray_Check(v) || PyMemoryView_Check(v)) {
        Py_buffer view;

        if (PyObject_GetBuffer(v, &view, PyBUF_C_CONTIGUOUS) < 0) {
            return -1;
        }
        rc = pga_params_add_bytea(p, view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
    }
    else if (PyObject_TypeCheck(v, (PyTypeObject *)st->InfiniteDatetime)
             && (r = infinity_sign(v, 1)) != 0) {
        rc = pga_params_add_infinity(p, PyDateTime_DATE_GET_TZINFO(v) != Py_None
                                            ? PGA_T_TIMESTAMPTZ : PGA_T_TIMESTAMP, r);
    }
    else if (PyObject_TypeCheck(v, (PyTypeObject *)st->InfiniteDate)
             && (r = infinity_sign(v, 0)) != 0) {
        rc = pga_params_add_infinity(p, PGA_T_DATE, r);
    }
    else if (PyDateTime_Check(v)) {
        int aware, offset;

        if (utc_offset_of(v, &aware, &offset) < 0) {
            return -1;
        }
        if (aware == 2) {
            /* Rounding the offset would move the instant: send it in UTC. */
            PyObject *utc = PyObject_CallMethod(v, "astimezone", "O", st->utc);
            if (utc == NULL) {
                PyObject *info;
                if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
                    return -1;
                }
                PyErr_Clear();
                info = Py_BuildValue("{s:s}", "message",
                                     "the datetime is out of range once moved to UTC");
                if (info != NULL) {
                    pgapy_raise_condition(st, "EPARAM", info);
                    Py_DECREF(info);
                }
                return -1;
            }
            rc = add_value(st, p, utc, depth);
            Py_DECREF(utc);
            return rc;
        }
        if (aware) {
            rc = pga_params_add_timestamptz(
                p, PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v),
                PyDateTime_DATE_GET_HOUR(v), PyDateTime_DATE_GET_MINUTE(v),
                PyDateTime_DATE_GET_SECOND(v), PyDateTime_DATE_GET_MICROSECOND(v), offset);
        }
        else {
            rc = pga_params_add_timestamp(
                p, PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v),
                PyDateTime_DATE_GET_HOUR(v), PyDateTime_DATE_GET_MINUTE(v),
                PyDateTime_DATE_GET_SECOND(v), PyDateTime_DATE_GET_MICROSECOND(v));
        }
    }
    else if (PyDate_Check(v)) {
        rc = pga_params_add_date(p, PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                                 PyDateTime_GET_DAY(v));
    }
    else if (PyTime_Check(v)) {
        if (PyDateTime_TIME_GET_TZINFO(v) != Py_None) {
            return add_timetz(st, p, v);
        }
        rc = pga_params_add_time(p, PyDateTime_TIME_GET_HOUR(v),
                                 PyDateTime_TIME_GET_MINUTE(v),
                                 PyDateTime_TIME_GET_SECOND(v),
                                 PyDateTime_TIME_GET_MICROSECOND(v));
    }
    else if (PyObject_TypeCheck(v, (PyTypeObject *)st->Interval)) {
        return add_exact_interval(st, p, v);
    }
    else if (PyDelta_Check(v)) {
        rc = pga_params_add_interval(p, PyDateTime_DELTA_GET_DAYS(v),
                                     PyDateTime_DELTA_GET_SECONDS(v),
                                     PyDateTime_DELTA_GET_MICROSECONDS(v));
    }
    else if (PyDict_Check(v)) {
        return add_json(st, p, v, st->json_dumps);
    }
    else if (PyList_Check(v) || PyTuple_Check(v)) {
        return add_sequence(st, p, v, depth);
    }
    else if ((r = PyObject_IsInstance(v, st->Decimal)) != 0) {
        if (r < 0) {
            return -1;
        }
        rc = add_numeric_text(p, v);
        if (rc == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    else if ((r = PyObject_IsInstance(v, st->UUID)) != 0) {
        PyObject *raw;

        if (r < 0) {
            return -1;
        }
        raw = PyObject_GetAttrString(v, "bytes");
        if (raw == NULL) {
            return -1;
        }
        if (!PyBytes_Check(raw) || PyBytes_GET_SIZE(raw) != 16) {
            Py_DECREF(raw);
            return cannot_adapt(st, v);
        }
        rc = pga_params_add_uuid(p, (const unsigned char *)PyBytes_AS_STRING(raw));
        Py_DECREF(raw);
    }
    else if ((r = PyObject_IsInstance(v, st->Json)) != 0) {
        PyObject *obj, *dumps;

        if (r < 0) {
            return -1;
        }
        obj = PyObject_GetAttrString(v, "obj");
        if (obj == NULL) {
            return -1;
        }
        dumps = PyObject_GetAttrString(v, "dumps");
        if (dumps == NULL) {
            Py_DECREF(obj);
            return -1;
        }
        r = add_json(st, p, obj, dumps == Py_None ? st->json_dumps : dumps);
        Py_DECREF(obj);
        Py_DECREF(dumps);
        return r;
    }
    else {
        return cannot_adapt(st, v);
    }
    return rc == PGA_OK ? 0 : param_failed(st, p, rc);
}

int
pgapy_params_from_python(pgapy_state *st, pga_params *p, PyObject *seq)
{
    PyObject *fast;

    pga_params_clear(p);
    if (seq == Py_None) {
        return 0;
    }
    /* A str is a sequence too, and "abc" as ["a", "b", "c"] would be a
     * baffling way to fail; so would a dict's keys. */
    if (PyUnicode_Check(seq) || PyBytes_Check(seq) || PyByteArray_Check(seq)
        || PyDict_Check(seq) || !PySequence_Check(seq)) {
        PyErr_Format(PyExc_TypeError,
                     "params must be a list or tuple, not %.100s", Py_TYPE(seq)->tp_name);
        return -1;
    }
    fast = PySequence_Fast(seq, "params must be a list or tuple");
    if (fast == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        if (add_value(st, p, PySequence_Fast_GET_ITEM(fast, i), 0) < 0) {
            Py_DECREF(fast);
            pga_params_clear(p);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

/* ------------------------------------------------------------------------
 * Result values -> Python
 * ---------------------------------------------------------------------- */

static PyObject *
decode_failed(pgapy_state *st, int kind, const char *text, size_t len)
{
    PyObject *info = Py_BuildValue("{s:i,s:s#}", "type_kind", kind, "text",
                                   text, (Py_ssize_t)(len > 200 ? 200 : len));

    if (info == NULL) {
        /* The text may be invalid UTF-8 itself: keep the news, drop it. */
        PyErr_Clear();
        info = Py_BuildValue("{s:i}", "type_kind", kind);
        if (info == NULL) {
            return NULL;
        }
    }
    pgapy_raise_condition(st, "EDECODE", info);
    Py_DECREF(info);
    return NULL;
}

static PyObject *
make_timezone(pgapy_state *st, int offset)
{
    PyObject *delta, *tz;

    if (offset == 0) {
        Py_INCREF(st->utc);
        return st->utc;
    }
    delta = PyDelta_FromDSU(0, offset, 0);
    if (delta == NULL) {
        return NULL;
    }
    tz = PyTimeZone_FromOffset(delta);
    Py_DECREF(delta);
    return tz;
}

/* 'infinity' dates and timestamps read as the largest and smallest Python
 * values (date.max, datetime.min, ...), marked so that writing one back
 * sends infinity again (pgatomic._values says why). */
static PyObject *
infinite(pgapy_state *st, int kind, int sign)
{
    if (kind == PGA_T_DATE) {
        return sign > 0 ? PyObject_CallFunction(st->InfiniteDate, "iii", 9999, 12, 31)
                        : PyObject_CallFunction(st->InfiniteDate, "iii", 1, 1, 1);
    }
    return sign > 0
        ? PyObject_CallFunction(st->InfiniteDatetime, "iiiiiiiO", 9999, 12, 31, 23, 59, 59,
                                999999, kind == PGA_T_TIMESTAMPTZ ? st->utc : Py_None)
        : PyObject_CallFunction(st->InfiniteDatetime, "iiiiiiiO", 1, 1, 1, 0, 0, 0, 0,
                                kind == PGA_T_TIMESTAMPTZ ? st->utc : Py_None);
}

static PyObject *decode_scalar_raw(pgapy_state *st, int kind, const char *text, size_t len);

/* PostgreSQL's ranges are wider than Python's (years BC, '24:00:00', huge
 * intervals): such a value is a DataError about the data, like the other
 * values that cannot be decoded, not a bare ValueError from datetime. */
static PyObject *
decode_scalar(pgapy_state *st, int kind, const char *text, size_t len)
{
    PyObject *v = decode_scalar_raw(st, kind, text, len);

    if (v == NULL && kind != PGA_T_TEXT
        && (PyErr_ExceptionMatches(PyExc_ValueError)
            || PyErr_ExceptionMatches(PyExc_OverflowError))
        && !PyErr_ExceptionMatches(PyExc_UnicodeError)) {
        PyObject *type, *cause, *tb, *etype, *exc, *etb;

        PyErr_Fetch(&type, &cause, &tb);
        PyErr_NormalizeException(&type, &cause, &tb);
        if (tb != NULL && cause != NULL) {
            PyException_SetTraceback(cause, tb);
        }
        Py_XDECREF(type);
        Py_XDECREF(tb);
        decode_failed(st, kind, text, len);
        PyErr_Fetch(&etype, &exc, &etb);
        PyErr_NormalizeException(&etype, &exc, &etb);
        if (exc != NULL && cause != NULL) {
            PyException_SetCause(exc, cause);       /* steals cause */
        }
        else {
            Py_XDECREF(cause);
        }
        PyErr_Restore(etype, exc, etb);
    }
    return v;
}

static PyObject *
decode_scalar_raw(pgapy_state *st, int kind, const char *text, size_t len)
{
    pga_value v;
    PyObject *str, *r;

    if (kind == PGA_T_TEXT) {
        return PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, NULL);
    }
    memset(&v, 0, sizeof(v));
    if (pga_value_decode(kind, text, len, &v) != PGA_OK) {
        return decode_failed(st, kind, text, len);
    }
    switch (kind) {
    case PGA_T_BOOL:
        return PyBool_FromLong(v.i != 0);
    case PGA_T_INT:
        return PyLong_FromLongLong(v.i);
    case PGA_T_FLOAT:
        return PyFloat_FromDouble(v.f);
    case PGA_T_NUMERIC:
    case PGA_T_UUID:
    case PGA_T_JSON:
        str = PyUnicode_DecodeUTF8(v.s != NULL ? v.s : text,
                                   (Py_ssize_t)(v.s != NULL ? v.len : len), NULL);
        if (str == NULL) {
            return NULL;
        }
        r = PyObject_CallOneArg(kind == PGA_T_NUMERIC ? st->Decimal
                                : kind == PGA_T_UUID ? st->UUID : st->json_loads, str);
        Py_DECREF(str);
        return r;
    case PGA_T_BYTEA: {
        PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)v.len);
        int64_t n;

        if (bytes == NULL) {
            return NULL;
        }
        n = pga_bytea_decode(text, len, (unsigned char *)PyBytes_AS_STRING(bytes));
        if (n < 0) {
            Py_DECREF(bytes);
            return decode_failed(st, kind, text, len);
        }
        if ((size_t)n != v.len && _PyBytes_Resize(&bytes, (Py_ssize_t)n) < 0) {
            return NULL;
        }
        return bytes;
    }
    case PGA_T_DATE:
        if (v.infinity) {
            return infinite(st, kind, v.infinity);
        }
        return PyDate_FromDate(v.year, v.month, v.day);
    case PGA_T_TIME:
        return PyTime_FromTime(v.hour, v.minute, v.second, v.microsecond);
    case PGA_T_TIMETZ: {
        PyObject *tz = make_timezone(st, v.utc_offset);

        if (tz == NULL) {
            return NULL;
        }
        r = PyDateTimeAPI->Time_FromTime(v.hour, v.minute, v.second, v.microsecond, tz,
                                         PyDateTimeAPI->TimeType);
        Py_DECREF(tz);
        return r;
    }
    case PGA_T_TIMESTAMP:
        if (v.infinity) {
            return infinite(st, kind, v.infinity);
        }
        return PyDateTime_FromDateAndTime(v.year, v.month, v.day, v.hour, v.minute,
                                          v.second, v.microsecond);
    case PGA_T_TIMESTAMPTZ: {
        PyObject *tz;

        if (v.infinity) {
            return infinite(st, kind, v.infinity);
        }
        tz = make_timezone(st, v.utc_offset);
        if (tz == NULL) {
            return NULL;
        }
        r = PyDateTimeAPI->DateTime_FromDateAndTime(
            v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tz,
            PyDateTimeAPI->DateTimeType);
        Py_DECREF(tz);
        return r;
    }
    case PGA_T_INTERVAL: {
        /* Normalise into timedelta's ranges before the int casts. */
        int64_t days = v.days, secs = v.seconds, us = v.microseconds;

        int64_t time_us = v.seconds * 1000000 + v.microseconds;

        if (v.months != 0 || time_us < 0 || time_us >= INT64_C(86400000000)) {
            /* Fields a timedelta would merge (the core folds months in as
             * 30 days): pgatomic.Interval keeps them for the way back. */
            return PyObject_CallFunction(st->Interval, "LLL", (long long)v.months,
                                         (long long)(v.days - 30 * v.months),
                                         (long long)time_us);
        }

        secs += us / 1000000;
        us %= 1000000;
        if (us < 0) {
            us += 1000000;
            secs -= 1;
        }
        days += secs / 86400;
        secs %= 86400;
        if (secs < 0) {
            secs += 86400;
            days -= 1;
        }
        if (days > 999999999 || days < -999999999) {
            PyErr_SetString(PyExc_OverflowError, "interval out of timedelta's range");
            return NULL;
        }
        return PyDelta_FromDSU((int)days, (int)secs, (int)us);
    }
    default:
        return PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, NULL);
    }
}

static PyObject *
decode_array(pgapy_state *st, unsigned elem_oid, const char *text, size_t len)
{
    pga_array_reader r;
    PyObject *stack[MAX_ARRAY_DEPTH + 1];
    PyObject *result = NULL;
    int depth = 0, tok, elem_kind = pga_type_kind(elem_oid, NULL);
    const char *etext;
    size_t elen;

    pga_array_reader_init(&r, text, len);
    while ((tok = pga_array_next(&r, &etext, &elen)) > 0) {
        PyObject *item = NULL;

        if (tok == PGA_ARRAY_BEGIN) {
            PyObject *list;

            if (depth >= MAX_ARRAY_DEPTH || result != NULL) {
                goto malformed;
            }
            list = PyList_New(0);
            if (list == NULL) {
                goto fail;
            }
            if (depth > 0 && PyList_Append(stack[depth - 1], list) < 0) {
                Py_DECREF(list);
                goto fail;
            }
            if (depth > 0) {
                Py_DECREF(list);      /* the parent holds it */
            }
            stack[depth++] = list;
            continue;
        }
        if (depth == 0) {
            goto malformed;
        }
        if (tok == PGA_ARRAY_END) {
            depth--;
            if (depth == 0) {
                result = stack[0];
            }
            continue;
        }
        if (tok == PGA_ARRAY_NULL) {
            item = Py_NewRef(Py_None);
        }
        else {
            item = decode_scalar(st, elem_kind, etext, elen);
            if (item == NULL) {
                goto fail;
            }
        }
        if (PyList_Append(stack[depth - 1], item) < 0) {
            Py_DECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    if (tok < 0 || result == NULL) {
        if (tok == PGA_ENOMEM) {
            PyErr_NoMemory();
            goto fail;
        }
        goto malformed;
    }
    pga_array_reader_done(&r);
    return result;

malformed:
    decode_failed(st, PGA_T_ARRAY, text, len);
fail:
    pga_array_reader_done(&r);
    if (result != NULL) {
        Py_DECREF(result);
    }
    else if (depth > 0) {
        Py_DECREF(stack[0]);
    }
    return NULL;
}

PyObject *
pgapy_value_to_python(pgapy_state *st, int kind, unsigned elem_oid, const char *text,
                      size_t len)
{
    if (kind == PGA_T_ARRAY) {
        return decode_array(st, elem_oid, text, len);
    }
    return decode_scalar(st, kind, text, len);
}
