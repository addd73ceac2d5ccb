/* test_deadlines.c -- connect_timeout in both connects, the statement
 * timeout (cancel, then close), a cancel that never waits, TCP keepalives,
 * and a hung server (every process SIGSTOPped) ending a block in flight. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP listener that accepts (the kernel does) and never answers: what a
 * frozen server looks like to a client connecting. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Its connection string, with connect_timeout=1. */
static void silent_dsn(char *dsn, size_t cap, int port)
{
    snprintf(dsn, cap, "host=127.0.0.1 port=%d connect_timeout=1 sslmode=disable", port);
}

TEST(blocking_connect_honours_connect_timeout)
{
    int port, fd = silent_listener(&port);
    ASSERT(fd >= 0);
    char dsn[128];
    silent_dsn(dsn, sizeof dsn, port);
    pga_conn *c = NULL;
    pga_conn_new(&c);
    int64_t t0 = now_ms();
    int rc = pga_conn_connect(c, dsn);
    int64_t took = now_ms() - t0;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", pga_conn_errmsg(c));
    pga_conn_free(c);
    close(fd);
    ASSERT_EQ_INT(PGA_ECONN, rc);
    ASSERT(took >= 950 && took < 2500);
    ASSERT(strstr(msg, "timed out") != NULL);
}

TEST(non_blocking_connect_honours_connect_timeout)
{
    int port, fd = silent_listener(&port);
    ASSERT(fd >= 0);
    char dsn[128];
    silent_dsn(dsn, sizeof dsn, port);
    pga_conn *c = NULL;
    pga_conn_new(&c);
    int64_t t0 = now_ms();
    int rc = pga_conn_connect_start(c, dsn);
    int saw_deadline = 0;
    /* A driver of its own: wait on the socket at most pga_conn_timeout_ms(). */
    while (rc == PGA_OK || rc > 0) {
        rc = pga_conn_step(c, 0);
        if (rc <= 0) {
            break;
        }
        int t = pga_conn_timeout_ms(c);
        saw_deadline |= t >= 0 && t <= 1000;
        struct pollfd p = {pga_conn_socket(c), (short)((rc & PGA_WANT_READ ? POLLIN : 0)
                                                       | (rc & PGA_WANT_WRITE ? POLLOUT : 0)), 0};
        poll(&p, 1, t);
        if (now_ms() - t0 > 5000) {
            break;
        }
    }
    int64_t took = now_ms() - t0;
    pga_conn_free(c);
    close(fd);
    ASSERT(saw_deadline);
    ASSERT_EQ_INT(PGA_ECONN, rc);
    ASSERT(took >= 950 && took < 2500);
}

/* The keepalive settings of the socket a connect to a silent listener
 * opens (libpq sets them before the TCP connect): SO_KEEPALIVE, then
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; -1 where unreadable. */
static void keepalives_of(const char *extra, int out[4])
{
    int port, fd = silent_listener(&port);
    out[0] = out[1] = out[2] = out[3] = -1;
    if (fd < 0) {
        return;
    }
    char dsn[256];
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d connect_timeout=2 sslmode=disable %s",
             port, extra);
    pga_conn *c = NULL;
    pga_conn_new(&c);
    int rc = pga_conn_connect_start(c, dsn);
    int s = rc >= 0 ? pga_conn_socket(c) : -1;
    static const int level[4] = {SOL_SOCKET, IPPROTO_TCP, IPPROTO_TCP, IPPROTO_TCP};
    static const int name[4] = {SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
    for (int i = 0; s >= 0 && i < 4; i++) {
        socklen_t len = sizeof out[i];
        if (getsockopt(s, level[i], name[i], &out[i], &len) != 0) {
            out[i] = -1;
        }
    }
    pga_conn_free(c);
    close(fd);
}

/* A vanished peer (host powered off, partition) is noticed after about
 * 60 + 3 * 10 s of silence, not the kernel's two hours; the user's own
 * keepalive settings are left as they are. */
TEST(tcp_keepalives_are_on_by_default)
{
    int k[4];
    keepalives_of("", k);
    ASSERT_EQ_INT(1, k[0] != 0);
    ASSERT_EQ_INT(60, k[1]);
    ASSERT_EQ_INT(10, k[2]);
    ASSERT_EQ_INT(3, k[3]);
    keepalives_of("keepalives_idle=5", k);
    ASSERT_EQ_INT(1, k[0] != 0);
    ASSERT_EQ_INT(5, k[1]);
    ASSERT(k[2] != 10 || k[3] != 3);       /* the kernel's, not the core's */
    keepalives_of("keepalives=0", k);
    ASSERT_EQ_INT(0, k[0]);
}

