/* test_busy.c -- a connection is never left "busy": a request refused
 * before sending, or a session lost, leaves the next call working (or
 * failing as closed), and a block in progress fails cleanly. */
#include <stdlib.h>

#include "harness.h"

TEST(too_many_parameters_are_refused_before_sending_and_the_connection_goes_on)
{
    pga_params *p = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_params_new(&p));
    int rc = PGA_OK, added = 0;
    for (int i = 0; i < PGA_PARAMS_MAX + 1 && rc == PGA_OK; i++) {
        rc = pga_params_add_int64(p, i);
        added += rc == PGA_OK;
    }
    pga_params_free(p);
    ASSERT_EQ_INT(PGA_EPARAM, rc);
    ASSERT_EQ_INT(PGA_PARAMS_MAX, added);
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    int q = pga_query(c, "SELECT 1", NULL, NULL);
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, q);
}

TEST(lost_session_is_never_left_busy)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    test_terminate(test_backend_pid(c));
    /* A batch on the dead session, then single statements: lost, never busy. */
    int b = pga_batch_begin(c);
    if (b == PGA_OK) {
        pga_batch_add(c, "SELECT 1", NULL);
        b = pga_batch_send(c);
        while (b > 0 || (b == PGA_OK && pga_conn_step(c, 0) > 0)) {
            b = pga_conn_wait(c, 1000);
        }
    }
    int q1 = pga_query(c, "SELECT 1", NULL, NULL);
    int q2 = pga_query(c, "SELECT 1", NULL, NULL);
    int rc = pga_conn_connect(c, NULL);
    int q3 = pga_query(c, "SELECT 1", NULL, NULL);
    pga_conn_free(c);
    ASSERT(q1 != PGA_EBUSY && q1 < 0);
    ASSERT(q2 != PGA_EBUSY && q2 < 0);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(PGA_OK, q3);
}

TEST(lost_session_inside_a_block_fails_it_cleanly)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    test_terminate(test_backend_pid(c));
    int q1 = pga_query(c, "SELECT 1", NULL, NULL);
    int q2 = pga_query(c, "SELECT 1", NULL, NULL);
    int ex = pga_atomic_exit(c, 0);
    int depth = pga_atomic_depth(c);
    int rc = pga_conn_connect(c, NULL);
    int q3 = pga_query(c, "SELECT 1", NULL, NULL);
    pga_conn_free(c);
    ASSERT(q1 == PGA_ECONN || q1 == PGA_ESERVER);
    ASSERT_EQ_INT(PGA_EBROKEN, q2);
    ASSERT(ex == PGA_OK || ex == PGA_ECONN);
    ASSERT_EQ_INT(0, depth);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(PGA_OK, q3);
}
