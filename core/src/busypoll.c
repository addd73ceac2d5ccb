/* busypoll.c -- how long a driver may poll for an answer without sleeping
 * (pgatomic.h "Busy polling"): the budget, the clock of the round trip in
 * flight, and the misses that turn the spin off.  Nothing here waits; the
 * drivers (wait.c, the Node addon) ask pga_conn_busy_poll_left(). */
#include "internal.h"

/* Spin for the next answer, by what the answers so far say: not after
 * PGA_BUSY_POLL_MISSES misses in a row, and not while slept round trips
 * are answered as fast as spun ones (the wake-up costs nothing then, as on
 * a busy machine whose cores never idle, and the spin only takes the CPU
 * the server needs). */
static int spin_pays(const pga_conn *conn)
{
    if (conn->bp_misses >= PGA_BUSY_POLL_MISSES) {
        return 0;
    }
    return conn->bp_spin_avg == 0 || conn->bp_sleep_avg == 0
           || conn->bp_spin_avg < conn->bp_sleep_avg;
}

/* The mean answer time of one mode, from its own round trips (a quarter
 * of the way to each new one; the first is taken as is). */
static void average(int64_t *avg, int64_t sample)
{
    *avg = *avg == 0 ? sample : *avg + (sample - *avg) / 4;
    if (*avg == 0) {
        *avg = 1;           /* 0 means "none yet" */
    }
}

/* Whether the n-th round trip since the choice last changed tries the
 * other one: the 16th, 32nd, 64th and 128th, then every 256th, so that a
 * settled choice costs little and a changed machine is still noticed. */
static int probe_due(unsigned n)
{
    if (n < PGA_BUSY_POLL_PROBE) {
        return 0;
    }
    if (n >= PGA_BUSY_POLL_PROBE_MAX) {
        return n % PGA_BUSY_POLL_PROBE_MAX == 0;
    }
    return (n & (n - 1)) == 0;
}

void pga__busy_poll_sent(pga_conn *conn)
{
    conn->bp_sent_us = pga__now_us();
    conn->bp_awaiting = 1;
    /* A probe does the other thing, so that both means stay current: a
     * spin to see whether answers got fast, a sleep to see whether waking
     * up got slow. */
    int pays = spin_pays(conn);
    if (pays != conn->bp_pays) {
        conn->bp_pays = pays;
        conn->bp_same = 0;
    }
    conn->bp_spin = probe_due(++conn->bp_same) ? !pays : pays;
}

void pga__busy_poll_answered(pga_conn *conn)
{
    conn->bp_awaiting = 0;
    if (conn->busy_poll_us == 0) {
        return;             /* off: nothing to learn */
    }
    int64_t took = pga__now_us() - conn->bp_sent_us;
    /* Past the budget the spin gave up either way: a long statement
     * weighs no more than that. */
    average(conn->bp_spin ? &conn->bp_spin_avg : &conn->bp_sleep_avg,
            took < conn->busy_poll_us ? took : conn->busy_poll_us);
    /* A slept answer within the budget counts too: a spin would have had it. */
    if (took <= conn->busy_poll_us) {
        conn->bp_misses = 0;
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
    if (!conn->bp_awaiting || !conn->bp_spin || conn->op != PGA__OP_BATCH
        || conn->busy_poll_us == 0) {
        return 0;
    }
    int64_t left = conn->busy_poll_us - (pga__now_us() - conn->bp_sent_us);
    return left > 0 ? (int)left : 0;
}