/* A host list whose first host never answers reaches the second within
 * the first one's connect_timeout. */
TEST(host_list_skips_a_silent_host_after_its_connect_timeout)
{
    int port, fd = silent_listener(&port);
    ASSERT(fd >= 0);
    const char *host = getenv("PGHOST"), *pgport = getenv("PGPORT");
    char dsn[512];
    snprintf(dsn, sizeof dsn, "host=127.0.0.1,%s port=%d,%s connect_timeout=1 sslmode=disable",
             host ? host : "/tmp", port, pgport ? pgport : "5432");
    pga_conn *c = NULL;
    pga_conn_new(&c);
    int64_t t0 = now_ms();
    int rc = pga_conn_connect(c, dsn);
    int64_t took = now_ms() - t0;
    if (rc != PGA_OK) {
        fprintf(stdout, "    %s\n", pga_conn_errmsg(c));
    }
    pga_conn_free(c);
    close(fd);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT(took >= 950 && took < 2500);
}

TEST(statement_timeout_cancels_a_slow_statement_and_keeps_the_session)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    /* The deadline must fall while the server runs the statement: a cancel
     * that reaches the backend before it has read the Execute is dropped,
     * and the session is then closed after the cancel's grace (ECONN).  On
     * a warmed session 1 s is long enough for a loaded machine to start it;
     * the bounds only tell the cancel from the 30 s sleep. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_timeout(c, 1000));
    int64_t t0 = now_ms();
    int rc = pga_query(c, "SELECT pg_sleep(30)", NULL, NULL);
    int64_t took = now_ms() - t0;
    int kind = pga_conn_error_kind(c);
    int rc2 = pga_query(c, "SELECT 1", NULL, NULL);
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_ESERVER, rc);
    ASSERT_EQ_INT(PGA_KIND_QUERY_CANCELED, kind);
    ASSERT(took >= 990 && took < 10000);
    ASSERT_EQ_INT(PGA_OK, rc2);
}

TEST(cancel_returns_at_once)
{
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query_start(c, "SELECT pg_sleep(30)", NULL));
    /* A cancel only stops a statement the server is already running (one
     * that arrives before the Execute is dropped): wait until it sleeps. */
    ASSERT(pga_conn_wait(c, 0) > 0);
    for (int i = 0; i < 500 && test_scalar_int("SELECT count(*) FROM pg_stat_activity "
                                               "WHERE query = 'SELECT pg_sleep(30)' AND wait_event = 'PgSleep'") != 1; i++) {
        poll(NULL, 0, 20);
    }
    int64_t t0 = now_ms();
    int crc = pga_conn_cancel(c);
    int64_t took = now_ms() - t0;
    int rc = pga_conn_wait(c, 20000);
    int kind = pga_conn_error_kind(c);
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, crc);
    ASSERT(took < 500);                 /* no wait for the server's answer */
    ASSERT_EQ_INT(PGA_ESERVER, rc);
    ASSERT_EQ_INT(PGA_KIND_QUERY_CANCELED, kind);
}

/* PgBouncer 1.18 exits ("bad client state") when a cancel request's client
 * closes its socket before PgBouncer has passed the request on.  A program
 * that cancels and then drops the connection at once must not do that to
 * the pooler every other client shares: pga_conn_free() keeps a request
 * written moments ago until the pooler closes it (cancel.c).  Needs
 * PGA_BOUNCER_URL (scripts/suite-c.sh starts one). */
TEST(cancel_then_free_at_once_leaves_pgbouncer_running)
{
    const char *bouncer = getenv("PGA_BOUNCER_URL");
    if (bouncer == NULL || bouncer[0] == '\0') {
        fprintf(stdout, "    not run: PGA_BOUNCER_URL is unset (scripts/suite-c.sh sets it)\n");
        return;
    }
    for (int i = 0; i < 10; i++) {
        pga_conn *c = NULL;
        ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
        if (pga_conn_connect(c, bouncer) != PGA_OK) {
            fprintf(stdout, "    connect %d: %s\n", i, pga_conn_errmsg(c));
            pga_conn_free(c);
            ASSERT(!"PgBouncer accepts connections");
        }
        ASSERT_EQ_INT(PGA_OK, pga_query_start(c, "SELECT pg_sleep(5)", NULL));
        ASSERT(pga_conn_wait(c, 100) > 0);
        ASSERT_EQ_INT(PGA_OK, pga_conn_cancel(c));
        pga_conn_wait(c, 1);       /* the request is written by now */
        pga_conn_free(c);
    }
    pga_conn *c = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    int rc = pga_conn_connect(c, bouncer);
    if (rc == PGA_OK) {
        rc = pga_query(c, "SELECT 1", NULL, NULL);
    }
    if (rc != PGA_OK) {
        fprintf(stdout, "    after the cancels: %s\n", pga_conn_errmsg(c));
    }
    pga_conn_free(c);
    ASSERT_EQ_INT(PGA_OK, rc);
}

