/* pgproxy -- a loopback TCP proxy in front of a throwaway PostgreSQL, for
 * fault injection and round-trip counting in tests and benchmarks.
 *
 *   pgproxy --listen 127.0.0.1:0 --upstream unix:/dir/.s.PGSQL.5432
 *           [--delay-us N] [--control 127.0.0.1:0]
 *
 * Prints "listen=PORT control=PORT" once listening, then relays until
 * SIGTERM/SIGINT or a "quit" control command.  See README.md for the control
 * protocol.  Single-threaded: one ppoll() loop owns every socket. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define READ_SIZE 65536
/* Past this many bytes waiting for one direction we stop reading its source,
 * so a slow reader costs bounded memory instead of unbounded buffering. */
#define PENDING_MAX ((size_t)4 << 20)
/* Q and P messages up to this size are held until complete so a fault can
 * drop them whole; longer ones stream through and are never matched. */
#define HOLD_MAX ((size_t)1 << 20)
#define STARTUP_MAX 10000u
#define CTL_LINE_MAX 1024
#define CTL_OUT_MAX 8192
#define PATTERN_MAX 256
/* An "after" fault waits at most this long for the server to answer what it
 * was sent, so the server has acted on it before both sides are closed. */
#define AFTER_GRACE_NS (500LL * 1000000)
#define ACCEPT_BACKOFF_NS (100LL * 1000000)
#define ACCEPT_BATCH 64

#define PG_SSLREQUEST 80877103u
#define PG_GSSENCREQUEST 80877104u
#define PG_CANCELREQUEST 80877102u

enum { CLIENT = 0, SERVER = 1 };
enum fe_state { FE_STARTUP, FE_NORMAL, FE_OPAQUE };
enum doom_state { DOOM_NONE, DOOM_BEFORE, DOOM_AFTER };

struct chunk {
    struct chunk *next;
    int64_t due;
    size_t len;
    size_t off;
    unsigned char data[];
};

struct queue {
    struct chunk *head;
    struct chunk *tail;
    size_t bytes;
};

struct conn {
    struct conn *next;
    int fd[2];
    /* q[s] holds bytes read from fd[s], waiting to be written to fd[1 - s]. */
    struct queue q[2];
    bool eof[2];
    bool shut[2];
    bool blocked[2];
    bool connecting;
    bool dead;
    bool server_spoke;
    enum doom_state doom;
    int64_t doom_deadline;

    /* Frontend stream: bytes read from the client but not yet queued. */
    unsigned char *stage;
    size_t stage_len;
    size_t stage_cap;
    enum fe_state fe;
    size_t fe_skip;

    /* Backend stream framing, only to count ReadyForQuery and spot TLS. */
    unsigned be_single;
    bool be_opaque;
    unsigned char be_hdr[5];
    size_t be_hdr_len;
    size_t be_skip;
    unsigned long long z_expected;
    unsigned long long z_seen;
};

struct ctl {
    struct ctl *next;
    int fd;
    bool dead;
    bool discarding;
    size_t in_len;
    size_t out_len;
    char in[CTL_LINE_MAX];
    char out[CTL_OUT_MAX];
};

struct fault {
    bool armed;
    bool after;
    bool anchored;
    unsigned long long skip;
    size_t len;
    char pat[PATTERN_MAX];
};

struct upstream {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int family;
};

struct pollref {
    struct conn *conn;
    struct ctl *ctl;
    int kind;
    int side;
};

enum { REF_LISTEN, REF_CONTROL, REF_CTL, REF_CONN };

static volatile sig_atomic_t g_stop;

static struct {
    int64_t delay_ns;
    struct upstream up;
    int listen_fd;
    int control_fd;
    struct conn *conns;
    struct ctl *ctls;
    long open_conns;
    unsigned long long total_conns;
    unsigned long long round_trips;
    unsigned long long queries;
    unsigned long long types[256];
    struct fault fault;
    bool quit;
    int64_t accept_resume;
    struct pollfd *pfds;
    struct pollref *refs;
    size_t pcap;
} g;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void warnmsg(const char *what)
{
    fprintf(stderr, "pgproxy: %s: %s\n", what, strerror(errno));
}

