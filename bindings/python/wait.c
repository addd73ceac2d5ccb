/* wait.c -- the blocking driver: runs an operation a *_start call queued
 * until it ends, with the GIL released around every network wait, and the
 * cancel lock that lets another thread cancel it.  Which operation to start
 * and what its outcome means is connection.c's business; a second driver
 * (asyncio) replaces this file's loop, not the operations. */
#include "module.h"

/* How long Ctrl-C waits for the server to end a cancelled statement. */
#define PGAPY_CANCEL_WAIT_MS 2000

/* Signals are checked between intervals; on Ctrl-C (cancel set) the
 * statement is cancelled and we wait for the server to end it, so the
 * block stack stays in step with the server.  A negative rc (the start
 * call failed, or PGAPY_RAISED) is passed through untouched. */
int
pgapy_wait(pgapy_Connection *self, int rc, int cancel)
{
    if (rc < 0) {
        return rc;
    }
    do {
        Py_BEGIN_ALLOW_THREADS
        rc = pga_conn_wait(self->conn, PGAPY_SIGNAL_CHECK_MS);
        Py_END_ALLOW_THREADS
        if (rc == PGA_OK) {
            rc = pgapy_op_continue(self);
        }
    } while (rc > 0 && PyErr_CheckSignals() == 0);
    if (rc <= 0) {
        return rc;
    }
    if (!cancel) {
        return PGAPY_RAISED;        /* the caller abandons the operation */
    }
    /* KeyboardInterrupt (or the handler's exception) is set; the outcome of
     * the cancelled operation is dropped in its favour. */
    Py_BEGIN_ALLOW_THREADS
    pga_conn_cancel(self->conn);
    rc = pga_conn_wait(self->conn, PGAPY_CANCEL_WAIT_MS);
    Py_END_ALLOW_THREADS
    if (rc > 0) {
        /* A server that answers neither the statement nor the cancel (a
         * hung host): Ctrl-C must not hang too.  The session is closed; a
         * block in progress then fails as on any lost connection. */
        pgapy_close_session(self);
    }
    return PGAPY_RAISED;
}

int
pgapy_drive(pgapy_Connection *self, int rc)
{
    return pgapy_wait(self, rc, 1);
}

/* The owner's side of cancel_lock, taken without the GIL so a cancel()
 * waiting for the network never holds up other threads. */
void
pgapy_cancel_lock_acquire(pgapy_Connection *self)
{
    if (self->cancel_lock == NULL) {
        return;
    }
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->cancel_lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}

void
pgapy_cancel_lock_release(pgapy_Connection *self)
{
    if (self->cancel_lock != NULL) {
        PyThread_release_lock(self->cancel_lock);
    }
}

/* pga_conn_close() frees the cancel key: never while cancel() reads it. */
void
pgapy_close_session(pgapy_Connection *self)
{
    pgapy_cancel_lock_acquire(self);
    pga_conn_close(self->conn);
    pgapy_cancel_lock_release(self);
}

/* Any thread: the core reads only data fixed at connect time, and
 * cancel_lock keeps the owner from freeing it meanwhile.  The caller holds
 * a reference to self, so dealloc cannot run under us.  It never waits:
 * the core's cancel does not, and the lock is held only while the owner
 * closes or reopens the session, when there is no statement to cancel. */
int
pgapy_cancel(pgapy_Connection *self)
{
    int rc;

    if (self->conn == NULL || self->cancel_lock == NULL) {
        return 0;
    }
    if (!PyThread_acquire_lock(self->cancel_lock, NOWAIT_LOCK)) {
        return 0;
    }
    rc = pga_conn_cancel(self->conn);
    PyThread_release_lock(self->cancel_lock);
    return rc == PGA_OK;
}
