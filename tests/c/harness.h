/* harness.h -- a minimal test runner: TEST() registers a function, the
 * ASSERT macros stop the test at the first failure.  Tests that need a
 * server call test_connect(), which reads the usual PG* / DATABASE_URL. */
#ifndef PGA_HARNESS_H
#define PGA_HARNESS_H

#include <stdio.h>
#include <string.h>
#include "pgatomic.h"

typedef struct test_case {
    const char *name;
    void (*fn)(void);
    struct test_case *next;
} test_case;

void test_register(test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...);
int test_failed(void);

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    static test_case test_case_##name = {#name, test_##name, NULL};         \
    __attribute__((constructor)) static void test_register_##name(void)     \
    {                                                                       \
        test_register(&test_case_##name);                                   \
    }                                                                       \
    static void test_##name(void)

#define ASSERT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) {                                                      \
            test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);  \
            return;                                                         \
        }                                                                   \
    } while (0)

#define ASSERT_EQ_INT(expected, actual)                                     \
    do {                                                                    \
        long long e_ = (long long)(expected), a_ = (long long)(actual);     \
        if (e_ != a_) {                                                     \
            test_fail(__FILE__, __LINE__, "%s: expected %lld, got %lld",    \
                      #actual, e_, a_);                                     \
            return;                                                         \
        }                                                                   \
    } while (0)

#define ASSERT_EQ_STR(expected, actual)                                     \
    do {                                                                    \
        const char *e_ = (expected), *a_ = (actual);                        \
        if (a_ == NULL || strcmp(e_, a_) != 0) {                            \
            test_fail(__FILE__, __LINE__, "%s: expected \"%s\", got \"%s\"", \
                      #actual, e_, a_ ? a_ : "(null)");                     \
            return;                                                         \
        }                                                                   \
    } while (0)

/* Server helpers (tests/c/helpers.c).  test_connect() returns a connected
 * handle or fails the test; test_exec() runs SQL on its own connection
 * outside any block; test_scalar_int() reads one integer from a fresh
 * connection, so a test can check what is really committed. */
pga_conn *test_connect(void);
/* The same for a connection string of the test's own (NULL: PG*). */
pga_conn *test_connect_to(const char *conninfo);
int test_exec(const char *sql);
long long test_scalar_int(const char *sql);
/* The server pid of c's session (one round trip), and ending a session
 * from another connection as pg_terminate_backend() does. */
int test_backend_pid(pga_conn *c);
int test_terminate(int pid);

/* The loopback proxy (out/pgproxy, or $PGPROXY) in front of the server:
 * counts round trips and cuts connections on command. */
typedef struct test_proxy {
    FILE *out;
    int port, control;
} test_proxy;

int test_proxy_start(test_proxy *px);
/* One control command ("stats\n"); the reply line lands in reply.  Returns
 * 0 when the reply starts with "ok" or, for stats, "conns=". */
int test_proxy_say(const test_proxy *px, const char *command, char *reply, size_t cap);
void test_proxy_stop(test_proxy *px);
pga_conn *test_proxy_connect(const test_proxy *px);
/* Round trips the proxy counted since its last reset, or -1. */
long test_proxy_round_trips(const test_proxy *px);

#endif