/* ---- queues ---- */

static bool queue_push(struct queue *q, const unsigned char *p, size_t n, int64_t due)
{
    struct chunk *ch = malloc(sizeof *ch + n);
    if (ch == NULL) {
        return false;
    }
    ch->next = NULL;
    ch->due = due;
    ch->len = n;
    ch->off = 0;
    memcpy(ch->data, p, n);
    if (q->tail != NULL) {
        q->tail->next = ch;
    } else {
        q->head = ch;
    }
    q->tail = ch;
    q->bytes += n;
    return true;
}

static void queue_clear(struct queue *q)
{
    struct chunk *ch = q->head;
    while (ch != NULL) {
        struct chunk *next = ch->next;
        free(ch);
        ch = next;
    }
    q->head = NULL;
    q->tail = NULL;
    q->bytes = 0;
}

/* ---- address parsing ---- */

static int parse_hostport(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec || colon[1] == '\0') {
        return -1;
    }
    size_t hlen = (size_t)(colon - spec);
    const char *h = spec;
    /* Brackets let an IPv6 literal carry its own colons. */
    if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
        h = spec + 1;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL) {
        return -1;
    }
    if (res->ai_addrlen > sizeof *ss) {
        freeaddrinfo(res);
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int parse_upstream(const char *spec, struct upstream *up)
{
    memset(up, 0, sizeof *up);
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&up->addr;
        const char *path = spec + 5;
        if (path[0] == '\0' || strlen(path) >= sizeof sun->sun_path) {
            return -1;
        }
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, path);
        up->addrlen = sizeof *sun;
        up->family = AF_UNIX;
        return 0;
    }
    if (strncmp(spec, "tcp:", 4) == 0) {
        if (parse_hostport(spec + 4, &up->addr, &up->addrlen) != 0) {
            return -1;
        }
        up->family = up->addr.ss_family;
        return 0;
    }
    return -1;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return -1;
}

static int open_listener(const char *spec)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_hostport(spec, &ss, &len) != 0) {
        fprintf(stderr, "pgproxy: bad address '%s' (want HOST:PORT)\n", spec);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        warnmsg("socket");
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 512) != 0) {
        warnmsg(spec);
        close(fd);
        return -1;
    }
    return fd;
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* Best effort: without it Nagle would add latency to every round trip. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- connections ---- */

static struct conn *conn_new(int cfd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->fd[CLIENT] = cfd;
    c->fd[SERVER] = socket(g.up.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd[SERVER] < 0) {
        warnmsg("upstream socket");
        free(c);
        return NULL;
    }
    if (g.up.family != AF_UNIX) {
        set_nodelay(c->fd[SERVER]);
    }
    if (connect(c->fd[SERVER], (struct sockaddr *)&g.up.addr, g.up.addrlen) != 0) {
        if (errno != EINPROGRESS) {
            warnmsg("upstream connect");
            close(c->fd[SERVER]);
            free(c);
            return NULL;
        }
        c->connecting = true;
    }
    /* The first client send is a round trip of its own. */
    c->server_spoke = true;
    c->fe = FE_STARTUP;
    c->next = g.conns;
    g.conns = c;
    g.open_conns++;
    g.total_conns++;
    return c;
}

static void conn_free(struct conn *c)
{
    for (int s = 0; s < 2; s++) {
        if (c->fd[s] >= 0) {
            close(c->fd[s]);
        }
        queue_clear(&c->q[s]);
    }
    free(c->stage);
    free(c);
}

