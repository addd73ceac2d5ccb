/* connection.c -- the Connection type: one pga_conn.  Each operation is a
 * start (convert arguments, queue the work: never waits), the driver in
 * wait.c, and a finish (take the outcome, hand hooks over, raise).  It
 * translates arguments and outcomes; which statement to send, and when, is
 * the core's business.  Keywords, defaults and aliases are resolved by
 * python/pgatomic. */
#include "module.h"

#include <libpq-fe.h>
#include <pythread.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* Every method starts here.  A connection belongs to the thread that made
 * it, as Django's do: the core allows one thread at a time, and a block
 * opened on one thread must not be entered from another. */
static int
guard(pgapy_Connection *self)
{
    unsigned long me = PyThread_get_thread_ident();
    PyObject *info;

    if (self->conn == NULL) {
        pgapy_raise(self->state, self, PGA_ECLOSED, NULL);
        return -1;
    }
    if (self->thread_ident == me || self->any_thread) {
        return 0;
    }
    info = Py_BuildValue("{s:k,s:k}", "owner_thread", self->thread_ident,
                         "current_thread", me);
    if (info == NULL) {
        return -1;
    }
    pgapy_raise_condition(self->state, "ETHREAD", info);
    Py_DECREF(info);
    return -1;
}

/* Take every hook the core has ready before running or destroying any:
 * a destructor may run Python code that uses this connection again.
 * Runnable ones go to self->hooks for python/pgatomic to run in order. */
static int
drain_hooks(pgapy_Connection *self)
{
    PyObject *dropped = NULL;
    pga_hook h;
    int kind, failed = 0;

    while ((kind = pga_hook_next(self->conn, &h)) > 0) {
        PyObject *data = (PyObject *)h.data;   /* a strong reference, now ours */
        PyObject *into = kind == PGA_HOOK_RUN ? self->hooks : NULL;

        if (into == NULL) {
            /* Made only when needed: every statement drains. */
            if (dropped == NULL) {
                dropped = PyList_New(0);
            }
            into = dropped;
        }
        if (into == NULL || PyList_Append(into, data) < 0) {
            failed = 1;
        }
        Py_XDECREF(data);
    }
    Py_XDECREF(dropped);
    return failed ? -1 : 0;
}

static void
hook_destroy(void *data)
{
    /* Called by pga_conn_free() from our dealloc, with the GIL held. */
    Py_XDECREF((PyObject *)data);
}

static const char *
sql_text(pgapy_state *st, PyObject *sql)
{
    Py_ssize_t len;
    const char *text;

    if (!PyUnicode_Check(sql)) {
        PyErr_Format(PyExc_TypeError, "the query must be a str, not %.100s",
                     Py_TYPE(sql)->tp_name);
        return NULL;
    }
    text = PyUnicode_AsUTF8AndSize(sql, &len);
    if (text == NULL) {
        return NULL;
    }
    if (strlen(text) != (size_t)len) {
        /* libpq reads the query as a C string: a NUL would silently cut it
         * short and run a different statement. */
        pgapy_raise_condition(st, "ESQLNUL", NULL);
        return NULL;
    }
    return text;
}

static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
    if (nargs < min || nargs > max) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd positional arguments (%zd given)",
                     name, min, max, nargs);
        return 0;
    }
    return 1;
}

/* PGA_EPARAMCOUNT with the counts the message needs. */
static int
raise_param_count(pgapy_Connection *self, const char *sql)
{
    PyObject *extra = Py_BuildValue("{s:i,s:i}", "placeholders",
                                    pga_sql_count_params(sql), "params",
                                    pga_params_count(self->params));

    if (extra != NULL) {
        pgapy_raise(self->state, self, PGA_EPARAMCOUNT, extra);
        Py_DECREF(extra);
    }
    return PGAPY_RAISED;
}

/* ------------------------------------------------------------------------
 * Operations: a start, a driver, a finish
 *
 * A network operation is begun by a start that never waits and ended by
 * op_finish(), which takes the outcome, hands hooks over and raises.  In
 * between runs a driver: wait.c's blocks with the GIL released; the
 * asyncio driver (python/pgatomic/_aio.py) steps from the event loop
 * through _step().  The connection remembers which operation is in
 * progress (self->op), so one finish serves both drivers.
 * ---------------------------------------------------------------------- */

/* Claim the connection for an operation of kind.  -1 (EBUSY raised) while
 * another is in progress: an asyncio task may try to start one while
 * another task's still waits. */
static int
op_begin(pgapy_Connection *self, int kind)
{
    if (self->op != PGAPY_OP_NONE) {
        pgapy_raise(self->state, self, PGA_EBUSY, NULL);
        return -1;
    }
    /* A stream its caller stopped reading (and still holds): the next
     * statement needs the connection, so the rest of the rows are read and
     * dropped, as the core's close does. */
    if (kind != PGAPY_OP_STREAM && self->conn != NULL && pga_stream_more(self->conn)
        && pgapy_stream_abandon(self) < 0) {
        return -1;
    }
    self->op = kind;
    self->op_rowcount = 0;
    return 0;
}

static void
op_clear(pgapy_Connection *self)
{
    self->op = PGAPY_OP_NONE;
    self->op_values = NULL;
    self->op_ctx = NULL;
    Py_CLEAR(self->op_items);
    Py_CLEAR(self->op_error);
    PyMem_Free(self->op_sql);
    self->op_sql = NULL;
}

/* One statement, start: convert the parameters and queue it.  Returns the
 * core's code, or PGAPY_RAISED. */
static void flight_settle(pgapy_Connection *self, PyObject *lost);

static int
statement_start(pgapy_Connection *self, const char *sql, PyObject *params)
{
    const pga_params *p;
    int rc;

    if (pgapy_params_from_python(self->state, self->params, params) < 0) {
        return PGAPY_RAISED;
    }
    p = params == Py_None ? NULL : self->params;
    if (pga_pipeline_must_sync(self->conn, sql, p)) {
        /* The connection's pipeline mode: a COMMIT, SAVEPOINT, ... given
         * as SQL acts once the queued statements have travelled; their
         * first failure is this call's. */
        rc = pgapy_drive(self, pga_pipeline_sync_start(self->conn));
        flight_settle(self, NULL);
        if (rc != PGA_OK) {
            return rc;
        }
    }
    rc = pga_query_start(self->conn, sql, p);
    if (rc == PGA_EPARAMCOUNT) {
        return raise_param_count(self, sql);
    }
    return rc;
}

/* Take and free a finished statement's results; the rows the last one
 * affected or returned (-1: none reported). */
static long long
drop_results(pgapy_Connection *self)
{
    pga_result *res;
    long long count = -1;

    while ((res = pga_conn_take_result(self->conn)) != NULL) {
        count = (long long)pga_result_rowcount(res);
        pga_result_free(res);
    }
    return count;
}

/* Statement index of the finished flight: its Result, or its own error
 * raised. */
static PyObject *
flight_outcome(pgapy_Connection *self, int index)
{
    pga_result *res = NULL;
    PyObject *out;
    int rc = pga_batch_outcome(self->conn, index, &res);

    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    if (res == NULL) {
        PyErr_SetString(PyExc_SystemError, "the core finished a statement without a result");
        return NULL;
    }
    out = pgapy_result_from(self->state, res, self->json_loads);
    pga_result_free(res);
    return out;
}

/* ------------------------------------------------------------------------
 * Pipelined transactions
 *
 * Connection.execute() in a pipelined transaction returns a result object
 * made by python/pgatomic/_pipeline.py (PipelinedResult) before its
 * statement has travelled.  Whichever call sends the flight (reading such
 * a result, a cursor's statement, executemany, the block's exit, close)
 * settles every pending one: its Result in _result, or its own error in
 * _error.
 * ---------------------------------------------------------------------- */

/* The exception being raised, normalised, as a new reference (it stays
 * raised); NULL when none is. */
static PyObject *
current_exception(void)
{
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XINCREF(value);
    PyErr_Restore(type, value, tb);
    return value;
}

static PyObject *flight_outcome(pgapy_Connection *self, int index);

/* Give every pending result of the flight that travelled its outcome;
 * one for which nothing was kept (a COMMIT that failed, a closed session)
 * gets lost (the exception that ended the flight), or the closed
 * connection's error.
 * An exception already raised stays raised. */
