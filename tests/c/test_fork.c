/* test_fork.c -- a connection inherited across fork() is the parent's:
 * the child can neither end nor use its session. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int child_exit_code(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

TEST(fork_then_child_exit_leaves_the_parents_session_and_transaction)
{
    test_exec("DROP TABLE IF EXISTS fork_t");
    ASSERT_EQ_INT(PGA_OK, test_exec("CREATE TABLE fork_t(x int)"));
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO fork_t VALUES (1)", NULL, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        /* The child tries to use the session, then closes and frees it. */
        int code = pga_query(c, "INSERT INTO fork_t VALUES (2)", NULL, NULL) == PGA_ECONN ? 0 : 1;
        code |= pga_conn_probe(c) == 0 ? 0 : 2;
        pga_conn_close(c);
        pga_conn_free(c);
        _exit(code);
    }
    ASSERT(pid > 0);
    int code = child_exit_code(pid);
    int rc1 = pga_query(c, "INSERT INTO fork_t VALUES (3)", NULL, NULL);
    int rc2 = pga_atomic_exit(c, 0);
    pga_conn_free(c);
    ASSERT_EQ_INT(0, code);
    ASSERT_EQ_INT(PGA_OK, rc1);
    ASSERT_EQ_INT(PGA_OK, rc2);
    /* Rows 1 and 3, committed; the child's 2 never reached the server. */
    ASSERT_EQ_INT(42, test_scalar_int("SELECT sum(x) * 10 + count(*) FROM fork_t"));
}

TEST(fork_child_reconnects_to_a_session_of_its_own)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = pga_conn_connect(c, NULL) == PGA_OK && pga_query(c, "SELECT 1", NULL, NULL) == PGA_OK;
        pga_conn_free(c);
        _exit(ok ? 0 : 1);
    }
    ASSERT(pid > 0);
    int code = child_exit_code(pid);
    int rc = pga_query(c, "SELECT 1", NULL, NULL);
    pga_conn_free(c);
    ASSERT_EQ_INT(0, code);
    ASSERT_EQ_INT(PGA_OK, rc);
}