static void reap_conns(void)
{
    struct conn **pp = &g.conns;
    while (*pp != NULL) {
        struct conn *c = *pp;
        if (c->dead) {
            *pp = c->next;
            g.open_conns--;
            conn_free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* Case-insensitive substring search; an anchored pattern must begin the SQL
 * (after leading white space), so "^COMMIT" skips "READ COMMITTED". */
static bool sql_matches(const unsigned char *sql, size_t n, const struct fault *f)
{
    if (f->anchored) {
        size_t i = 0;
        while (i < n && isspace(sql[i])) {
            i++;
        }
        sql += i;
        n -= i;
        if (n < f->len) {
            return false;
        }
        for (size_t k = 0; k < f->len; k++) {
            if (toupper(sql[k]) != (unsigned char)f->pat[k]) {
                return false;
            }
        }
        return true;
    }
    if (n < f->len) {
        return false;
    }
    for (size_t i = 0; i + f->len <= n; i++) {
        size_t k = 0;
        while (k < f->len && toupper(sql[i + k]) == (unsigned char)f->pat[k]) {
            k++;
        }
        if (k == f->len) {
            return true;
        }
    }
    return false;
}

/* Returns true when this Q/P message must trigger the armed fault. */
static bool fault_check(unsigned char type, const unsigned char *body, size_t n)
{
    if (!g.fault.armed) {
        return false;
    }
    const unsigned char *sql = body;
    size_t len = n;
    if (type == 'P') {
        /* Parse carries a statement name before the SQL; skip it. */
        const unsigned char *nul = memchr(body, '\0', n);
        if (nul == NULL) {
            return false;
        }
        sql = nul + 1;
        len = n - (size_t)(sql - body);
    }
    const unsigned char *end = memchr(sql, '\0', len);
    if (end != NULL) {
        len = (size_t)(end - sql);
    }
    if (!sql_matches(sql, len, &g.fault)) {
        return false;
    }
    if (g.fault.skip > 0) {
        g.fault.skip--;
        return false;
    }
    g.fault.armed = false;
    return true;
}

static void doom(struct conn *c, enum doom_state how)
{
    c->doom = how;
    /* The client must never learn what the server says from here on. */
    queue_clear(&c->q[SERVER]);
    c->blocked[CLIENT] = false;
}

static void count_message(struct conn *c, unsigned char type)
{
    g.types[type]++;
    if (type == 'Q' || type == 'P') {
        g.queries++;
    }
    /* Each Q and each Sync earns one ReadyForQuery from the server. */
    if (type == 'Q' || type == 'S') {
        c->z_expected++;
    }
}

/* Splits the staged client bytes into messages, queues every byte that may
 * go to the server now and keeps the rest (an incomplete header, or a Q/P
 * message held whole until we know whether a fault drops it). */
static bool fe_process(struct conn *c, int64_t now)
{
    size_t pos = 0;
    bool drop_rest = false;
    while (pos < c->stage_len) {
        const unsigned char *s = c->stage + pos;
        size_t avail = c->stage_len - pos;
        if (c->fe_skip > 0) {
            size_t k = avail < c->fe_skip ? avail : c->fe_skip;
            pos += k;
            c->fe_skip -= k;
            continue;
        }
        if (c->fe == FE_OPAQUE) {
            pos = c->stage_len;
            break;
        }
        if (c->fe == FE_STARTUP) {
            if (avail < 8) {
                break;
            }
            uint32_t len = be32(s);
            uint32_t code = be32(s + 4);
            if (len < 8 || len > STARTUP_MAX) {
                /* Not PostgreSQL as we know it: relay blindly. */
                c->fe = FE_OPAQUE;
                continue;
            }
            if (code == PG_SSLREQUEST || code == PG_GSSENCREQUEST) {
                c->be_single++;
            } else if (code != PG_CANCELREQUEST) {
                c->fe = FE_NORMAL;
                c->z_expected++;
            }
            c->fe_skip = len;
            continue;
        }
        if (avail < 5) {
            break;
        }
        unsigned char type = s[0];
        uint32_t len = be32(s + 1);
        if (len < 4) {
            c->fe = FE_OPAQUE;
            continue;
        }
        size_t total = 1 + (size_t)len;
        bool hold = (type == 'Q' || type == 'P') && len - 4 <= HOLD_MAX && c->doom == DOOM_NONE;
        if (hold && avail < total) {
            break;
        }
        count_message(c, type);
        if (hold && fault_check(type, s + 5, len - 4)) {
            if (!g.fault.after) {
                doom(c, DOOM_BEFORE);
                drop_rest = true;
                break;
            }
            /* Keep parsing the rest of this read: its Syncs tell us how many
             * answers the server owes before we may close. */
            doom(c, DOOM_AFTER);
        }
        c->fe_skip = total;
    }
    if (c->doom == DOOM_AFTER) {
        pos = c->stage_len;
    }
    if (pos > 0 && !queue_push(&c->q[CLIENT], c->stage, pos, now + g.delay_ns)) {
        return false;
    }
    if (drop_rest) {
        c->stage_len = 0;
        c->fe_skip = 0;
    } else {
        memmove(c->stage, c->stage + pos, c->stage_len - pos);
        c->stage_len -= pos;
    }
    if (c->stage_len == 0 && c->stage_cap > 2 * READ_SIZE) {
        free(c->stage);
        c->stage = NULL;
        c->stage_cap = 0;
    }
    return true;
}

static bool client_data(struct conn *c, const unsigned char *p, size_t n, int64_t now)
{
    if (c->stage_len + n > c->stage_cap) {
        size_t cap = c->stage_cap ? c->stage_cap : READ_SIZE;
        while (cap < c->stage_len + n) {
            cap *= 2;
        }
        unsigned char *ns = realloc(c->stage, cap);
        if (ns == NULL) {
            return false;
        }
        c->stage = ns;
        c->stage_cap = cap;
    }
    memcpy(c->stage + c->stage_len, p, n);
    c->stage_len += n;
    return fe_process(c, now);
}

static void be_scan(struct conn *c, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !c->be_opaque) {
        if (c->be_skip > 0) {
            size_t k = n - i < c->be_skip ? n - i : c->be_skip;
            i += k;
            c->be_skip -= k;
            continue;
        }
        if (c->be_single > 0) {
            /* The one-byte answer to SSLRequest/GSSENCRequest; yes means
             * the rest of the connection is encrypted and opaque to us. */
            unsigned char b = p[i++];
            c->be_single--;
            if (b == 'S' || b == 'G') {
                c->be_opaque = true;
                c->fe = FE_OPAQUE;
            }
            continue;
        }
        c->be_hdr[c->be_hdr_len++] = p[i++];
        if (c->be_hdr_len < 5) {
            continue;
        }
        c->be_hdr_len = 0;
        uint32_t len = be32(c->be_hdr + 1);
        if (len < 4) {
            c->be_opaque = true;
            break;
        }
        if (c->be_hdr[0] == 'Z') {
            c->z_seen++;
        }
        c->be_skip = len - 4;
    }
}

/* One recv from one side.  Returns false when the connection must die. */
static bool conn_read(struct conn *c, int side)
{
    unsigned char buf[READ_SIZE];
    ssize_t n = recv(c->fd[side], buf, sizeof buf, 0);
    /* Taken per read: with many busy connections a time from before the
     * batch would shorten the delay of every chunk read late in it. */
    int64_t now = now_ns();
    if (n < 0) {
        return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
    }
    if (n == 0) {
        c->eof[side] = true;
        if (side == CLIENT && c->stage_len > 0 && c->doom == DOOM_NONE) {
            /* Nothing can complete a partial message now: pass it on as is,
             * so the server sees exactly what the client sent. */
            if (!queue_push(&c->q[CLIENT], c->stage, c->stage_len, now + g.delay_ns)) {
                return false;
            }
            c->stage_len = 0;
        }
        return true;
    }
    if (side == CLIENT) {
        if (c->server_spoke) {
            g.round_trips++;
            c->server_spoke = false;
        }
        return client_data(c, buf, (size_t)n, now);
    }
    c->server_spoke = true;
    be_scan(c, buf, (size_t)n);
    if (c->doom != DOOM_NONE) {
        return true;
    }
    return queue_push(&c->q[SERVER], buf, (size_t)n, now + g.delay_ns);
}

/* Writes every chunk of q[src] that is due.  Returns false on a write error. */
static bool conn_flush(struct conn *c, int src, int64_t now)
{
    int dst = 1 - src;
    struct queue *q = &c->q[src];
    if (c->blocked[dst] || (dst == SERVER && c->connecting)) {
        return true;
    }
    while (q->head != NULL && q->head->due <= now) {
        struct chunk *ch = q->head;
        ssize_t n = send(c->fd[dst], ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->blocked[dst] = true;
                return true;
            }
            return false;
        }
        ch->off += (size_t)n;
        q->bytes -= (size_t)n;
        if (ch->off == ch->len) {
            q->head = ch->next;
            if (q->head == NULL) {
                q->tail = NULL;
            }
            free(ch);
        }
    }
    /* Pass a half-close on only after everything before it went out. */
    if (q->head == NULL && c->eof[src] && !c->shut[dst] && c->doom == DOOM_NONE) {
        (void)shutdown(c->fd[dst], SHUT_WR);
        c->shut[dst] = true;
    }
    return true;
}

static void conn_service(struct conn *c, int64_t now)
{
    if (c->dead) {
        return;
    }
    if (!conn_flush(c, CLIENT, now) || !conn_flush(c, SERVER, now)) {
        c->dead = true;
        return;
    }
    if (c->doom != DOOM_NONE) {
        if (c->q[CLIENT].head != NULL || c->connecting) {
            return;
        }
        if (c->doom == DOOM_BEFORE || c->eof[SERVER] || c->be_opaque
            || c->z_seen >= c->z_expected) {
            c->dead = true;
        } else if (c->doom_deadline == 0) {
            c->doom_deadline = now + AFTER_GRACE_NS;
        } else if (now >= c->doom_deadline) {
            c->dead = true;
        }
        return;
    }
    if (c->eof[CLIENT] && c->eof[SERVER] && c->q[CLIENT].head == NULL
        && c->q[SERVER].head == NULL) {
        c->dead = true;
    }
}

static void finish_connect(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[SERVER], SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (err == EINPROGRESS || err == EALREADY) {
        return;
    }
    if (err != 0) {
        errno = err;
        warnmsg("upstream connect");
        c->dead = true;
        return;
    }
    c->connecting = false;
}

static void accept_conns(int64_t now)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(g.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* Out of descriptors or memory: the listener would stay
                 * readable, so back off instead of spinning. */
                warnmsg("accept");
                g.accept_resume = now + ACCEPT_BACKOFF_NS;
            }
            return;
        }
        set_nodelay(fd);
        if (conn_new(fd) == NULL) {
            close(fd);
        }
    }
}

