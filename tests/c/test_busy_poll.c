/* test_busy_poll.c -- the core's busy-poll policy (pgatomic.h "Busy
 * polling"): how long a driver may spin for an answer, and the answers
 * that turn the spin off (slow ones, or slept ones as fast as spun ones)
 * and on again.  Each check of a spin in progress uses a budget of a
 * second and a statement that sleeps 20 ms or more, so that neither the
 * step that sends it nor a loaded machine can read the answer or spend the
 * budget first. */
#include <poll.h>
#include <stdlib.h>

#include "harness.h"

#define BIG_US 1000000      /* every answer of these tests comes within it */
#define SMALL_US 1000       /* pg_sleep(0.01) never comes within it */

/* Send sql, and say what pga_conn_busy_poll_left() is right after the step
 * that sent it (-1: the statement did not start, or already ended). */
static int left_after_sending(pga_conn *c, const char *sql)
{
    if (pga_query_start(c, sql, NULL) != PGA_OK || pga_conn_step(c, 0) <= 0) {
        return -1;
    }
    return pga_conn_busy_poll_left(c);
}

/* Drive the statement in flight to its end sleeping in poll(), never
 * spinning, so the answer's lateness is the server's and the wake-up's. */
static int finish_sleeping(pga_conn *c)
{
    int rc;
    while ((rc = pga_conn_step(c, PGA_READY_READ)) > 0) {
        struct pollfd p = {pga_conn_socket(c), POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) {
            return -999;
        }
    }
    pga_result_free(pga_conn_take_result(c));
    return rc;
}

/* Misses enough to turn the spin off: answers later than SMALL_US. */
static int miss_until_off(pga_conn *c)
{
    if (pga_conn_set_busy_poll(c, SMALL_US) != PGA_OK) {
        return -1;
    }
    for (int i = 0; i < PGA_BUSY_POLL_MISSES; i++) {
        if (pga_query(c, "SELECT pg_sleep(0.01)", NULL, NULL) != PGA_OK) {
            return -1;
        }
    }
    return PGA_OK;
}

TEST(busy_poll_spins_only_while_an_answer_is_awaited)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, BIG_US));
    ASSERT_EQ_INT(BIG_US, pga_conn_get_busy_poll(c));
    ASSERT_EQ_INT(0, pga_conn_busy_poll_left(c));
    int left = left_after_sending(c, "SELECT pg_sleep(0.2)");
    ASSERT(left > 0 && left <= BIG_US);
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    ASSERT_EQ_INT(0, pga_conn_busy_poll_left(c));
    /* The blocking calls spin, and nothing else changes. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(0, pga_conn_busy_poll_left(c));
    pga_conn_free(c);
}

TEST(busy_poll_off_never_spins)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, 0));
    ASSERT_EQ_INT(0, left_after_sending(c, "SELECT pg_sleep(0.2)"));
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    pga_conn_free(c);
}

TEST(busy_poll_turns_itself_off_after_slow_answers)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, miss_until_off(c));
    /* Slow answers keep it off until the probe: the PGA_BUSY_POLL_PROBE-th
     * round trip after it turned off spins again. */
    for (int i = 1; i < PGA_BUSY_POLL_PROBE; i++) {
        ASSERT_EQ_INT(0, left_after_sending(c, "SELECT pg_sleep(0.05)"));
        ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    }
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, BIG_US));
    ASSERT(left_after_sending(c, "SELECT pg_sleep(0.2)") > 0);
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    pga_conn_free(c);
}

TEST(busy_poll_recovers_after_a_fast_answer)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, miss_until_off(c));
    /* Changing the budget keeps what was learnt. */
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, BIG_US));
    ASSERT_EQ_INT(0, left_after_sending(c, "SELECT pg_sleep(0.2)"));
    /* Slept, yet answered within the budget: a hit, and slower than the
     * spun answers were. */
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    ASSERT(left_after_sending(c, "SELECT pg_sleep(0.2)") > 0);
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    pga_conn_free(c);
}

TEST(busy_poll_turns_itself_off_where_sleeping_is_as_fast)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, BIG_US));
    /* Spun answers that take 100 ms ... */
    for (int i = 1; i < PGA_BUSY_POLL_PROBE; i++) {
        ASSERT(left_after_sending(c, "SELECT pg_sleep(0.1)") > 0);
        ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    }
    /* ... then the probe that sleeps, answered in a fifth of that: waking
     * up costs less than spinning gains, so it sleeps from now on.  (A
     * statement that answers at once might be read by the step that sends
     * it, which leaves nothing to ask about.) */
    ASSERT_EQ_INT(0, left_after_sending(c, "SELECT pg_sleep(0.02)"));
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    ASSERT_EQ_INT(0, left_after_sending(c, "SELECT pg_sleep(0.02)"));
    ASSERT_EQ_INT(PGA_OK, finish_sleeping(c));
    pga_conn_free(c);
}

TEST(busy_poll_invalid_budget_is_misuse)
{
    pga_conn *c = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    int before = pga_conn_get_busy_poll(c);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_conn_set_busy_poll(c, -1));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_conn_set_busy_poll(c, PGA_BUSY_POLL_MAX_US + 1));
    ASSERT_EQ_INT(before, pga_conn_get_busy_poll(c));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_busy_poll(c, PGA_BUSY_POLL_MAX_US));
    pga_conn_free(c);
}

TEST(busy_poll_default_and_environment)
{
    const char *saved = getenv("PGA_BUSY_POLL_US");
    char *copy = saved != NULL ? strdup(saved) : NULL;
    pga_conn *c = NULL;
    unsetenv("PGA_BUSY_POLL_US");
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_BUSY_POLL_DEFAULT_US, pga_conn_get_busy_poll(c));
    pga_conn_free(c);
    setenv("PGA_BUSY_POLL_US", "0", 1);
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(0, pga_conn_get_busy_poll(c));
    pga_conn_free(c);
    setenv("PGA_BUSY_POLL_US", "99999999999", 1);
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_BUSY_POLL_MAX_US, pga_conn_get_busy_poll(c));
    pga_conn_free(c);
    if (copy != NULL) {
        setenv("PGA_BUSY_POLL_US", copy, 1);
        free(copy);
    }
    else {
        unsetenv("PGA_BUSY_POLL_US");
    }
}
