/* test_commit_faults.c -- a connection cut around COMMIT, through the
 * loopback proxy (out/pgproxy): cut after the server got COMMIT is "outcome
 * unknown" (and the row is there), cut before is a plain, certain loss. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

typedef struct proxy {
    FILE *out;
    int port, control;
} proxy;

static int proxy_start(proxy *px)
{
    char cmd[600], line[128];
    const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
    snprintf(cmd, sizeof(cmd),
             "exec ${PGPROXY:-out/pgproxy} --listen 127.0.0.1:0 --upstream unix:%s/.s.PGSQL.%s "
             "--control 127.0.0.1:0", host ? host : "/tmp", port ? port : "5432");
    px->out = popen(cmd, "r");
    if (px->out == NULL || fgets(line, sizeof(line), px->out) == NULL
        || sscanf(line, "listen=%d control=%d", &px->port, &px->control) != 2) {
        return -1;
    }
    return 0;
}

/* One control command, one reply line. */
static int proxy_say(const proxy *px, const char *command)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->control)};
    char reply[256] = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0
        && write(fd, command, strlen(command)) == (ssize_t)strlen(command)
        && read(fd, reply, sizeof(reply) - 1) > 0) {
        ok = strncmp(reply, "ok", 2) == 0 ? 0 : -1;
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static void proxy_stop(proxy *px)
{
    if (px->out != NULL) {
        proxy_say(px, "quit\n");
        pclose(px->out);
    }
}

static pga_conn *through(const proxy *px)
{
    char dsn[128];
    pga_conn *c = NULL;
    snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d sslmode=disable connect_timeout=5", px->port);
    if (pga_conn_new(&c) != PGA_OK || pga_conn_connect(c, dsn) != PGA_OK) {
        pga_conn_free(c);
        return NULL;
    }
    return c;
}

static void commit_cut(const char *arm, int expect_rc, long long expect_rows)
{
    proxy px = {0};
    ASSERT_EQ_INT(PGA_OK, test_exec("DROP TABLE IF EXISTS cf_rows; CREATE TABLE cf_rows (id int)"));
    ASSERT_EQ_INT(0, proxy_start(&px));
    pga_conn *c = through(&px);
    if (c == NULL) {
        proxy_stop(&px);
        ASSERT(c != NULL);
    }
    if (pga_atomic_enter(c, 0) != PGA_OK
        || pga_query(c, "INSERT INTO cf_rows VALUES (1)", NULL, NULL) != PGA_OK
        || proxy_say(&px, arm) != 0) {
        pga_conn_free(c);
        proxy_stop(&px);
        ASSERT(!"setup through the proxy failed");
    }
    int rc = pga_atomic_exit(c, 0);
    int open_after = pga_conn_is_open(c);
    pga_conn_free(c);
    proxy_stop(&px);
    ASSERT_EQ_INT(expect_rc, rc);
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