/* ---- control ---- */

static void ctl_reply(struct ctl *k, const char *line)
{
    size_t n = strlen(line);
    if (k->out_len + n + 1 > sizeof k->out) {
        /* A client that never reads its replies is not worth buffering. */
        k->dead = true;
        return;
    }
    memcpy(k->out + k->out_len, line, n);
    k->out[k->out_len + n] = '\n';
    k->out_len += n + 1;
}

static void ctl_flush(struct ctl *k)
{
    while (k->out_len > 0 && !k->dead) {
        ssize_t n = send(k->fd, k->out, k->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                k->dead = true;
            }
            return;
        }
        memmove(k->out, k->out + n, k->out_len - (size_t)n);
        k->out_len -= (size_t)n;
    }
}

static bool parse_count(const char *s, unsigned long long *out)
{
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

static void ctl_arm(struct ctl *k, char **argv, int argc)
{
    if (argc < 3 || argc > 4) {
        ctl_reply(k, "err usage: arm before|after PATTERN [COUNT]");
        return;
    }
    bool after;
    if (strcmp(argv[1], "before") == 0) {
        after = false;
    } else if (strcmp(argv[1], "after") == 0) {
        after = true;
    } else {
        ctl_reply(k, "err when must be before or after");
        return;
    }
    const char *pat = argv[2];
    bool anchored = false;
    if (pat[0] == '^') {
        anchored = true;
        pat++;
    }
    size_t len = strlen(pat);
    if (len == 0 || len >= PATTERN_MAX) {
        ctl_reply(k, "err bad pattern");
        return;
    }
    unsigned long long skip = 0;
    if (argc == 4 && !parse_count(argv[3], &skip)) {
        ctl_reply(k, "err bad count");
        return;
    }
    g.fault.armed = true;
    g.fault.after = after;
    g.fault.anchored = anchored;
    g.fault.skip = skip;
    g.fault.len = len;
    for (size_t i = 0; i < len; i++) {
        g.fault.pat[i] = (char)toupper((unsigned char)pat[i]);
    }
    g.fault.pat[len] = '\0';
    ctl_reply(k, "ok");
}

static void ctl_command(struct ctl *k, char *line)
{
    char *argv[8];
    int argc = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r", &save); t != NULL; t = strtok_r(NULL, " \t\r", &save)) {
        if (argc == 8) {
            ctl_reply(k, "err too many words");
            return;
        }
        argv[argc++] = t;
    }
    if (argc == 0) {
        ctl_reply(k, "err empty command");
        return;
    }
    char buf[512];
    const char *cmd = argv[0];
    if (strcmp(cmd, "arm") == 0) {
        ctl_arm(k, argv, argc);
        return;
    }
    if (argc != 1) {
        ctl_reply(k, "err unexpected argument");
        return;
    }
    if (strcmp(cmd, "stats") == 0) {
        snprintf(buf, sizeof buf, "conns=%ld total_conns=%llu round_trips=%llu queries=%llu",
                 g.open_conns, g.total_conns, g.round_trips, g.queries);
        ctl_reply(k, buf);
    } else if (strcmp(cmd, "types") == 0) {
        size_t off = 0;
        buf[0] = '\0';
        for (int t = 0; t < 256; t++) {
            if (g.types[t] == 0) {
                continue;
            }
            int w;
            if (isgraph(t)) {
                w = snprintf(buf + off, sizeof buf - off, "%s%c=%llu", off ? " " : "", t, g.types[t]);
            } else {
                w = snprintf(buf + off, sizeof buf - off, "%s\\x%02x=%llu", off ? " " : "", t, g.types[t]);
            }
            if (w < 0 || (size_t)w >= sizeof buf - off) {
                break;
            }
            off += (size_t)w;
        }
        ctl_reply(k, off ? buf : "none");
    } else if (strcmp(cmd, "reset") == 0) {
        g.total_conns = 0;
        g.round_trips = 0;
        g.queries = 0;
        memset(g.types, 0, sizeof g.types);
        ctl_reply(k, "ok");
    } else if (strcmp(cmd, "disarm") == 0) {
        g.fault.armed = false;
        ctl_reply(k, "ok");
    } else if (strcmp(cmd, "kill") == 0) {
        /* Close the sockets now, so "ok" means gone; the structs are freed
         * at the next loop turn because the poll set still points at them. */
        for (struct conn *c = g.conns; c != NULL; c = c->next) {
            for (int s = 0; s < 2; s++) {
                if (c->fd[s] >= 0) {
                    close(c->fd[s]);
                    c->fd[s] = -1;
                }
            }
            c->dead = true;
        }
        ctl_reply(k, "ok");
    } else if (strcmp(cmd, "quit") == 0) {
        g.quit = true;
        ctl_reply(k, "ok");
    } else {
        ctl_reply(k, "err unknown command");
    }
}