static void
flight_settle(pgapy_Connection *self, PyObject *lost)
{
    PyObject *pending = self->pl_pending, *type, *value, *tb;
    int size = pga_batch_size(self->conn);

    if (pending == NULL) {
        return;
    }
    self->pl_pending = NULL;
    PyErr_Fetch(&type, &value, &tb);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pending); i++) {
        PyObject *pair = PyList_GET_ITEM(pending, i);
        long index = PyLong_AsLong(PyTuple_GET_ITEM(pair, 0));
        PyObject *out = NULL, *err = NULL;

        if (index >= 0 && index < size) {
            out = flight_outcome(self, (int)index);
        }
        else if (lost != NULL) {
            err = Py_NewRef(lost);
        }
        else {
            /* Only a closed session loses a flight without an error. */
            pgapy_raise(self->state, self, PGA_ECLOSED, NULL);
        }
        if (out == NULL && err == NULL) {
            err = current_exception();
            PyErr_Clear();
        }
        if (PyObject_SetAttrString(PyTuple_GET_ITEM(pair, 1), out != NULL ? "_result" : "_error",
                                   out != NULL ? out : err) < 0) {
            PyErr_Clear();
        }
        Py_XDECREF(out);
        Py_XDECREF(err);
    }
    Py_DECREF(pending);
    PyErr_Restore(type, value, tb);
}

/* One statement, finish: raise, or build the Result.  lazy: a statement a
 * pipelined transaction queued gives its index in the flight (the Python
 * layer makes a result of it that is read when first touched); otherwise
 * (a cursor, executemany) the flight travels now, since the caller wants
 * the result. */
static PyObject *
statement_finish(pgapy_Connection *self, int rc, int lazy)
{
    int queued;

    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    queued = pga_pipeline_queued(self->conn);
    if (queued > 0) {
        if (lazy) {
            return PyLong_FromLong(queued - 1);
        }
        rc = pgapy_drive(self, pga_pipeline_sync_start(self->conn));
        /* Even when interrupted (Ctrl-C): the driver has ended the
         * operation by then, and the flight's results are kept or lost. */
        flight_settle(self, NULL);
        if (rc == PGAPY_RAISED) {
            return NULL;
        }
        return flight_outcome(self, queued - 1);
    }
    return pgapy_result_take(self->state, self->conn, self->json_loads);
}

/* executemany() inside a transaction: every statement in one round trip.
 * The core stops the statements after a failure (the block is broken), as
 * a loop would.  Outside a transaction each statement of a batch would be
 * its own transaction and a failure would not stop the later ones, so
 * there we loop instead: the first failure ends executemany(). */
static int
in_transaction(pgapy_Connection *self)
{
    return pga_atomic_depth(self->conn) > 0 || !pga_conn_get_autocommit(self->conn);
}

/* The parameters of one item: the item itself, or what values makes of it. */
static PyObject *
item_values(PyObject *item, pgapy_values_fn values, void *ctx)
{
    return values != NULL ? values(ctx, item) : Py_NewRef(item);
}

/* Adds one statement's count to the total; -1 once any reports none. */
static void
add_rowcount(long long *total, long long count)
{
    if (count < 0 || *total < 0) {
        *total = -1;
    }
    else {
        *total += count;
    }
}

/* The loop (PGAPY_OP_EACH): start the next item's statement.  1 when one
 * was started, 0 when no item is left, or a failure code. */
static int
each_start_next(pgapy_Connection *self)
{
    PyObject *item, *params;
    int rc;

    item = PyIter_Next(self->op_items);
    if (item == NULL) {
        Py_CLEAR(self->op_items);
        return PyErr_Occurred() ? PGAPY_RAISED : 0;
    }
    params = item_values(item, self->op_values, self->op_ctx);
    Py_DECREF(item);
    if (params == NULL) {
        return PGAPY_RAISED;
    }
    rc = statement_start(self, self->op_sql, params);
    Py_DECREF(params);
    return rc < 0 ? rc : 1;
}

int
pgapy_op_continue(pgapy_Connection *self)
{
    int rc = PGA_OK;

    while (rc == PGA_OK && self->op == PGAPY_OP_EACH && self->op_items != NULL) {
        add_rowcount(&self->op_rowcount, drop_results(self));
        rc = each_start_next(self);
        if (rc == 1) {
            rc = pga_conn_step(self->conn, 0);
        }
    }
    return rc;
}

/* The batch (PGAPY_OP_BATCH): every item's statement goes out as it is
 * added; a bad item stops the adding but what was added still runs (as it
 * would have in a loop), so its exception waits in op_error until the
 * batch is done.  first is the first item (a reference we take). */
static int
batch_start(pgapy_Connection *self, const char *sql, PyObject *first, PyObject *it)
{
    PyObject *item = first, *etype, *evalue, *etb;
    int rc = PGA_OK;

    if (pga_pipeline_queued(self->conn) > 0) {
        /* A pipelined transaction's flight goes first: a batch is a round
         * trip of its own that reports every statement. */
        rc = pgapy_drive(self, pga_pipeline_sync_start(self->conn));
        flight_settle(self, NULL);
    }
    if (rc == PGA_OK) {
        rc = pga_batch_begin(self->conn);
    }

    if (rc < 0) {
        Py_DECREF(item);
        return rc;
    }
    self->op = PGAPY_OP_BATCH;
    do {
        PyObject *params = item_values(item, self->op_values, self->op_ctx);

        Py_DECREF(item);
        if (params == NULL) {
            break;
        }
        rc = pgapy_params_from_python(self->state, self->params, params);
        Py_DECREF(params);
        if (rc < 0) {
            break;
        }
        rc = pga_batch_add(self->conn, sql, self->params);
        if (rc == PGA_EPARAMCOUNT) {
            raise_param_count(self, sql);
            break;
        }
        if (rc < 0) {
            pgapy_raise(self->state, self, rc, NULL);
            break;
        }
    } while ((item = PyIter_Next(it)) != NULL);
    PyErr_Fetch(&etype, &evalue, &etb);
    if (etype != NULL) {
        self->op_error = PyTuple_Pack(3, etype, evalue != NULL ? evalue : Py_None,
                                      etb != NULL ? etb : Py_None);
        Py_DECREF(etype);
        Py_XDECREF(evalue);
        Py_XDECREF(etb);
        if (self->op_error == NULL) {
            PyErr_Clear();      /* the batch still runs; only the news is lost */
        }
    }
    return pga_batch_send(self->conn);
}

/* executemany's start, once op_begin(PGAPY_OP_EACH) has claimed the
 * connection: a batch inside a transaction, else the loop.  With no item
 * nothing is sent at all, so nothing owed by a block goes out either. */
static int
many_start(pgapy_Connection *self, const char *sql, PyObject *it,
           pgapy_values_fn values, void *ctx)
{
    size_t len;
    int rc;

    self->op_values = values;
    self->op_ctx = ctx;
    if (in_transaction(self)) {
        PyObject *first = PyIter_Next(it);

        if (first == NULL) {
            return PyErr_Occurred() ? PGAPY_RAISED : PGA_OK;
        }
        return batch_start(self, sql, first, it);
    }
    /* The loop outlives this call under the asyncio driver: keep the text. */
    len = strlen(sql) + 1;
    self->op_sql = PyMem_Malloc(len);
    if (self->op_sql == NULL) {
        PyErr_NoMemory();
        return PGAPY_RAISED;
    }
    memcpy(self->op_sql, sql, len);
    self->op_items = Py_NewRef(it);
    rc = each_start_next(self);
    return rc == 1 ? PGA_OK : rc;
}

/* The finish of both: 0 with *rowcount set, or -1 with the exception
 * raised.  error is the batch's stashed exception (a reference we take). */
static int
many_finish(pgapy_Connection *self, int op, int rc, PyObject *error, long long *rowcount)
{
    if (op == PGAPY_OP_BATCH && rc != PGAPY_RAISED) {
        /* The first statement that failed is the news; the ones after it
         * report PGA_EBROKEN because of it. */
        int n = pga_batch_size(self->conn);

        *rowcount = 0;
        for (int i = 0; i < n; i++) {
            pga_result *res = NULL;
            int orc = pga_batch_outcome(self->conn, i, &res);

            if (orc < 0) {
                rc = orc;
                break;
            }
            add_rowcount(rowcount, res != NULL ? (long long)pga_result_rowcount(res) : -1);
            pga_result_free(res);
        }
    }
    if (rc < 0) {
        Py_XDECREF(error);
        pgapy_raise(self->state, self, rc, NULL);
        return -1;
    }
    if (error != NULL) {
        PyObject *value = PyTuple_GET_ITEM(error, 1), *tb = PyTuple_GET_ITEM(error, 2);

        PyErr_Restore(Py_NewRef(PyTuple_GET_ITEM(error, 0)),
                      value == Py_None ? NULL : Py_NewRef(value),
                      tb == Py_None ? NULL : Py_NewRef(tb));
        Py_DECREF(error);
        return -1;
    }
    return 0;
}

