/* cancel.c -- cancel requests that never wait: a socket of our own to the
 * server, the 16-byte CancelRequest, and a bounded time to deliver it.
 * When to cancel (a deadline, a caller) is step.c's and the bindings'. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "internal.h"

/* How long a request may take to reach the server before it is dropped. */
#define PGA__CANCEL_SEND_MS 2000

/* How long pga_conn_free(), or a statement started after a cancel
 * (pga__cancel_settle()), waits, counted from when a request was written,
 * for the server (or pooler) to close the request's socket. */
#define PGA__CANCEL_FREE_WAIT_MS 500

/* libpq 15 offers only the blocking PQcancel(), which connects to the
 * server and then waits for it to close: forever, when the server hangs.
 * The key it sends is not public, but PGcancel opens with the server's
 * address, the backend's pid and that key (libpq-int.h, unchanged from
 * libpq 10 to 16).  The pid in it must match PQbackendPID(), or the layout
 * is not the one we know and the core falls back to PQcancel(). */
typedef struct pga__pgcancel_head {
    struct {
        struct sockaddr_storage addr;
        socklen_t addrlen;
    } raddr;              /* libpq's SockAddr, padded as a struct of its own */
    int be_pid;
    int be_key;
} pga__pgcancel_head;

void pga__cancel_key_capture(pga_conn *conn)
{
    pga__cancel_key *k = &conn->cancel_key;
    memset(k, 0, sizeof(*k));
    int version = PQlibVersion() / 10000;
    if (conn->cancel == NULL || version < 10 || version > 16) {
        return;
    }
    const pga__pgcancel_head *head = (const pga__pgcancel_head *)(const void *)conn->cancel;
    k->addrlen = sizeof(k->addr);
    if (head->be_pid != PQbackendPID(conn->pg) || head->be_pid == 0
        || getpeername(PQsocket(conn->pg), (struct sockaddr *)&k->addr, &k->addrlen) != 0
        || k->addr.ss_family != head->raddr.addr.ss_family) {
        memset(k, 0, sizeof(*k));
        return;
    }
    k->pid = head->be_pid;
    k->key = head->be_key;
    k->known = 1;
}

/* Open a non-blocking socket to the server; returns the descriptor (its
 * connect may still be in progress) or -1. */
static int open_request(const pga__cancel_key *k, int *connected)
{
    int fd = socket(k->addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        close(fd);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&k->addr, k->addrlen) == 0) {
        *connected = 1;
        return fd;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        *connected = 0;
        return fd;
    }
    close(fd);
    return -1;
}

/* A request in flight lives in conn->cancel_slot as fd * 2 + written, so
 * that the thread that starts it and the owner's steps that finish it
 * share one atomic word: -1 when none.  While one is in flight, further
 * cancels add nothing: a caller cancelling in a loop cannot flood the
 * server's listen queue (PQcancel() held each caller until the server had
 * read the request; we hold the socket instead, until the server closes
 * it or PGA__CANCEL_SEND_MS pass). */