static void ctl_read(struct ctl *k)
{
    char buf[4096];
    ssize_t n = recv(k->fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            k->dead = true;
        }
        return;
    }
    if (n == 0) {
        ctl_flush(k);
        k->dead = true;
        return;
    }
    for (ssize_t i = 0; i < n && !k->dead; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (k->discarding) {
                k->discarding = false;
                ctl_reply(k, "err line too long");
            } else {
                k->in[k->in_len] = '\0';
                ctl_command(k, k->in);
            }
            k->in_len = 0;
        } else if (!k->discarding) {
            if (k->in_len + 1 >= sizeof k->in) {
                k->discarding = true;
                k->in_len = 0;
            } else {
                k->in[k->in_len++] = ch;
            }
        }
    }
    ctl_flush(k);
}

static void accept_ctl(void)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(g.control_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        struct ctl *k = calloc(1, sizeof *k);
        if (k == NULL) {
            close(fd);
            return;
        }
        k->fd = fd;
        k->next = g.ctls;
        g.ctls = k;
    }
}

static void reap_ctls(bool all)
{
    struct ctl **pp = &g.ctls;
    while (*pp != NULL) {
        struct ctl *k = *pp;
        if (k->dead || all) {
            *pp = k->next;
            close(k->fd);
            free(k);
        } else {
            pp = &k->next;
        }
    }
}

