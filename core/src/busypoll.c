/* busypoll.c -- how long a driver may poll for an answer without sleeping
 * (pgatomic.h "Busy polling"): the budget, the clock of the round trip in
 * flight, and the misses that turn the spin off.  Nothing here waits; the
 * drivers (wait.c, the Node addon) ask pga_conn_busy_poll_left(). */
#include <time.h>

#include "internal.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A slept round trip too is judged by its answer: one that came within the
 * budget even with the wake-up's delay would have come while spinning. */
static int spinning(const pga_conn *conn)
{
    return conn->bp_misses < PGA_BUSY_POLL_MISSES || conn->bp_probe;
}

void pga__busy_poll_sent(pga_conn *conn)
{
    conn->bp_sent_us = now_us();
    conn->bp_awaiting = 1;
    conn->bp_probe = 0;
    if (conn->bp_misses >= PGA_BUSY_POLL_MISSES) {
        conn->bp_probe = ++conn->bp_slept % PGA_BUSY_POLL_PROBE == 0;
    }
}

void pga__busy_poll_answered(pga_conn *conn)
{
    conn->bp_awaiting = 0;
    if (conn->busy_poll_us == 0) {
        return;             /* off: nothing to learn */
    }
    if (now_us() - conn->bp_sent_us <= conn->busy_poll_us) {
        conn->bp_misses = 0;
        conn->bp_slept = 0;
    }
    else if (conn->bp_misses < PGA_BUSY_POLL_MISSES) {
        conn->bp_misses++;
    }
}

int pga_conn_set_busy_poll(pga_conn *conn, int us)
{
    if (us < 0 || us > PGA_BUSY_POLL_MAX_US) {
        return pga__err_set(conn, PGA_EMISUSE, "the busy poll must be 0 to %d microseconds",
                            PGA_BUSY_POLL_MAX_US);
    }
    conn->busy_poll_us = us;
    return PGA_OK;
}

int pga_conn_get_busy_poll(const pga_conn *conn)
{
    return conn->busy_poll_us;
}

int pga_conn_busy_poll_left(const pga_conn *conn)
{
    if (!conn->bp_awaiting || conn->op != PGA__OP_BATCH || conn->busy_poll_us == 0
        || !spinning(conn)) {
        return 0;
    }
    int64_t left = conn->busy_poll_us - (now_us() - conn->bp_sent_us);
    return left > 0 ? (int)left : 0;
}