/* Finish of atomic exit, commit and rollback: hand the hooks over, then
 * report. */
static PyObject *
ending_finish(pgapy_Connection *self, int rc)
{
    if (self->pl_pending != NULL && rc == PGAPY_RAISED) {
        flight_settle(self, NULL);      /* interrupted: what was kept, or lost */
    }
    else if (self->pl_pending != NULL) {
        /* The exit sent the flight: its results first, those of a COMMIT
         * that failed getting that failure. */
        PyObject *lost = NULL;

        if (rc < 0) {
            if (drain_hooks(self) < 0) {
                PyErr_Clear();      /* the exit's failure is the news */
            }
            pgapy_raise(self->state, self, rc, NULL);
            lost = current_exception();
            PyErr_Clear();
        }
        flight_settle(self, lost);
        if (lost != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(lost), lost);
            Py_DECREF(lost);
            pgapy_forget_errors_if_idle(self);
            return NULL;
        }
    }
    if (drain_hooks(self) < 0 && rc >= 0) {
        pgapy_forget_errors_if_idle(self);
        return NULL;
    }
    if (rc < 0) {
        pgapy_raise(self->state, self, rc, NULL);
        pgapy_forget_errors_if_idle(self);
        return NULL;
    }
    pgapy_forget_errors_if_idle(self);
    Py_RETURN_NONE;
}

static PyObject *
connect_finish(pgapy_Connection *self, int rc)
{
    if (rc == PGAPY_RAISED) {
        /* A half-open session is useless: drop it, keep the interrupt. */
        pgapy_close_session(self);
        drain_hooks(self);
        return NULL;
    }
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

/* A stream's batch, finish: raise, or the batch as a Result (None once
 * closed: nothing to take). */
static PyObject *
stream_finish(pgapy_Connection *self, int rc)
{
    pga_result *res;
    PyObject *out;

    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    res = pga_conn_take_result(self->conn);
    if (res == NULL) {
        Py_RETURN_NONE;
    }
    out = pgapy_result_from(self->state, res, self->json_loads);
    pga_result_free(res);
    return out;
}

/* End the operation in progress, rc being the driver's final code: its
 * outcome (a Result for a statement, the rows affected in all for
 * executemany, also put in *rowcount if not NULL, else None), or NULL with
 * the exception raised.
 * PGAPY_RAISED means an exception is set already (Ctrl-C, a bad item);
 * the outcome is then dropped.  The connection is free again before any
 * Python code (a hook's destructor) can run. */
static PyObject *
op_finish(pgapy_Connection *self, int rc, long long *rowcount)
{
    int op = self->op;
    PyObject *error = self->op_error;     /* ours now */
    long long count = self->op_rowcount;

    self->op_error = NULL;
    op_clear(self);
    switch (op) {
    case PGAPY_OP_CONNECT:
        return connect_finish(self, rc);
    case PGAPY_OP_EXECUTE:
    case PGAPY_OP_EXECUTE_LAZY:
        /* A COMMIT or ROLLBACK given as SQL settled the hooks of the
         * transaction it ended: Connection.execute runs those handed over. */
        if (drain_hooks(self) < 0 && rc >= 0) {
            return NULL;
        }
        return statement_finish(self, rc, op == PGAPY_OP_EXECUTE_LAZY);
    case PGAPY_OP_SYNC:
        flight_settle(self, NULL);
        if (rc < 0) {
            return rc == PGAPY_RAISED ? NULL : pgapy_raise(self->state, self, rc, NULL);
        }
        Py_RETURN_NONE;
    case PGAPY_OP_EACH:
    case PGAPY_OP_BATCH:
        if (many_finish(self, op, rc, error, &count) < 0) {
            return NULL;
        }
        if (rowcount != NULL) {
            *rowcount = count;
        }
        return PyLong_FromLongLong(count);
    case PGAPY_OP_END:
        return ending_finish(self, rc);
    case PGAPY_OP_STREAM:
        return stream_finish(self, rc);
    default:
        Py_XDECREF(error);
        if (rc == PGAPY_RAISED) {
            return NULL;
        }
        PyErr_SetString(PyExc_SystemError, "pgatomic: no operation in progress");
        return NULL;
    }
}

/* The asyncio driver's side: a start returns what its first step asks for
 * (a PGA_WANT_* mask to wait for, or 0: call _finish(0) for the outcome);
 * a failure ends the operation at once and raises. */
static PyObject *
op_started(pgapy_Connection *self, int rc)
{
    if (rc == PGA_OK) {
        rc = pga_conn_step(self->conn, 0);
        if (rc == PGA_OK) {
            rc = pgapy_op_continue(self);
        }
    }
    if (rc < 0) {
        return op_finish(self, rc, NULL);
    }
    return PyLong_FromLong(rc);
}

/* For cursor.c, which runs its statements through these very paths. */
int
pgapy_conn_guard(pgapy_Connection *self)
{
    return guard(self);
}

const char *
pgapy_sql_text(pgapy_state *st, PyObject *sql)
{
    return sql_text(st, sql);
}

/* A stream's operation, start.  Returns the core's code, or PGAPY_RAISED. */
static int
stream_start(pgapy_Connection *self, int which, const char *sql, PyObject *params, int size)
{
    int rc;

    switch (which) {
    case PGAPY_STREAM_START:
        if (pgapy_params_from_python(self->state, self->params, params) < 0) {
            return PGAPY_RAISED;
        }
        rc = pga_stream_start(self->conn, sql, params == Py_None ? NULL : self->params, size);
        return rc == PGA_EPARAMCOUNT ? raise_param_count(self, sql) : rc;
    case PGAPY_STREAM_NEXT:
        return pga_stream_next_start(self->conn);
    default:
        return pga_stream_close_start(self->conn);
    }
}

PyObject *
pgapy_conn_stream_op(pgapy_Connection *self, int which, const char *sql, PyObject *params,
                     int size)
{
    if (guard(self) < 0) {
        return NULL;
    }
    /* A new stream ends the one its caller stopped reading, as any other
     * statement does (op_begin). */
    if (which == PGAPY_STREAM_START && self->op == PGAPY_OP_NONE && pga_stream_more(self->conn)
        && pgapy_stream_abandon(self) < 0) {
        return NULL;
    }
    if (op_begin(self, PGAPY_OP_STREAM) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, stream_start(self, which, sql, params, size)), NULL);
}

PyObject *
pgapy_conn_run(pgapy_Connection *self, const char *sql, PyObject *params)
{
    if (op_begin(self, PGAPY_OP_EXECUTE) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, statement_start(self, sql, params)), NULL);
}

int
pgapy_conn_run_many(pgapy_Connection *self, const char *sql, PyObject *it,
                    pgapy_values_fn values, void *ctx, long long *rowcount)
{
    PyObject *out;

    if (op_begin(self, PGAPY_OP_EACH) < 0) {
        return -1;
    }
    out = op_finish(self, pgapy_drive(self, many_start(self, sql, it, values, ctx)), rowcount);
    if (out == NULL) {
        return -1;
    }
    Py_DECREF(out);
    return 0;
}

/* ------------------------------------------------------------------------
 * Methods
 *
 * Each network operation has a blocking method (_execute) and an asyncio
 * twin (_execute_start) sharing its *_begin: the arguments, op_begin() and
 * the start.  A *_begin returns -1 when nothing began (exception set), else
 * 0 with *rc the start's code.
 * ---------------------------------------------------------------------- */