/* ---- main loop ---- */

static bool poll_add(size_t *n, int fd, short events, struct pollref ref)
{
    if (*n == g.pcap) {
        size_t cap = g.pcap ? g.pcap * 2 : 64;
        struct pollfd *p = realloc(g.pfds, cap * sizeof *p);
        if (p == NULL) {
            return false;
        }
        g.pfds = p;
        struct pollref *r = realloc(g.refs, cap * sizeof *r);
        if (r == NULL) {
            return false;
        }
        g.refs = r;
        g.pcap = cap;
    }
    g.pfds[*n].fd = fd;
    g.pfds[*n].events = events;
    g.pfds[*n].revents = 0;
    g.refs[*n] = ref;
    (*n)++;
    return true;
}

static void earliest(int64_t *t, int64_t cand)
{
    if (*t == 0 || cand < *t) {
        *t = cand;
    }
}

/* Fills the poll set; *wake gets the earliest timer (0 for none). */
static bool build_poll(size_t *n, int64_t now, int64_t *wake)
{
    *n = 0;
    *wake = 0;
    if (g.accept_resume != 0 && now >= g.accept_resume) {
        g.accept_resume = 0;
    }
    if (g.accept_resume == 0) {
        if (!poll_add(n, g.listen_fd, POLLIN, (struct pollref){NULL, NULL, REF_LISTEN, 0})) {
            return false;
        }
    } else {
        earliest(wake, g.accept_resume);
    }
    if (g.control_fd >= 0
        && !poll_add(n, g.control_fd, POLLIN, (struct pollref){NULL, NULL, REF_CONTROL, 0})) {
        return false;
    }
    for (struct ctl *k = g.ctls; k != NULL; k = k->next) {
        short ev = POLLIN | (k->out_len > 0 ? POLLOUT : 0);
        if (!poll_add(n, k->fd, ev, (struct pollref){NULL, k, REF_CTL, 0})) {
            return false;
        }
    }
    for (struct conn *c = g.conns; c != NULL; c = c->next) {
        short ev[2] = {0, 0};
        if (!c->eof[CLIENT] && c->doom == DOOM_NONE
            && c->q[CLIENT].bytes + c->stage_len < PENDING_MAX) {
            ev[CLIENT] |= POLLIN;
        }
        if (c->connecting) {
            ev[SERVER] |= POLLOUT;
        } else if (!c->eof[SERVER] && (c->doom != DOOM_NONE || c->q[SERVER].bytes < PENDING_MAX)) {
            ev[SERVER] |= POLLIN;
        }
        for (int s = 0; s < 2; s++) {
            if (c->blocked[s]) {
                ev[s] |= POLLOUT;
            }
            struct queue *q = &c->q[1 - s];
            if (q->head != NULL && !c->blocked[s] && !(s == SERVER && c->connecting)) {
                earliest(wake, q->head->due);
            }
            /* An fd we want nothing from stays out of the set: a hung-up
             * socket would otherwise wake us forever with POLLHUP. */
            if (ev[s] != 0 && !poll_add(n, c->fd[s], ev[s], (struct pollref){c, NULL, REF_CONN, s})) {
                return false;
            }
        }
        if (c->doom_deadline != 0) {
            earliest(wake, c->doom_deadline);
        }
    }
    return true;
}

