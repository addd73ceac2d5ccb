/* stream.c -- the Stream type: Connection.stream()'s iterator over one
 * statement's rows, read from the core a batch at a time (pga_stream_*),
 * so at most one batch of rows is held whatever the result's size.  Each
 * batch is a network operation of the connection (connection.c), run with
 * the GIL released while it waits; the rows themselves are handed out
 * from the batch's list without a Python-level call. */
#include "module.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    pgapy_Connection *conn;   /* while rows may follow: the connection it reads */
    PyObject *rows;           /* the batch being handed out (list of tuples) */
    Py_ssize_t pos;
    PyObject *columns;        /* list of str */
    PyObject *status;         /* the command tag once the statement ended, else None */
    long long rowcount;       /* ... and its row count, else -1 */
    const char *abandoned;    /* why it stopped before its end, raised once */
} pgapy_Stream;

/* The stream no longer reads: forget the connection. */
static void
stream_end(pgapy_Stream *self)
{
    pgapy_Connection *conn = self->conn;

    if (conn == NULL) {
        return;
    }
    if (conn->stream == (PyObject *)self) {
        conn->stream = NULL;
    }
    self->conn = NULL;
    Py_DECREF(conn);
}

/* Take over a batch: its rows, and at the end the statement's tag. */
static void
stream_take(pgapy_Stream *self, PyObject *batch)
{
    Py_XSETREF(self->rows, Py_NewRef(pgapy_result_rows(batch)));
    self->pos = 0;
    if (self->conn != NULL && !pga_stream_more(self->conn->conn)) {
        Py_XSETREF(self->status, Py_NewRef(pgapy_result_status(batch)));
        self->rowcount = pgapy_result_rowcount(batch);
        stream_end(self);
    }
}

PyObject *
pgapy_stream_new(pgapy_Connection *conn, PyObject *first)
{
    pgapy_Stream *self = PyObject_GC_New(pgapy_Stream, conn->state->StreamType);

    if (self == NULL) {
        return NULL;
    }
    self->conn = (pgapy_Connection *)Py_NewRef(conn);
    self->rows = NULL;
    self->pos = 0;
    self->columns = Py_NewRef(pgapy_result_columns(first));
    self->status = Py_NewRef(Py_None);
    self->rowcount = -1;
    self->abandoned = NULL;
    conn->stream = (PyObject *)self;
    stream_take(self, first);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyObject *
stream_iternext(pgapy_Stream *self)
{
    for (;;) {
        PyObject *batch;

        if (self->rows != NULL && self->pos < PyList_GET_SIZE(self->rows)) {
            return Py_NewRef(PyList_GET_ITEM(self->rows, self->pos++));
        }
        Py_CLEAR(self->rows);
        if (self->abandoned != NULL) {
            PyErr_SetString(PyExc_RuntimeError, self->abandoned);
            self->abandoned = NULL;
            return NULL;
        }
        if (self->conn == NULL) {
            return NULL;        /* StopIteration */
        }
        batch = pgapy_conn_stream_op(self->conn, PGAPY_STREAM_NEXT, NULL, NULL, 0);
        if (batch == NULL) {
            /* A failure ends the stream; Ctrl-C leaves it to close(). */
            if (!pga_stream_more(self->conn->conn)) {
                stream_end(self);
            }
            return NULL;
        }
        stream_take(self, batch);
        Py_DECREF(batch);
    }
}

/* close(): stop reading; the rows left are read and dropped, so the
 * statement completes as it would have and the connection is free.  An
 * error in those rows is raised here. */
static PyObject *
stream_close(pgapy_Stream *self, PyObject *Py_UNUSED(unused))
{
    PyObject *out;

    Py_CLEAR(self->rows);
    if (self->conn == NULL) {
        Py_RETURN_NONE;
    }
    out = pgapy_conn_stream_op(self->conn, PGAPY_STREAM_CLOSE, NULL, NULL, 0);
    if (out == NULL && pga_stream_more(self->conn->conn)) {
        return NULL;            /* Ctrl-C: still open, close() again */
    }
    stream_end(self);
    if (out == NULL) {
        return NULL;
    }
    Py_DECREF(out);
    Py_RETURN_NONE;
}

int
pgapy_stream_abandon(pgapy_Connection *conn)
{
    pgapy_Stream *self = (pgapy_Stream *)conn->stream;
    PyObject *out;

    Py_XINCREF(self);
    out = pgapy_conn_stream_op(conn, PGAPY_STREAM_CLOSE, NULL, NULL, 0);
    if (out == NULL && pga_stream_more(conn->conn)) {
        Py_XDECREF(self);
        return -1;
    }
    if (out == NULL) {
        PyErr_Clear();          /* inside a block the core keeps it as the cause */
    }
    Py_XDECREF(out);
    if (self != NULL) {
        Py_CLEAR(self->rows);
        self->abandoned = "the stream was closed: another statement ran on its connection "
                          "(the rows left were read and dropped)";
        stream_end(self);
        Py_DECREF(self);
    }
    return 0;
}

void
pgapy_stream_detach(pgapy_Connection *conn)
{
    pgapy_Stream *self = (pgapy_Stream *)conn->stream;

    if (self != NULL) {
        Py_CLEAR(self->rows);
        self->abandoned = "the stream was closed with its connection";
        stream_end(self);
    }
}

static PyObject *
stream_enter(PyObject *self, PyObject *Py_UNUSED(unused))
{
    return Py_NewRef(self);
}

static PyObject *
stream_exit(pgapy_Stream *self, PyObject *Py_UNUSED(args))
{
    PyObject *out = stream_close(self, NULL);

    if (out == NULL) {
        return NULL;
    }
    Py_DECREF(out);
    Py_RETURN_FALSE;
}

static PyObject *
stream_get_closed(pgapy_Stream *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->conn == NULL && self->rows == NULL);
}