static int
connect_begin(pgapy_Connection *self, PyObject *dsn, int *rc)
{
    const char *conninfo = NULL;

    if (guard(self) < 0) {
        return -1;
    }
    if (dsn != Py_None) {
        if (!PyUnicode_Check(dsn)) {
            PyErr_Format(PyExc_TypeError, "dsn must be a str or None, not %.100s",
                         Py_TYPE(dsn)->tp_name);
            return -1;
        }
        conninfo = PyUnicode_AsUTF8(dsn);
        if (conninfo == NULL) {
            return -1;
        }
    }
    if (op_begin(self, PGAPY_OP_CONNECT) < 0) {
        return -1;
    }
    pgapy_cancel_lock_acquire(self);      /* connect_start frees the old cancel key */
    *rc = pga_conn_connect_start(self->conn, conninfo);
    pgapy_cancel_lock_release(self);
    return 0;
}

static PyObject *
conn_connect(pgapy_Connection *self, PyObject *dsn)
{
    int rc;

    if (connect_begin(self, dsn, &rc) < 0) {
        return NULL;
    }
    /* No cancel while connecting: there is no backend to cancel yet, and
     * an unreachable host could keep us waiting for the connect timeout. */
    return op_finish(self, pgapy_wait(self, rc, 0), NULL);
}

static PyObject *
conn_connect_start(pgapy_Connection *self, PyObject *dsn)
{
    int rc;

    if (connect_begin(self, dsn, &rc) < 0) {
        return NULL;
    }
    return op_started(self, rc);
}

/* close(): also what the asyncio driver does to give an operation up (its
 * task was cancelled while connecting, or the server answers neither the
 * statement nor the cancel): the operation is dropped with the session,
 * as on a lost connection, and a block in progress then leaves without
 * sending anything. */
static PyObject *
conn_close(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    if (guard(self) < 0) {
        return NULL;
    }
    op_clear(self);
    pgapy_stream_detach(self);
    pgapy_close_session(self);
    flight_settle(self, NULL);
    if (drain_hooks(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
execute_begin(pgapy_Connection *self, const char *name, PyObject *const *args,
              Py_ssize_t nargs, int *rc)
{
    const char *sql;

    if (!check_nargs(name, nargs, 1, 2) || guard(self) < 0) {
        return -1;
    }
    sql = sql_text(self->state, args[0]);
    if (sql == NULL || op_begin(self, PGAPY_OP_EXECUTE) < 0) {
        return -1;
    }
    *rc = statement_start(self, sql, nargs > 1 ? args[1] : Py_None);
    return 0;
}

static PyObject *
conn_execute(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    int rc;

    if (execute_begin(self, "_execute", args, nargs, &rc) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, rc), NULL);
}

/* One statement, lazily: in a pipelined transaction factory(self), a
 * result object settled (its _result or _error set) once the flight has
 * travelled; otherwise the statement's Result, read now. */
static PyObject *
run_lazy(pgapy_Connection *self, const char *sql, PyObject *params, PyObject *factory)
{
    PyObject *out, *index, *pair;

    if (op_begin(self, PGAPY_OP_EXECUTE_LAZY) < 0) {
        return NULL;
    }
    out = op_finish(self, pgapy_drive(self, statement_start(self, sql, params)), NULL);
    if (out == NULL || !PyLong_CheckExact(out)) {
        return out;
    }
    /* Queued: a result read when first touched. */
    index = out;
    out = PyObject_CallOneArg(factory, (PyObject *)self);
    if (out == NULL) {
        Py_DECREF(index);
        return NULL;
    }
    pair = PyTuple_Pack(2, index, out);
    Py_DECREF(index);
    if (pair == NULL || (self->pl_pending == NULL && (self->pl_pending = PyList_New(0)) == NULL)
        || PyList_Append(self->pl_pending, pair) < 0) {
        Py_XDECREF(pair);
        Py_DECREF(out);
        return NULL;
    }
    Py_DECREF(pair);
    return out;
}

PyObject *
pgapy_conn_run_lazy(pgapy_Connection *self, const char *sql, PyObject *params,
                    PyObject *factory)
{
    return run_lazy(self, sql, params, factory);
}

/* _execute_lazy(sql, params, factory): _execute, except that in a
 * pipelined transaction it returns factory(self) (run_lazy). */
static PyObject *
conn_execute_lazy(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *sql;

    if (!check_nargs("_execute_lazy", nargs, 3, 3) || guard(self) < 0
        || (sql = sql_text(self->state, args[0])) == NULL) {
        return NULL;
    }
    return run_lazy(self, sql, args[1], args[2]);
}

/* _pipeline_sync(): send the open flight and read it; raises its first
 * failure.  Its statements' outcomes are then _pipeline_outcome(i). */
static PyObject *
conn_pipeline_sync(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    if (guard(self) < 0 || op_begin(self, PGAPY_OP_SYNC) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, pga_pipeline_sync_start(self->conn)), NULL);
}

/* _pipeline_outcome(i): statement i of the flight that travelled last: its
 * Result, or its own error raised. */
static PyObject *
conn_pipeline_outcome(pgapy_Connection *self, PyObject *index)
{
    long i = PyLong_AsLong(index);

    if (i == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (i < 0 || i >= pga_batch_size(self->conn)) {
        return PyLong_FromLong(-1);     /* nothing kept for it (a failed COMMIT) */
    }
    return flight_outcome(self, (int)i);
}

static PyObject *
conn_pipeline_active(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(pga_pipeline_active(self->conn));
}

static PyObject *
conn_execute_start(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    int rc;

    if (execute_begin(self, "_execute_start", args, nargs, &rc) < 0) {
        return NULL;
    }
    return op_started(self, rc);
}

/* _stream(sql, params, size): a Stream over the statement's rows, its
 * first batch read.  _stream_start(sql, params, size), _stream_next_start()
 * and _stream_close_start() are the asyncio driver's: each batch is an
 * operation whose _finish() is the batch as a Result (None after close). */
static int
stream_args(pgapy_Connection *self, const char *name, PyObject *const *args, Py_ssize_t nargs,
            const char **sql, int *size)
{
    long n;

    if (!check_nargs(name, nargs, 3, 3) || guard(self) < 0) {
        return -1;
    }
    n = PyLong_AsLong(args[2]);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (n < 1 || n > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "size must be a positive number of rows");
        return -1;
    }
    *size = (int)n;
    *sql = sql_text(self->state, args[0]);
    return *sql == NULL ? -1 : 0;
}

static PyObject *
conn_stream(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *sql;
    int size;
    PyObject *first, *stream;

    if (stream_args(self, "_stream", args, nargs, &sql, &size) < 0) {
        return NULL;
    }
    first = pgapy_conn_stream_op(self, PGAPY_STREAM_START, sql, args[1], size);
    if (first == NULL) {
        return NULL;
    }
    stream = pgapy_stream_new(self, first);
    Py_DECREF(first);
    return stream;
}

static PyObject *
conn_stream_start(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *sql;
    int size;

    if (stream_args(self, "_stream_start", args, nargs, &sql, &size) < 0
        || op_begin(self, PGAPY_OP_STREAM) < 0) {
        return NULL;
    }
    return op_started(self, stream_start(self, PGAPY_STREAM_START, sql, args[1], size));
}

static PyObject *
stream_more_start(pgapy_Connection *self, int which)
{
    if (guard(self) < 0 || op_begin(self, PGAPY_OP_STREAM) < 0) {
        return NULL;
    }
    return op_started(self, stream_start(self, which, NULL, NULL, 0));
}

static PyObject *
conn_stream_next_start(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return stream_more_start(self, PGAPY_STREAM_NEXT);
}

static PyObject *
conn_stream_close_start(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return stream_more_start(self, PGAPY_STREAM_CLOSE);
}

/* _stream_more(): rows may follow on the open stream. */
static PyObject *
conn_stream_more(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(self->conn != NULL && pga_stream_more(self->conn));
}

static int
executemany_begin(pgapy_Connection *self, const char *name, PyObject *const *args,
                  Py_ssize_t nargs, int *rc)
{
    const char *sql;
    PyObject *it;

    if (!check_nargs(name, nargs, 2, 2) || guard(self) < 0) {
        return -1;
    }
    sql = sql_text(self->state, args[0]);
    if (sql == NULL) {
        return -1;
    }
    it = PyObject_GetIter(args[1]);
    if (it == NULL) {
        return -1;
    }
    if (op_begin(self, PGAPY_OP_EACH) < 0) {
        Py_DECREF(it);
        return -1;
    }
    *rc = many_start(self, sql, it, NULL, NULL);
    Py_DECREF(it);
    return 0;
}

static PyObject *
conn_executemany(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    int rc;

    if (executemany_begin(self, "_executemany", args, nargs, &rc) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, rc), NULL);
}