static void handle_events(size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        short re = g.pfds[i].revents;
        if (re == 0) {
            continue;
        }
        struct pollref *r = &g.refs[i];
        if (r->kind == REF_LISTEN) {
            accept_conns(now);
        } else if (r->kind == REF_CONTROL) {
            accept_ctl();
        } else if (r->kind == REF_CTL) {
            struct ctl *k = r->ctl;
            if (k->dead) {
                continue;
            }
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                ctl_read(k);
            }
            if (re & POLLOUT) {
                ctl_flush(k);
            }
            if (g.quit) {
                return;
            }
        } else {
            struct conn *c = r->conn;
            int s = r->side;
            if (c->dead) {
                continue;
            }
            short ev = g.pfds[i].events;
            if (s == SERVER && c->connecting) {
                finish_connect(c);
                continue;
            }
            if ((ev & POLLOUT) && (re & (POLLOUT | POLLERR | POLLHUP))) {
                c->blocked[s] = false;
            }
            if ((ev & POLLIN) && (re & (POLLIN | POLLERR | POLLHUP))) {
                if (!conn_read(c, s)) {
                    c->dead = true;
                }
            }
        }
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: pgproxy --upstream unix:PATH|tcp:HOST:PORT [--listen HOST:PORT]\n"
            "               [--control HOST:PORT] [--delay-us N]\n");
}