/* ---- a server of its own, frozen --------------------------------------- */

typedef struct private_server {
    char dir[256];
    int port;
} private_server;

static int cluster(const char *args, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "bash tests/servers/cluster.sh %s", args);
    FILE *f = popen(cmd, "r");
    if (f == NULL) {
        return -1;
    }
    if (out != NULL && (fgets(out, (int)cap, f) == NULL)) {
        out[0] = '\0';
    }
    return pclose(f) == 0 ? 0 : -1;
}

static int server_start(private_server *s)
{
    char line[400];
    if (cluster("primary", line, sizeof line) != 0
        || sscanf(line, "%255s %d", s->dir, &s->port) != 2) {
        return -1;
    }
    return 0;
}

static void server_do(const private_server *s, const char *what)
{
    char args[400];
    snprintf(args, sizeof args, "%s %s", what, s->dir);
    cluster(args, NULL, 0);
}

static pga_conn *server_connect(const private_server *s, int timeout_ms)
{
    char dsn[256];
    pga_conn *c = NULL;
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d user=postgres dbname=postgres "
             "connect_timeout=2 sslmode=disable", s->port);
    pga_conn_new(&c);
    if (pga_conn_connect(c, dsn) != PGA_OK) {
        pga_conn_free(c);
        return NULL;
    }
    pga_conn_set_timeout(c, timeout_ms);
    return c;
}

/* pga_conn_wait()'s interval bounds the whole call even while a cancel
 * request gets no answer (the core then asks for a step every 10 ms):
 * Python's Ctrl-C relies on it to give a hung server 2 s and no more. */
TEST(wait_returns_within_its_interval_while_a_cancel_gets_no_answer)
{
    private_server s;
    ASSERT_EQ_INT(0, server_start(&s));
    pga_conn *c = server_connect(&s, 0);
    int rc = -100, crc = -100;
    int64_t took = -1;
    if (c != NULL) {
        server_do(&s, "freeze");
        pga_query_start(c, "SELECT 1", NULL);
        pga_conn_wait(c, 100);
        crc = pga_conn_cancel(c);
        int64_t t0 = now_ms();
        rc = pga_conn_wait(c, 300);
        took = now_ms() - t0;
    }
    server_do(&s, "thaw");
    pga_conn_free(c);
    server_do(&s, "stop");
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, crc);
    ASSERT(rc > 0);                   /* still waiting for the answer */
    ASSERT(took >= 290 && took < 1000);
}

/* The server freezes while a block is in flight: the statement ends after
 * the timeout plus the cancel's grace, as a lost connection; leaving the
 * block sends nothing; COMMIT in flight would be outcome-unknown. */
TEST(hung_server_ends_a_block_in_flight_within_the_deadline)
{
    private_server s;
    ASSERT_EQ_INT(0, server_start(&s));
    pga_conn *c = server_connect(&s, 500);
    int rc1 = -100, rc2 = -100, rc3 = -100, rc4 = -100;
    int64_t took = -1, commit_took = -1;
    if (c != NULL) {
        pga_conn *d = server_connect(&s, 500);
        pga_atomic_enter(c, 0);
        rc1 = pga_query(c, "CREATE TABLE t(x int)", NULL, NULL);
        server_do(&s, "freeze");
        int64_t t0 = now_ms();
        rc2 = pga_query(c, "INSERT INTO t VALUES (1)", NULL, NULL);
        took = now_ms() - t0;
        rc3 = pga_atomic_exit(c, 0);
        /* COMMIT in flight when the server freezes: unknown, never failed. */
        if (d != NULL) {
            pga_atomic_enter(d, 0);
            server_do(&s, "thaw");
            pga_query(d, "SELECT 1", NULL, NULL);
            server_do(&s, "freeze");
            t0 = now_ms();
            rc4 = pga_atomic_exit(d, 0);
            commit_took = now_ms() - t0;
        }
        pga_conn_free(d);
    }
    server_do(&s, "thaw");
    pga_conn_free(c);
    server_do(&s, "stop");
    ASSERT_EQ_INT(PGA_OK, rc1);
    ASSERT_EQ_INT(PGA_ECONN, rc2);
    ASSERT(took >= 950 && took < 2500);      /* 500 ms + the 500 ms grace */
    ASSERT_EQ_INT(PGA_OK, rc3);
    ASSERT_EQ_INT(PGA_ECOMMITUNKNOWN, rc4);
    ASSERT(commit_took >= 950 && commit_took < 2500);
}