static int write_request(int fd, const pga__cancel_key *k)
{
    uint32_t packet[4] = {htonl(16), htonl(80877102), htonl((uint32_t)k->pid),
                          htonl((uint32_t)k->key)};
    ssize_t n;
    do {
        n = send(fd, packet, sizeof(packet), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(packet) ? PGA_OK : PGA_ECONN;
}

/* The owner's steps only.  cancel_seen is forgotten with the request: the
 * next one may get the same descriptor, so the same slot value, and must
 * not inherit this one's deadline. */
static void finish_request(pga_conn *conn, int slot)
{
    int expected = slot;
    if (atomic_compare_exchange_strong(&conn->cancel_slot, &expected, -1)) {
        close(slot >> 1);
        conn->cancel_seen = -1;
    }
}

static void step_draining(pga_conn *conn);

/* Advance the request in flight without waiting: connect, write, then
 * wait for the server to close (it has read the request), or give up. */
void pga__cancel_step(pga_conn *conn)
{
    step_draining(conn);
    int slot = atomic_load(&conn->cancel_slot);
    if (slot < 0) {
        return;
    }
    if (slot != conn->cancel_seen) {
        conn->cancel_seen = slot;
        conn->cancel_deadline = pga__now_ms() + PGA__CANCEL_SEND_MS;
    }
    int fd = slot >> 1, written = slot & 1;
    struct pollfd p = {.fd = fd, .events = written ? POLLIN : POLLOUT, .revents = 0};
    if (poll(&p, 1, 0) > 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (written || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0
            || write_request(fd, &conn->cancel_key) != PGA_OK) {
            finish_request(conn, slot);
            return;
        }
        int expected = slot;
        atomic_compare_exchange_strong(&conn->cancel_slot, &expected, slot | 1);
        return;
    }
    if (pga__now_ms() >= conn->cancel_deadline) {
        finish_request(conn, slot);
    }
}

/* The session is being left while its request is in flight.  Closing the
 * request's socket before the server has read it is what PgBouncer 1.18
 * does not survive (it frees the cancelling client while the cancel is
 * still being forwarded, then crashes: "bad client state", its issue
 * #801), so a request already written is kept, in draining, until the
 * server closes it or its 2 s pass; one still connecting has sent nothing
 * and is closed. */
void pga__cancel_abandon(pga_conn *conn)
{
    int slot = atomic_exchange(&conn->cancel_slot, -1);
    int seen = conn->cancel_seen == slot;
    conn->cancel_seen = -1;
    if (slot < 0) {
        return;
    }
    if (!(slot & 1)) {
        close(slot >> 1);
        return;
    }
    int oldest = 0;
    for (int i = 0; i < 4; i++) {
        if (conn->draining[i] < 0) {
            oldest = i;
            break;
        }
        if (conn->draining_sent[i] < conn->draining_sent[oldest]) {
            oldest = i;
        }
    }
    if (conn->draining[oldest] >= 0) {
        close(conn->draining[oldest]);
    }
    conn->draining[oldest] = slot >> 1;
    /* Written by another thread since the owner last stepped: just now. */
    conn->draining_sent[oldest] = seen ? conn->cancel_deadline - PGA__CANCEL_SEND_MS
                                       : pga__now_ms();
}

/* Reap drained requests: the server closed them, or their time is up. */
static void step_draining(pga_conn *conn)
{
    int64_t now = -1;
    for (int i = 0; i < 4; i++) {
        if (conn->draining[i] < 0) {
            continue;
        }
        struct pollfd p = {.fd = conn->draining[i], .events = POLLIN, .revents = 0};
        if (now < 0) {
            now = pga__now_ms();
        }
        if (poll(&p, 1, 0) > 0 || now >= conn->draining_sent[i] + PGA__CANCEL_SEND_MS) {
            close(conn->draining[i]);
            conn->draining[i] = -1;
        }
    }
}

/* A statement is about to be sent on the session a request of ours may
 * still be on its way to.  The server cancels whatever the backend runs
 * when the request arrives, so a request meant for a statement that has
 * since ended (or for none: the session was idle) would cancel this one.
 * libpq's PQcancel() avoids that by returning only once the server has
 * read the request (it closes the socket after signalling the backend,
 * and a backend signalled while it waits for a command drops the cancel
 * before running that command); the statement waits for that instead, at
 * most PGA__CANCEL_FREE_WAIT_MS after the request was written.  A request
 * still connecting has reached nobody and is dropped. */
void pga__cancel_settle(pga_conn *conn)
{
    int slot = atomic_load(&conn->cancel_slot);
    if (slot < 0) {
        return;
    }
    if (!(slot & 1)) {
        finish_request(conn, slot);
        return;
    }
    int64_t now = pga__now_ms();
    int64_t until = (slot == conn->cancel_seen ? conn->cancel_deadline - PGA__CANCEL_SEND_MS : now)
                    + PGA__CANCEL_FREE_WAIT_MS;
    while (now < until) {
        struct pollfd p = {.fd = slot >> 1, .events = POLLIN, .revents = 0};
        int n = poll(&p, 1, (int)(until - now));
        if (n > 0) {
            finish_request(conn, slot);
            return;
        }
        if (n == 0 || errno != EINTR) {
            break;
        }
        now = pga__now_ms();
    }
    /* Unanswered (a hung server): kept, never closed unread. */
    pga__cancel_abandon(conn);
}

/* The handle is being freed: no later step will reap the requests still
 * draining.  A request written moments ago is most likely still being
 * forwarded by a pooler, so wait for it a little (the wait is counted
 * from the write, so a request left unanswered by a hung server, which is
 * the one that takes long, costs nothing here); then close them all. */
void pga__cancel_close_all(pga_conn *conn)
{
    pga__cancel_abandon(conn);
    for (;;) {
        struct pollfd p[4];
        int n = 0;
        int64_t now = pga__now_ms(), until = now;
        for (int i = 0; i < 4; i++) {
            int64_t give_up = conn->draining_sent[i] + PGA__CANCEL_FREE_WAIT_MS;
            if (conn->draining[i] >= 0 && give_up > now) {
                p[n++] = (struct pollfd){.fd = conn->draining[i], .events = POLLIN, .revents = 0};
                until = give_up > until ? give_up : until;
            }
        }
        if (n == 0 || poll(p, n, (int)(until - now)) <= 0) {
            break;
        }
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < 4 && p[k].revents != 0; i++) {
                if (conn->draining[i] == p[k].fd) {
                    close(conn->draining[i]);
                    conn->draining[i] = -1;
                }
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        if (conn->draining[i] >= 0) {
            close(conn->draining[i]);
            conn->draining[i] = -1;
        }
    }
}

int pga__cancel_pending(const pga_conn *conn)
{
    return atomic_load(&((pga_conn *)conn)->cancel_slot) >= 0;
}

/* Called by the thread that owns the connection (the deadline). */
int pga__cancel_send(pga_conn *conn)
{
    int rc = pga_conn_cancel(conn);
    pga__cancel_step(conn);
    return rc;
}

int pga_conn_cancel(pga_conn *conn)
{
    /* Reads only what was fixed when the session opened, which is what
     * makes calling it from another thread safe. */
    const pga__cancel_key *k = &conn->cancel_key;
    if (!k->known) {
        char buf[256];
        PGcancel *cancel = conn->cancel;
        return cancel != NULL && PQcancel(cancel, buf, sizeof(buf)) ? PGA_OK : PGA_ECONN;
    }
    if (atomic_load(&conn->cancel_slot) >= 0) {
        return PGA_OK;      /* one is on its way */
    }
    int connected = 0;
    int fd = open_request(k, &connected);
    if (fd < 0) {
        return PGA_ECONN;
    }
    if (connected && write_request(fd, k) != PGA_OK) {
        close(fd);
        return PGA_ECONN;
    }
    /* Once in the slot the socket is the owner's (its steps may close it),
     * so it is written before.  Two threads cancelling at the same moment
     * can still close a written request at once below: rare, and only a
     * concern before PgBouncer 1.19 (see pga__cancel_abandon()). */
    int expected = -1;
    if (!atomic_compare_exchange_strong(&conn->cancel_slot, &expected, fd * 2 + connected)) {
        close(fd);          /* another thread's request won the slot */
    }
    return PGA_OK;
}