static void cleanup(void)
{
    for (struct conn *c = g.conns; c != NULL; c = c->next) {
        c->dead = true;
    }
    reap_conns();
    reap_ctls(true);
    if (g.listen_fd >= 0) {
        close(g.listen_fd);
    }
    if (g.control_fd >= 0) {
        close(g.control_fd);
    }
    free(g.pfds);
    free(g.refs);
}

int main(int argc, char **argv)
{
    const char *listen_spec = "127.0.0.1:0";
    const char *control_spec = NULL;
    const char *upstream_spec = NULL;
    g.listen_fd = -1;
    g.control_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--listen") == 0) {
            listen_spec = v;
        } else if (strcmp(a, "--control") == 0) {
            control_spec = v;
        } else if (strcmp(a, "--upstream") == 0) {
            if (upstream_spec != NULL) {
                fprintf(stderr, "pgproxy: only one --upstream\n");
                return 2;
            }
            upstream_spec = v;
        } else if (strcmp(a, "--delay-us") == 0) {
            unsigned long long us;
            if (!parse_count(v, &us) || us > 60ULL * 1000000) {
                fprintf(stderr, "pgproxy: bad --delay-us '%s'\n", v);
                return 2;
            }
            g.delay_ns = (int64_t)us * 1000;
        } else {
            usage();
            return 2;
        }
    }
    if (upstream_spec == NULL) {
        usage();
        return 2;
    }
    if (parse_upstream(upstream_spec, &g.up) != 0) {
        fprintf(stderr, "pgproxy: bad upstream '%s' (want unix:PATH or tcp:HOST:PORT)\n", upstream_spec);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Signals are only let in while ppoll waits, so a stop request can never
     * slip in between the flag check and the wait. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
#ifdef __linux__
    /* The default 50 us timer slack is a tenth of a 0.5 ms delay. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif

    g.listen_fd = open_listener(listen_spec);
    if (g.listen_fd < 0) {
        cleanup();
        return 1;
    }
    if (control_spec != NULL) {
        g.control_fd = open_listener(control_spec);
        if (g.control_fd < 0) {
            cleanup();
            return 1;
        }
    }
    printf("listen=%d control=%d\n", bound_port(g.listen_fd),
           g.control_fd >= 0 ? bound_port(g.control_fd) : 0);
    if (fflush(stdout) != 0) {
        cleanup();
        return 1;
    }

    int rc = 0;
    while (!g_stop && !g.quit) {
        int64_t now = now_ns();
        for (struct conn *c = g.conns; c != NULL; c = c->next) {
            conn_service(c, now);
        }
        reap_conns();
        reap_ctls(false);
        size_t n;
        int64_t wake;
        if (!build_poll(&n, now, &wake)) {
            fprintf(stderr, "pgproxy: out of memory\n");
            rc = 1;
            break;
        }
        struct timespec ts;
        struct timespec *tsp = NULL;
        if (wake != 0) {
            int64_t d = wake - now;
            if (d < 0) {
                d = 0;
            }
            ts.tv_sec = (time_t)(d / 1000000000);
            ts.tv_nsec = (long)(d % 1000000000);
            tsp = &ts;
        }
        int r = ppoll(g.pfds, (nfds_t)n, tsp, &waitmask);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            warnmsg("ppoll");
            rc = 1;
            break;
        }
        if (r > 0) {
            handle_events(n, now_ns());
        }
    }
    /* Let "quit" get its "ok" out before the socket closes. */
    for (struct ctl *k = g.ctls; k != NULL; k = k->next) {
        ctl_flush(k);
    }
    cleanup();
    return rc;
}