static PyObject *
conn_executemany_start(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    int rc;

    if (executemany_begin(self, "_executemany_start", args, nargs, &rc) < 0) {
        return NULL;
    }
    return op_started(self, rc);
}

static PyObject *
conn_atomic_enter(pgapy_Connection *self, PyObject *flags)
{
    unsigned long f;
    int rc;

    if (guard(self) < 0) {
        return NULL;
    }
    f = PyLong_AsUnsignedLong(flags);
    if (f == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    pgapy_forget_errors_if_idle(self);
    rc = pga_atomic_enter(self->conn, (unsigned)f);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

/* The three ways a block or a transaction ends, with hooks handed over by
 * the finish: which is END_EXIT (failed says the block raised),
 * END_COMMIT or END_ROLLBACK. */
enum { END_EXIT, END_COMMIT, END_ROLLBACK };

static int
ending_begin(pgapy_Connection *self, int which, PyObject *failed, int *rc)
{
    int f = 0;

    if (guard(self) < 0 || (failed != NULL && (f = PyObject_IsTrue(failed)) < 0)
        || op_begin(self, PGAPY_OP_END) < 0) {
        return -1;
    }
    *rc = which == END_EXIT ? pga_atomic_exit_start(self->conn, f)
          : which == END_COMMIT ? pga_commit_start(self->conn)
          : pga_rollback_start(self->conn);
    return 0;
}

static PyObject *
ending_run(pgapy_Connection *self, int which, PyObject *failed)
{
    int rc;

    if (ending_begin(self, which, failed, &rc) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, rc), NULL);
}

static PyObject *
ending_started(pgapy_Connection *self, int which, PyObject *failed)
{
    int rc;

    if (ending_begin(self, which, failed, &rc) < 0) {
        return NULL;
    }
    return op_started(self, rc);
}

static PyObject *
conn_atomic_exit(pgapy_Connection *self, PyObject *failed)
{
    return ending_run(self, END_EXIT, failed);
}

static PyObject *
conn_atomic_exit_start(pgapy_Connection *self, PyObject *failed)
{
    return ending_started(self, END_EXIT, failed);
}

static PyObject *
conn_commit(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return ending_run(self, END_COMMIT, NULL);
}

static PyObject *
conn_commit_start(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return ending_started(self, END_COMMIT, NULL);
}

static PyObject *
conn_rollback(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return ending_run(self, END_ROLLBACK, NULL);
}

static PyObject *
conn_rollback_start(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return ending_started(self, END_ROLLBACK, NULL);
}

/* _step(ready): the asyncio driver's next step, ready a PGA_READY_* mask
 * (0 allowed: readiness may be spurious).  Returns a PGA_WANT_* mask to
 * wait for, or 0: call _finish(0).  A failure ends the operation and
 * raises. */
static PyObject *
conn_step(pgapy_Connection *self, PyObject *ready)
{
    long mask = PyLong_AsLong(ready);
    int rc;

    if (mask == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->conn == NULL || self->op == PGAPY_OP_NONE) {
        /* Another task closed the connection under the operation. */
        return pgapy_raise(self->state, self, self->conn == NULL || !pga_conn_is_open(self->conn)
                                              ? PGA_ECLOSED : PGA_EMISUSE, NULL);
    }
    rc = pga_conn_step(self->conn, (int)(mask & (PGA_READY_READ | PGA_READY_WRITE)));
    if (rc == PGA_OK) {
        rc = pgapy_op_continue(self);
    }
    if (rc < 0) {
        return op_finish(self, rc, NULL);
    }
    return PyLong_FromLong(rc);
}

/* _finish(rc): the outcome of the operation whose last step returned rc
 * (0), as its blocking method returns it. */
static PyObject *
conn_finish(pgapy_Connection *self, PyObject *code)
{
    long rc = PyLong_AsLong(code);

    if (rc == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->op == PGAPY_OP_NONE) {
        return pgapy_raise(self->state, self, PGA_EMISUSE, NULL);
    }
    return op_finish(self, rc > 0 ? PGA_OK : (int)rc, NULL);
}

/* _socket(): the descriptor to watch; it may change while connecting, so
 * the driver reads it again after every step. */
static PyObject *
conn_socket(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_socket(self->conn) : -1);
}

/* _timeout_ms(): how long the driver may wait before stepping again even
 * if the socket shows nothing (the core's next deadline), -1 for none;
 * read again after every step. */
static PyObject *
conn_timeout_ms(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_timeout_ms(self->conn) : -1);
}

/* The gid argument of the two-phase calls, or NULL with TypeError. */
static const char *
gid_arg(PyObject *gid)
{
    if (!PyUnicode_Check(gid)) {
        PyErr_Format(PyExc_TypeError, "a transaction id must be a str, not %.100s",
                     Py_TYPE(gid)->tp_name);
        return NULL;
    }
    return PyUnicode_AsUTF8(gid);
}

/* A two-phase call on gid: start it, drive it, hand the hooks over. */
static PyObject *
gid_call(pgapy_Connection *self, PyObject *gid, int (*start)(pga_conn *, const char *))
{
    const char *id;

    if (guard(self) < 0 || (id = gid_arg(gid)) == NULL || op_begin(self, PGAPY_OP_END) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, start(self->conn, id)), NULL);
}

/* _prepare(gid): PREPARE TRANSACTION the transaction in hand; its hooks
 * wait in the core for _commit_prepared(gid) on this connection. */
static PyObject *
conn_prepare(pgapy_Connection *self, PyObject *gid)
{
    return gid_call(self, gid, pga_prepare_start);
}

/* _commit_prepared(gid), _rollback_prepared(gid): the hooks of a gid
 * prepared here become ready (_take_hooks()) or are dropped. */
static PyObject *
conn_commit_prepared(pgapy_Connection *self, PyObject *gid)
{
    return gid_call(self, gid, pga_commit_prepared_start);
}

static PyObject *
conn_rollback_prepared(pgapy_Connection *self, PyObject *gid)
{
    return gid_call(self, gid, pga_rollback_prepared_start);
}

/* _list_prepared(): a Result of gid, prepared, owner, database for the
 * prepared transactions of this database, oldest first. */
static PyObject *
conn_list_prepared(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    if (guard(self) < 0 || op_begin(self, PGAPY_OP_EXECUTE) < 0) {
        return NULL;
    }
    return op_finish(self, pgapy_drive(self, pga_prepared_list_start(self->conn)), NULL);
}

static PyObject *
conn_get_autocommit(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    if (guard(self) < 0) {
        return NULL;
    }
    return PyBool_FromLong(pga_conn_get_autocommit(self->conn));
}