static int
stream_traverse(pgapy_Stream *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->conn);
    Py_VISIT(self->rows);
    Py_VISIT(self->columns);
    Py_VISIT(self->status);
    return 0;
}

static int
stream_clear(pgapy_Stream *self)
{
    stream_end(self);
    Py_CLEAR(self->rows);
    Py_CLEAR(self->columns);
    Py_CLEAR(self->status);
    return 0;
}

/* A stream dropped unfinished (a loop left with break): the rest is read
 * and dropped now, so the connection is free for the next statement.  Only
 * where the connection may be used: its thread, no operation running;
 * otherwise its next statement does it (connection.c op_begin). */
static void
stream_finalize(pgapy_Stream *self)
{
    PyObject *type, *value, *tb;
    pgapy_Connection *conn = self->conn;

    if (conn == NULL || conn->op != PGAPY_OP_NONE || conn->conn == NULL
        || (conn->thread_ident != PyThread_get_thread_ident() && !conn->any_thread)) {
        return;
    }
    PyErr_Fetch(&type, &value, &tb);
    if (pgapy_stream_abandon(conn) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    PyErr_Restore(type, value, tb);
}

static void
stream_dealloc(pgapy_Stream *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0) {
        return;
    }
    PyObject_GC_UnTrack(self);
    stream_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
stream_new_forbidden(PyTypeObject *Py_UNUSED(type), PyObject *Py_UNUSED(args),
                     PyObject *Py_UNUSED(kw))
{
    PyErr_SetString(PyExc_TypeError, "Stream objects are made by Connection.stream()");
    return NULL;
}

static PyMethodDef stream_methods[] = {
    {"close", (PyCFunction)stream_close, METH_NOARGS,
     PyDoc_STR("Stop reading: the rows left are read and dropped (never cancelled).")},
    {"__enter__", (PyCFunction)stream_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)stream_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef stream_members[] = {
    {"columns", T_OBJECT, offsetof(pgapy_Stream, columns), READONLY,
     PyDoc_STR("The column names.")},
    {"status", T_OBJECT, offsetof(pgapy_Stream, status), READONLY,
     PyDoc_STR("The command tag once every row was read ('SELECT 10'), else None.")},
    {"rowcount", T_LONGLONG, offsetof(pgapy_Stream, rowcount), READONLY,
     PyDoc_STR("The rows the statement returned or affected once every row was read, "
               "else -1.")},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef stream_getset[] = {
    {"closed", (getter)stream_get_closed, NULL,
     PyDoc_STR("True once no row is left to hand out."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("The rows of one statement, read a batch at a time.")},
    {Py_tp_new, stream_new_forbidden},
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_finalize, stream_finalize},
    {Py_tp_traverse, stream_traverse},
    {Py_tp_clear, stream_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, stream_iternext},
    {Py_tp_methods, stream_methods},
    {Py_tp_members, stream_members},
    {Py_tp_getset, stream_getset},
    {0, NULL},
};

static PyType_Spec stream_spec = {
    .name = "pgatomic.Stream",
    .basicsize = sizeof(pgapy_Stream),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = stream_slots,
};

int
pgapy_stream_setup_types(PyObject *module, pgapy_state *st)
{
    st->StreamType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &stream_spec, NULL);
    if (st->StreamType == NULL) {
        return -1;
    }
    return PyModule_AddType(module, st->StreamType);
}
