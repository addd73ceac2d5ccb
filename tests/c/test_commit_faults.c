/* test_commit_faults.c -- a connection cut around COMMIT, through the
 * loopback proxy (out/pgproxy): cut after the server got COMMIT is "outcome
 * unknown" (and the row is there), cut before is a plain, certain loss. */
#include "harness.h"

static void commit_cut(const char *arm, int expect_rc, long long expect_rows)
{
    test_proxy px = {0};
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS cf_rows; CREATE TABLE cf_rows (id int)"));
    ASSERT_EQ_INT(0, test_proxy_start(&px));
    pga_conn *c = test_proxy_connect(&px);
    if (c == NULL) {
        test_proxy_stop(&px);
        ASSERT(c != NULL);
    }
    if (pga_atomic_enter(c, 0) != PGA_OK
        || pga_query(c, "INSERT INTO cf_rows VALUES (1)", NULL, NULL) != PGA_OK
        || test_proxy_say(&px, arm, NULL, 0) != 0) {
        pga_conn_free(c);
        test_proxy_stop(&px);
        ASSERT(!"setup through the proxy failed");
    }
    int rc = pga_atomic_exit(c, 0);
    int open_after = pga_conn_is_open(c);
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    pga_conn_free(c);
    test_proxy_stop(&px);
    ASSERT_EQ_INT(expect_rc, rc);
    /* The outcome says so too: unknown, never rolled back or committed. */
    ASSERT_EQ_INT(PGA_OUTCOME_UNKNOWN, o.state);
    ASSERT(!open_after);
    ASSERT_EQ_INT(expect_rows, test_scalar_int("SELECT count(*) FROM cf_rows"));
}

TEST(connection_cut_while_commit_in_flight_is_outcome_unknown)
{
    /* The proxy forwards COMMIT and then cuts before the answer: the row
     * is committed, and the client must not claim either outcome. */
    commit_cut("arm after ^COMMIT\n", PGA_ECOMMITUNKNOWN, 1);
}

TEST(connection_cut_before_commit_arrives)
{
    /* Here the server never saw COMMIT; the client still cannot know that,
     * since its bytes left: "unknown" is the honest answer, and the row is
     * indeed not there. */
    commit_cut("arm before ^COMMIT\n", PGA_ECOMMITUNKNOWN, 0);
}