static PyObject *
conn_set_autocommit(pgapy_Connection *self, PyObject *on)
{
    int flag, rc;

    if (guard(self) < 0) {
        return NULL;
    }
    flag = PyObject_IsTrue(on);
    if (flag < 0) {
        return NULL;
    }
    rc = pga_conn_set_autocommit(self->conn, flag);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_get_rollback(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    int rc;

    if (guard(self) < 0) {
        return NULL;
    }
    rc = pga_atomic_get_rollback(self->conn);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    return PyBool_FromLong(rc);
}

static PyObject *
conn_set_rollback(pgapy_Connection *self, PyObject *value)
{
    int flag, rc;

    if (guard(self) < 0) {
        return NULL;
    }
    flag = PyObject_IsTrue(value);
    if (flag < 0) {
        return NULL;
    }
    rc = pga_atomic_set_rollback(self->conn, flag);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

/* _savepoint(name=None): a deferred savepoint called name (Django's and
 * SQLAlchemy's names), or one the core names; returns the name, or None
 * outside a transaction. */
static PyObject *
conn_savepoint(pgapy_Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *name = NULL, *given = NULL;
    int rc;

    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "_savepoint() takes at most 1 argument (%zd given)", nargs);
        return NULL;
    }
    if (guard(self) < 0) {
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        if (!PyUnicode_Check(args[0])) {
            PyErr_Format(PyExc_TypeError, "a savepoint id must be a str, not %.100s",
                         Py_TYPE(args[0])->tp_name);
            return NULL;
        }
        given = PyUnicode_AsUTF8(args[0]);
        if (given == NULL) {
            return NULL;
        }
    }
    rc = pga_savepoint(self->conn, given, &name);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    if (name == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromString(name);
}

static PyObject *
savepoint_end(pgapy_Connection *self, PyObject *sid, int rollback)
{
    const char *name;
    int rc;

    if (guard(self) < 0) {
        return NULL;
    }
    if (!PyUnicode_Check(sid)) {
        PyErr_Format(PyExc_TypeError, "a savepoint id must be a str, not %.100s",
                     Py_TYPE(sid)->tp_name);
        return NULL;
    }
    name = PyUnicode_AsUTF8(sid);
    if (name == NULL) {
        return NULL;
    }
    rc = rollback ? pga_savepoint_rollback(self->conn, name)
                  : pga_savepoint_release(self->conn, name);
    /* Hooks registered under a savepoint rolled back to are dropped now. */
    if (drain_hooks(self) < 0 && rc >= 0) {
        return NULL;
    }
    if (rc < 0) {
        /* The message names the savepoint it is about. */
        PyObject *extra = Py_BuildValue("{s:O}", "savepoint", sid);

        if (extra != NULL) {
            pgapy_raise(self->state, self, rc, extra);
            Py_DECREF(extra);
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

/* _set_pipeline(on): the core's pipeline mode on the connection
 * (pga_conn_set_pipeline): the DB-API's conn.pipeline(). */
static PyObject *
conn_set_pipeline(pgapy_Connection *self, PyObject *on)
{
    int flag, rc;

    if (guard(self) < 0 || (flag = PyObject_IsTrue(on)) < 0) {
        return NULL;
    }
    rc = pga_conn_set_pipeline(self->conn, flag);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_get_pipeline(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(self->conn != NULL && pga_conn_get_pipeline(self->conn));
}

/* _set_sql_controls(on): the core's SQL control mode (pgatomic.h), for the
 * DB-API: BEGIN, SAVEPOINT, ... given to _execute() join the round-trip
 * plan and are answered with the server's tag. */
static PyObject *
conn_set_sql_controls(pgapy_Connection *self, PyObject *on)
{
    int flag, rc;

    if (guard(self) < 0 || (flag = PyObject_IsTrue(on)) < 0) {
        return NULL;
    }
    rc = pga_conn_set_sql_controls(self->conn, flag);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

/* _set_txn_options(flags): the modes of manual mode's implicit BEGIN, a
 * sum of the module's ISO_*, READ_ONLY, READ_WRITE, DEFERRABLE,
 * NOT_DEFERRABLE (0: the server's defaults): psycopg's isolation_level,
 * read_only and deferrable attributes. */
static PyObject *
conn_set_txn_options(pgapy_Connection *self, PyObject *flags)
{
    unsigned long modes;
    int rc;

    if (guard(self) < 0) {
        return NULL;
    }
    modes = PyLong_AsUnsignedLong(flags);
    if (modes == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    rc = pga_conn_set_txn_options(self->conn, (unsigned)modes);
    if (rc < 0) {
        return pgapy_raise(self->state, self, rc, NULL);
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_savepoint_commit(pgapy_Connection *self, PyObject *sid)
{
    return savepoint_end(self, sid, 0);
}

static PyObject *
conn_savepoint_rollback(pgapy_Connection *self, PyObject *sid)
{
    return savepoint_end(self, sid, 1);
}

static PyObject *
conn_hook_add(pgapy_Connection *self, PyObject *data)
{
    pga_hook h;
    int rc;

    if (guard(self) < 0) {
        return NULL;
    }
    h.run = NULL;
    h.data = Py_NewRef(data);
    h.destroy = hook_destroy;
    rc = pga_hook_add(self->conn, &h);
    if (rc == PGA_OK) {
        Py_RETURN_TRUE;         /* the core keeps our reference */
    }
    Py_DECREF(data);
    if (rc == PGA_HOOK_NOW) {
        Py_RETURN_FALSE;        /* no transaction: the caller runs it now */
    }
    return pgapy_raise(self->state, self, rc, NULL);
}

static PyObject *
conn_take_hooks(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    PyObject *fresh, *taken;

    if (guard(self) < 0) {
        return NULL;
    }
    fresh = PyList_New(0);
    if (fresh == NULL) {
        return NULL;
    }
    taken = self->hooks;
    self->hooks = fresh;
    return taken;
}

static PyObject *
conn_cancel(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    /* No thread guard: cancelling from another thread is the point. */
    return PyBool_FromLong(pgapy_cancel(self));
}

/* _set_timeout(ms) / _get_timeout(): the core's per-round-trip deadline;
 * python/pgatomic speaks seconds. */
static PyObject *
conn_set_timeout(pgapy_Connection *self, PyObject *arg)
{
    long ms = PyLong_AsLong(arg);

    if (ms == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->conn == NULL || ms > INT_MAX || pga_conn_set_timeout(self->conn, (int)ms) != PGA_OK) {
        PyErr_SetString(PyExc_ValueError, "timeout must be >= 0 milliseconds");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_get_timeout(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_get_timeout(self->conn) : 0);
}

/* _set_prepare_threshold(n) / _get_prepare_threshold() / _prepared_count():
 * the core's prepared statements (pgatomic.h "Prepared statements"): a
 * text is prepared at its n-th use, 0 never. */
static PyObject *
conn_set_prepare_threshold(pgapy_Connection *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);

    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->conn == NULL || n > INT_MAX || pga_conn_set_prepare_threshold(self->conn, (int)n) != PGA_OK) {
        PyErr_SetString(PyExc_ValueError, "prepare threshold must be >= 0");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_get_prepare_threshold(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_get_prepare_threshold(self->conn) : 0);
}

/* _set_busy_poll(us) / _get_busy_poll(): how long pga_conn_wait() may poll
 * the socket before it sleeps (pgatomic.h "Busy polling"); the poll runs
 * inside pgapy_wait()'s pga_conn_wait(), with the GIL released.
 * python/pgatomic checks the type; the core decides the range. */
static PyObject *
conn_set_busy_poll(pgapy_Connection *self, PyObject *arg)
{
    int overflow;
    long us = PyLong_AsLongAndOverflow(arg, &overflow);

    if (us == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow) {
        us = -1;            /* out of range as any other */
    }
    if (self->conn == NULL || us < 0 || us > INT_MAX
        || pga_conn_set_busy_poll(self->conn, (int)us) != PGA_OK) {
        PyErr_Format(PyExc_ValueError, "busy_poll_us must be between 0 and %d microseconds, not %R",
                     PGA_BUSY_POLL_MAX_US, arg);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
conn_get_busy_poll(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_get_busy_poll(self->conn) : 0);
}

static PyObject *
conn_prepared_count(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(self->conn != NULL ? pga_conn_prepared_count(self->conn) : 0);
}

/* _alive(): is the session still open?  The core reads what the server
 * sent while we were idle, so python/pgatomic can reopen an alias
 * connection the server closed instead of failing its next statement. */
static PyObject *
conn_alive(pgapy_Connection *self, PyObject *Py_UNUSED(unused))
{
    if (guard(self) < 0) {
        return NULL;
    }
    return PyBool_FromLong(pga_conn_probe(self->conn));
}

/* ------------------------------------------------------------------------
 * Properties
 * ---------------------------------------------------------------------- */

static PyObject *
conn_get_closed(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->conn == NULL || !pga_conn_is_open(self->conn));
}

static PyObject *
conn_get_in_atomic_block(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->conn != NULL && pga_atomic_depth(self->conn) > 0);
}

static PyObject *
conn_get_needs_rollback(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    if (self->conn == NULL || pga_atomic_depth(self->conn) == 0) {
        Py_RETURN_FALSE;
    }
    return PyBool_FromLong(pga_atomic_get_rollback(self->conn) > 0);
}

static PyObject *
conn_get_savepoint_ids(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    PyObject *list = PyList_New(0), *tuple;
    int depth = self->conn != NULL ? pga_atomic_depth(self->conn) : 0;

    if (list == NULL) {
        return NULL;
    }
    /* As Django's savepoint_ids: one entry per block inside the
     * transaction, None for a block without a savepoint. */
    for (int d = 1; d <= depth; d++) {
        const char *name = pga_atomic_savepoint_name(self->conn, d);
        PyObject *item;

        if (d == 1 && name == NULL) {
            continue;       /* the outermost block is the transaction */
        }
        item = name != NULL ? PyUnicode_FromString(name) : Py_NewRef(Py_None);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    tuple = PyList_AsTuple(list);
    Py_DECREF(list);
    return tuple;
}

static PyObject *
conn_get_autocommit_prop(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->conn != NULL && pga_conn_get_autocommit(self->conn));
}

static PyObject *
conn_get_round_trips(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLongLong(
        self->conn != NULL ? (unsigned long long)pga_conn_round_trips(self->conn) : 0);
}

static PyObject *
conn_get_txn_status(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    char s = self->conn != NULL ? pga_conn_txn_status(self->conn) : 'U';
    return PyUnicode_FromStringAndSize(&s, 1);
}

/* A parameter the server reports (ParameterStatus: TimeZone,
 * server_version, standard_conforming_strings, ...), as libpq last heard
 * it: no round trip.  None when it was not reported or no session is open. */
static PyObject *
conn_parameter_status(pgapy_Connection *self, PyObject *name)
{
    const char *key;
    const char *value = NULL;
    PGconn *pg;

    if (guard(self) < 0) {
        return NULL;
    }
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "parameter_status() takes the parameter's name, a str");
        return NULL;
    }
    key = PyUnicode_AsUTF8(name);
    if (key == NULL) {
        return NULL;
    }
    pg = pga_conn_is_open(self->conn) ? (PGconn *)pga_conn_pgconn(self->conn) : NULL;
    if (pg != NULL) {
        value = PQparameterStatus(pg, key);
    }
    if (value == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(value, (Py_ssize_t)strlen(value), "replace");
}

/* PostgreSQL's version as one number (150018 for 15.18), 0 without a
 * session; libpq learns it at connect. */
static PyObject *
conn_get_server_version(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    PGconn *pg = self->conn != NULL && pga_conn_is_open(self->conn)
                 ? (PGconn *)pga_conn_pgconn(self->conn) : NULL;
    return PyLong_FromLong(pg != NULL ? PQserverVersion(pg) : 0);
}

/* json_loads: what reads the text of json and jsonb columns (None:
 * json.loads).  SQLAlchemy's json_deserializer, or a function returning the
 * text itself for code that parses JSON on its own (Django's JSONField). */
static PyObject *
conn_get_json_loads(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->json_loads != NULL ? self->json_loads : Py_None);
}

static int
conn_set_json_loads(pgapy_Connection *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value != NULL && value != Py_None && !PyCallable_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "json_loads must be a callable or None");
        return -1;
    }
    Py_XSETREF(self->json_loads, value != NULL && value != Py_None ? Py_NewRef(value) : NULL);
    return 0;
}

/* _any_thread: a DB-API connection may be used from any thread, one at a
 * time, as connection pools hand it around (psycopg's rule); the others
 * belong to the thread that made them, as Django's do. */
static PyObject *
conn_get_any_thread(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->any_thread);
}

static int
conn_set_any_thread(pgapy_Connection *self, PyObject *value, void *Py_UNUSED(closure))
{
    int flag;

    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _any_thread");
        return -1;
    }
    flag = PyObject_IsTrue(value);
    if (flag < 0) {
        return -1;
    }
    self->any_thread = flag;
    return 0;
}

static PyObject *
conn_get_sql_controls(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->conn != NULL && pga_conn_get_sql_controls(self->conn));
}

static PyObject *
conn_get_txn_options(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->conn != NULL ? pga_conn_get_txn_options(self->conn) : 0);
}

