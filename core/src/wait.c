/* wait.c -- the blocking driver: poll() on the connection's socket between
 * steps, and the blocking twins built on it.  Nothing here decides. */
#include <errno.h>
#include <limits.h>
#include <poll.h>

#include "internal.h"

int pga__poll(int fd, int want, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = 0, .revents = 0};
    if (want & PGA_WANT_READ) {
        p.events |= POLLIN;
    }
    if (want & PGA_WANT_WRITE) {
        p.events |= POLLOUT;
    }
    int n;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR && timeout_ms < 0);
    if (n == 0 || (n < 0 && errno == EINTR)) {
        return 0;
    }
    if (n < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
        /* Let the step find out what went wrong from libpq itself. */
        return PGA_READY_READ | PGA_READY_WRITE;
    }
    return ((p.revents & POLLIN) ? PGA_READY_READ : 0) | ((p.revents & POLLOUT) ? PGA_READY_WRITE : 0);
}

/* How long the next poll may sleep: until the end of the caller's interval
 * (until, -1: none) or the operation's next deadline, whichever comes
 * first (*for_deadline: the deadline). */
static int sleep_ms(const pga_conn *conn, int64_t until, int *for_deadline)
{
    int wait_ms = -1;
    if (until >= 0) {
        int64_t left = until - pga__now_ms();
        wait_ms = left > 0 ? (left < INT_MAX ? (int)left : INT_MAX) : 0;
    }
    int deadline_ms = pga_conn_timeout_ms(conn);
    *for_deadline = deadline_ms >= 0 && (wait_ms < 0 || deadline_ms <= wait_ms);
    return *for_deadline ? deadline_ms : wait_ms;
}

/* Poll the socket without sleeping while the core says the answer may
 * still come within its budget (pgatomic.h "Busy polling"), never longer
 * than max_ms (-1: no limit).  Returns the readiness, 0: nothing came. */
static int busy_poll(pga_conn *conn, int want, int max_ms)
{
    if (max_ms == 0 || pga_conn_busy_poll_left(conn) == 0) {
        return 0;
    }
    int64_t stop = max_ms > 0 ? pga__now_ms() + max_ms : -1;
    int fd = pga_conn_socket(conn);
    do {
        int ready = pga__poll(fd, want, 0);
        if (ready != 0) {
            return ready;
        }
    } while (pga_conn_busy_poll_left(conn) > 0 && (stop < 0 || pga__now_ms() < stop));
    return 0;
}

int pga_conn_wait(pga_conn *conn, int interval_ms)
{
    int64_t until = interval_ms >= 0 ? pga__now_ms() + interval_ms : -1;
    int rc = pga_conn_step(conn, 0);
    while (rc > 0) {
        /* Wait for the socket, the operation's next deadline, or the end
         * of the caller's interval, whichever comes first.  The interval
         * bounds the whole call: a cancel request in flight makes the
         * core ask for a step every few milliseconds. */
        int for_deadline;
        int wait_ms = sleep_ms(conn, until, &for_deadline);
        int ready = busy_poll(conn, rc, wait_ms);
        if (ready == 0) {
            wait_ms = sleep_ms(conn, until, &for_deadline);
            ready = pga__poll(pga_conn_socket(conn), rc, wait_ms);
        }
        if (ready == 0 && !for_deadline) {
            break;          /* the interval ran out: the caller checks signals */
        }
        rc = pga_conn_step(conn, ready);
    }
    return rc;
}

static int drive(pga_conn *conn, int rc)
{
    while (rc == PGA_OK && conn->op != PGA__OP_NONE) {
        rc = pga_conn_wait(conn, -1);
        if (rc > 0) {
            rc = PGA_OK;
        }
    }
    return rc;
}

int pga_query(pga_conn *conn, const char *sql, const pga_params *params, pga_result **out)
{
    int rc = drive(conn, pga_query_start(conn, sql, params));
    if (rc == PGA_OK && out != NULL && conn->flight) {
        /* Pipelined: the caller wants the result, so the flight travels. */
        int index = pga_pipeline_queued(conn) - 1;
        rc = pga_pipeline_sync(conn);
        *out = NULL;
        if (rc == PGA_OK && pga_batch_outcome(conn, index, out) != PGA_OK) {
            rc = conn->err.rc;
        }
        return rc;
    }
    pga_result *res = pga_conn_take_result(conn);
    if (out != NULL) {
        *out = rc == PGA_OK ? res : NULL;
    }
    if (out == NULL || rc != PGA_OK) {
        pga_result_free(res);
    }
    return rc;
}

int pga_pipeline_sync(pga_conn *conn)
{
    return drive(conn, pga_pipeline_sync_start(conn));
}

int pga_atomic_exit(pga_conn *conn, int failed)
{
    return drive(conn, pga_atomic_exit_start(conn, failed));
}

int pga_prepare(pga_conn *conn, const char *gid)
{
    return drive(conn, pga_prepare_start(conn, gid));
}

int pga_commit_prepared(pga_conn *conn, const char *gid)
{
    return drive(conn, pga_commit_prepared_start(conn, gid));
}

int pga_rollback_prepared(pga_conn *conn, const char *gid)
{
    return drive(conn, pga_rollback_prepared_start(conn, gid));
}

int pga_prepared_list(pga_conn *conn, pga_result **out)
{
    int rc = drive(conn, pga_prepared_list_start(conn));
    *out = rc == PGA_OK ? pga_conn_take_result(conn) : NULL;
    return rc;
}

int pga_commit(pga_conn *conn)
{
    return drive(conn, pga_commit_start(conn));
}

int pga_rollback(pga_conn *conn)
{
    return drive(conn, pga_rollback_start(conn));
}

int pga_stream(pga_conn *conn, const char *sql, const pga_params *params, int max_rows,
               pga_result **out)
{
    int rc = drive(conn, pga_stream_start(conn, sql, params, max_rows));
    *out = rc == PGA_OK ? pga_conn_take_result(conn) : NULL;
    return rc == PGA_OK && *out == NULL ? PGA_ENOMEM : rc;
}

int pga_stream_next(pga_conn *conn, pga_result **out)
{
    int rc = drive(conn, pga_stream_next_start(conn));
    *out = rc == PGA_OK ? pga_conn_take_result(conn) : NULL;
    return rc == PGA_OK && *out == NULL ? PGA_ENOMEM : rc;
}

int pga_stream_close(pga_conn *conn)
{
    return drive(conn, pga_stream_close_start(conn));
}