static PyObject *
conn_get_atomic_depth(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->conn != NULL ? pga_atomic_depth(self->conn) : 0);
}

/* libpq's view of where we are connected: host, port, dbname, user.  The
 * password is never read. */
static PyObject *
conn_repr(pgapy_Connection *self)
{
    PGconn *pg = self->conn != NULL ? (PGconn *)pga_conn_pgconn(self->conn) : NULL;
    const char *state = (self->conn != NULL && pga_conn_is_open(self->conn))
                        ? "open" : "closed";

    if (pg == NULL) {
        return PyUnicode_FromFormat("<pgatomic.Connection %s>", state);
    }
    return PyUnicode_FromFormat("<pgatomic.Connection host=%s port=%s dbname=%s user=%s %s>",
                                PQhost(pg) ? PQhost(pg) : "",
                                PQport(pg) ? PQport(pg) : "",
                                PQdb(pg) ? PQdb(pg) : "",
                                PQuser(pg) ? PQuser(pg) : "", state);
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------- */

static PyObject *
conn_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwds))
{
    pgapy_Connection *self = (pgapy_Connection *)type->tp_alloc(type, 0);

    if (self == NULL) {
        return NULL;
    }
    self->state = pgapy_get_state_by_type(type);
    self->thread_ident = PyThread_get_thread_ident();
    self->hooks = PyList_New(0);
    self->cancel_lock = PyThread_allocate_lock();
    if (self->state == NULL || self->hooks == NULL || self->cancel_lock == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    if (pga_conn_new(&self->conn) != PGA_OK || pga_params_new(&self->params) != PGA_OK) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

struct hook_visit {
    visitproc visit;
    void *arg;
};

static int
visit_hook(void *data, void *arg)
{
    struct hook_visit *v = arg;

    return data != NULL ? v->visit((PyObject *)data, v->arg) : 0;
}

static int
conn_traverse(pgapy_Connection *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->hooks);
    Py_VISIT(self->last_error);
    Py_VISIT(self->json_loads);
    Py_VISIT(self->op_items);
    Py_VISIT(self->op_error);
    Py_VISIT(self->pl_pending);
    /* The core holds our on_commit data: a callable referring to this
     * connection makes a cycle the collector must see, or a connection
     * dropped inside a block would keep its session (and locks) forever.
     * Its finaliser then closes the session, dropping the hooks. */
    if (self->conn != NULL) {
        struct hook_visit v = {visit, arg};
        return pga_hook_visit(self->conn, visit_hook, &v);
    }
    return 0;
}

static int
conn_clear(pgapy_Connection *self)
{
    Py_CLEAR(self->hooks);
    Py_CLEAR(self->last_error);
    Py_CLEAR(self->json_loads);
    Py_CLEAR(self->op_items);
    Py_CLEAR(self->op_error);
    Py_CLEAR(self->pl_pending);
    return 0;
}

/* Close the session when the object goes away.  Never raises: an exception
 * in flight is kept, a failure is reported as unraisable. */
static void
conn_finalize(pgapy_Connection *self)
{
    PyObject *type, *value, *tb;

    if (self->conn == NULL) {
        return;
    }
    PyErr_Fetch(&type, &value, &tb);
    /* No cancel_lock: a cancel() in progress holds a reference, so none
     * can be running once the finaliser does. */
    pga_conn_close(self->conn);
    if (drain_hooks(self) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    PyErr_Restore(type, value, tb);
}

static void
conn_dealloc(pgapy_Connection *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0) {
        return;     /* resurrected */
    }
    PyObject_GC_UnTrack(self);
    conn_clear(self);
    op_clear(self);
    pga_conn_free(self->conn);      /* destroys kept hooks: needs the GIL */
    self->conn = NULL;
    pga_params_free(self->params);
    self->params = NULL;
    if (self->cancel_lock != NULL) {
        PyThread_free_lock(self->cancel_lock);
        self->cancel_lock = NULL;
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ------------------------------------------------------------------------
 * Tables, slots, spec
 * ---------------------------------------------------------------------- */

static PyMethodDef conn_methods[] = {
    {"_connect", (PyCFunction)conn_connect, METH_O, NULL},
    {"close", (PyCFunction)conn_close, METH_NOARGS,
     PyDoc_STR("Close the session; inside a block, leaving it sends nothing.")},
    {"_execute", (PyCFunction)(void (*)(void))conn_execute, METH_FASTCALL, NULL},
    {"_executemany", (PyCFunction)(void (*)(void))conn_executemany, METH_FASTCALL, NULL},
    {"_execute_lazy", (PyCFunction)(void (*)(void))conn_execute_lazy, METH_FASTCALL, NULL},
    {"_pipeline_sync", (PyCFunction)conn_pipeline_sync, METH_NOARGS, NULL},
    {"_pipeline_outcome", (PyCFunction)conn_pipeline_outcome, METH_O, NULL},
    {"_pipeline_active", (PyCFunction)conn_pipeline_active, METH_NOARGS, NULL},
    {"_atomic_enter", (PyCFunction)conn_atomic_enter, METH_O, NULL},
    {"_atomic_exit", (PyCFunction)conn_atomic_exit, METH_O, NULL},
    {"_commit", (PyCFunction)conn_commit, METH_NOARGS, NULL},
    {"_rollback", (PyCFunction)conn_rollback, METH_NOARGS, NULL},
    /* The asyncio driver's: start, step, finish (python/pgatomic/_aio.py). */
    {"_connect_start", (PyCFunction)conn_connect_start, METH_O, NULL},
    {"_execute_start", (PyCFunction)(void (*)(void))conn_execute_start, METH_FASTCALL, NULL},
    {"_executemany_start", (PyCFunction)(void (*)(void))conn_executemany_start,
     METH_FASTCALL, NULL},
    {"_atomic_exit_start", (PyCFunction)conn_atomic_exit_start, METH_O, NULL},
    {"_commit_start", (PyCFunction)conn_commit_start, METH_NOARGS, NULL},
    {"_rollback_start", (PyCFunction)conn_rollback_start, METH_NOARGS, NULL},
    {"_stream", (PyCFunction)(void (*)(void))conn_stream, METH_FASTCALL, NULL},
    {"_stream_start", (PyCFunction)(void (*)(void))conn_stream_start, METH_FASTCALL, NULL},
    {"_stream_next_start", (PyCFunction)conn_stream_next_start, METH_NOARGS, NULL},
    {"_stream_close_start", (PyCFunction)conn_stream_close_start, METH_NOARGS, NULL},
    {"_stream_more", (PyCFunction)conn_stream_more, METH_NOARGS, NULL},
    {"_step", (PyCFunction)conn_step, METH_O, NULL},
    {"_finish", (PyCFunction)conn_finish, METH_O, NULL},
    {"_socket", (PyCFunction)conn_socket, METH_NOARGS, NULL},
    {"_timeout_ms", (PyCFunction)conn_timeout_ms, METH_NOARGS, NULL},
    {"get_autocommit", (PyCFunction)conn_get_autocommit, METH_NOARGS,
     PyDoc_STR("True unless manual transaction management is on.")},
    {"set_autocommit", (PyCFunction)conn_set_autocommit, METH_O,
     PyDoc_STR("Turn autocommit on or off (not inside an atomic block).")},
    {"_get_rollback", (PyCFunction)conn_get_rollback, METH_NOARGS, NULL},
    {"_set_rollback", (PyCFunction)conn_set_rollback, METH_O, NULL},
    {"_savepoint", (PyCFunction)(void (*)(void))conn_savepoint, METH_FASTCALL, NULL},
    {"_set_sql_controls", (PyCFunction)conn_set_sql_controls, METH_O, NULL},
    {"_set_pipeline", (PyCFunction)conn_set_pipeline, METH_O, NULL},
    {"_get_pipeline", (PyCFunction)conn_get_pipeline, METH_NOARGS, NULL},
    {"_prepare", (PyCFunction)conn_prepare, METH_O, NULL},
    {"_commit_prepared", (PyCFunction)conn_commit_prepared, METH_O, NULL},
    {"_rollback_prepared", (PyCFunction)conn_rollback_prepared, METH_O, NULL},
    {"_list_prepared", (PyCFunction)conn_list_prepared, METH_NOARGS, NULL},
    {"_set_txn_options", (PyCFunction)conn_set_txn_options, METH_O, NULL},
    {"_savepoint_commit", (PyCFunction)conn_savepoint_commit, METH_O, NULL},
    {"_savepoint_rollback", (PyCFunction)conn_savepoint_rollback, METH_O, NULL},
    {"_hook_add", (PyCFunction)conn_hook_add, METH_O, NULL},
    {"_take_hooks", (PyCFunction)conn_take_hooks, METH_NOARGS, NULL},
    {"_alive", (PyCFunction)conn_alive, METH_NOARGS, NULL},
    {"parameter_status", (PyCFunction)conn_parameter_status, METH_O,
     PyDoc_STR("A parameter the server reported (TimeZone, ...), without a round trip.")},
    {"_set_timeout", (PyCFunction)conn_set_timeout, METH_O, NULL},
    {"_get_timeout", (PyCFunction)conn_get_timeout, METH_NOARGS, NULL},
    {"_set_prepare_threshold", (PyCFunction)conn_set_prepare_threshold, METH_O, NULL},
    {"_get_prepare_threshold", (PyCFunction)conn_get_prepare_threshold, METH_NOARGS, NULL},
    {"_prepared_count", (PyCFunction)conn_prepared_count, METH_NOARGS, NULL},
    {"_set_busy_poll", (PyCFunction)conn_set_busy_poll, METH_O, NULL},
    {"_get_busy_poll", (PyCFunction)conn_get_busy_poll, METH_NOARGS, NULL},
    {"cancel", (PyCFunction)conn_cancel, METH_NOARGS,
     PyDoc_STR("Ask the server to cancel the running statement (any thread).")},
    {NULL, NULL, 0, NULL},
};

static PyObject *
conn_get_hooks_ready(pgapy_Connection *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->hooks != NULL && PyList_GET_SIZE(self->hooks) > 0);
}

static PyGetSetDef conn_getset[] = {
    {"_hooks_ready", (getter)conn_get_hooks_ready, NULL, NULL, NULL},
    {"closed", (getter)conn_get_closed, NULL,
     PyDoc_STR("True when no healthy session is open."), NULL},
    {"in_atomic_block", (getter)conn_get_in_atomic_block, NULL,
     PyDoc_STR("True inside an atomic block."), NULL},
    {"needs_rollback", (getter)conn_get_needs_rollback, NULL,
     PyDoc_STR("The innermost block's rollback flag (False outside blocks)."), NULL},
    {"savepoint_ids", (getter)conn_get_savepoint_ids, NULL,
     PyDoc_STR("The savepoint names of the enclosing blocks."), NULL},
    {"autocommit", (getter)conn_get_autocommit_prop, NULL,
     PyDoc_STR("False in manual transaction management."), NULL},
    {"round_trips", (getter)conn_get_round_trips, NULL,
     PyDoc_STR("Protocol round trips since the session opened."), NULL},
    {"transaction_status", (getter)conn_get_txn_status, NULL,
     PyDoc_STR("libpq's transaction status: I, T, E, A or U."), NULL},
    {"server_version", (getter)conn_get_server_version, NULL,
     PyDoc_STR("PostgreSQL's version as a number (150018), 0 without a session."), NULL},
    {"sql_controls", (getter)conn_get_sql_controls, NULL,
     PyDoc_STR("True in the SQL control mode (_set_sql_controls)."), NULL},
    {"txn_options", (getter)conn_get_txn_options, NULL,
     PyDoc_STR("The modes of manual mode's implicit BEGIN (_set_txn_options)."), NULL},
    {"_any_thread", (getter)conn_get_any_thread, (setter)conn_set_any_thread, NULL, NULL},
    {"json_loads", (getter)conn_get_json_loads, (setter)conn_set_json_loads,
     PyDoc_STR("Reads the text of json and jsonb columns (None: json.loads)."), NULL},
    {"atomic_depth", (getter)conn_get_atomic_depth, NULL,
     PyDoc_STR("The number of active atomic blocks."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot conn_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("A PostgreSQL session with nested atomic blocks.")},
    {Py_tp_new, conn_new},
    {Py_tp_dealloc, conn_dealloc},
    {Py_tp_finalize, conn_finalize},
    {Py_tp_traverse, conn_traverse},
    {Py_tp_clear, conn_clear},
    {Py_tp_repr, conn_repr},
    {Py_tp_methods, conn_methods},
    {Py_tp_getset, conn_getset},
    {0, NULL},
};

static PyType_Spec conn_spec = {
    .name = "pgatomic._pgatomic.Connection",
    .basicsize = sizeof(pgapy_Connection),
    /* BASETYPE: pgatomic.Connection adds the keyword-friendly surface. */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = conn_slots,
};

int
pgapy_connection_setup_types(PyObject *module, pgapy_state *st)
{
    st->ConnectionType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &conn_spec, NULL);
    if (st->ConnectionType == NULL) {
        return -1;
    }
    return PyModule_AddType(module, st->ConnectionType);
}
