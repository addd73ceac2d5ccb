/* conn.c -- the session: open, close, socket, status, cancel, and the
 * per-connection error state.  Blocks live in atomic.c, batches in step.c. */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int64_t pga__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pga__now_ms(void)
{
    return pga__now_us() / 1000;
}

/* libpq prints NOTICE and WARNING to stderr by default; a library must not
 * write to its host's stderr ("there is no transaction in progress" after a
 * raw COMMIT, for one).  One notice matters: a FATAL read while idle is the
 * server closing the session (libpq passes unexpected errors here when no
 * query is running), and the socket may not show the end yet. */
static void on_notice(void *arg, const PGresult *res)
{
    pga_conn *conn = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != NULL && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0)) {
        conn->server_closing = 1;
    }
}

int pga_conn_new(pga_conn **out)
{
    pga_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        return PGA_ENOMEM;
    }
    conn->autocommit = 1;
    conn->next_sp = 1;
    conn->prepare_threshold = PGA__PREPARE_THRESHOLD;
    conn->busy_poll_us = PGA_BUSY_POLL_DEFAULT_US;
    conn->resend.cmd = -1;
    /* The setting for processes that cannot pass it in code: a pooler in
     * transaction mode (pgatomic.h, "Prepared statements"). */
    const char *threshold = getenv("PGA_PREPARE_THRESHOLD");
    if (threshold != NULL && threshold[0] >= '0' && threshold[0] <= '9') {
        conn->prepare_threshold = atoi(threshold);
    }
    /* Likewise for the spin (pgatomic.h, "Busy polling"). */
    const char *spin = getenv("PGA_BUSY_POLL_US");
    if (spin != NULL && spin[0] >= '0' && spin[0] <= '9') {
        long us = strtol(spin, NULL, 10);
        conn->busy_poll_us = us < PGA_BUSY_POLL_MAX_US ? (int)us : PGA_BUSY_POLL_MAX_US;
    }
    atomic_init(&conn->cancel_slot, -1);
    conn->cancel_seen = -1;
    for (int i = 0; i < 4; i++) {
        conn->draining[i] = -1;
    }
    *out = conn;
    return PGA_OK;
}

void pga__err_free(pga__error *e)
{
    for (int i = 0; i < PGA_DIAG__COUNT; i++) {
        free(e->diag[i]);
        e->diag[i] = NULL;
    }
}

void pga__err_clear(pga_conn *conn)
{
    pga__err_free(&conn->err);
    conn->err.rc = PGA_OK;
    conn->err.seq = 0;
    conn->err.msg[0] = '\0';
    conn->err.sqlstate[0] = '\0';
    conn->err.kind = PGA_KIND_DATABASE;
}

void pga__err_copy(pga__error *dst, const pga__error *src)
{
    pga__err_free(dst);
    dst->rc = src->rc;
    dst->seq = src->seq;
    memcpy(dst->msg, src->msg, sizeof(dst->msg));
    memcpy(dst->sqlstate, src->sqlstate, sizeof(dst->sqlstate));
    dst->kind = src->kind;
    for (int i = 0; i < PGA_DIAG__COUNT; i++) {
        /* A field lost to ENOMEM only thins the report; the code stands. */
        dst->diag[i] = src->diag[i] ? strdup(src->diag[i]) : NULL;
    }
}

int pga__err_set(pga_conn *conn, int rc, const char *fmt, ...)
{
    va_list ap;
    pga__err_clear(conn);
    conn->err.rc = rc;
    conn->err.seq = ++conn->err_seq;
    va_start(ap, fmt);
    vsnprintf(conn->err.msg, sizeof(conn->err.msg), fmt, ap);
    va_end(ap);
    return rc;
}

/* libpq's messages end with a newline meant for terminals. */
static void copy_trimmed(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' ')) {
        dst[--n] = '\0';
    }
}

void pga__err_fill(pga__error *e, const PGresult *res)
{
    static const int fields[PGA_DIAG__COUNT] = {
        [PGA_DIAG_MESSAGE_PRIMARY] = PG_DIAG_MESSAGE_PRIMARY,
        [PGA_DIAG_DETAIL] = PG_DIAG_MESSAGE_DETAIL,
        [PGA_DIAG_HINT] = PG_DIAG_MESSAGE_HINT,
        [PGA_DIAG_SCHEMA_NAME] = PG_DIAG_SCHEMA_NAME,
        [PGA_DIAG_TABLE_NAME] = PG_DIAG_TABLE_NAME,
        [PGA_DIAG_COLUMN_NAME] = PG_DIAG_COLUMN_NAME,
        [PGA_DIAG_CONSTRAINT_NAME] = PG_DIAG_CONSTRAINT_NAME,
        [PGA_DIAG_SEVERITY] = PG_DIAG_SEVERITY_NONLOCALIZED,
        [PGA_DIAG_STATEMENT_POSITION] = PG_DIAG_STATEMENT_POSITION,
        [PGA_DIAG_INTERNAL_POSITION] = PG_DIAG_INTERNAL_POSITION,
        [PGA_DIAG_INTERNAL_QUERY] = PG_DIAG_INTERNAL_QUERY,
        [PGA_DIAG_CONTEXT] = PG_DIAG_CONTEXT,
        [PGA_DIAG_DATATYPE_NAME] = PG_DIAG_DATATYPE_NAME,
        [PGA_DIAG_SOURCE_FILE] = PG_DIAG_SOURCE_FILE,
        [PGA_DIAG_SOURCE_LINE] = PG_DIAG_SOURCE_LINE,
        [PGA_DIAG_SOURCE_FUNCTION] = PG_DIAG_SOURCE_FUNCTION,
    };
    pga__err_free(e);
    e->rc = PGA_ESERVER;
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    copy_trimmed(e->msg, sizeof(e->msg), primary ? primary : PQresultErrorMessage(res));
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    e->sqlstate[0] = '\0';
    if (state != NULL) {
        snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state);
    }
    e->kind = pga_sqlstate_kind(state);
    for (int i = 0; i < PGA_DIAG__COUNT; i++) {
        const char *v = PQresultErrorField(res, fields[i]);
        e->diag[i] = v ? strdup(v) : NULL;
    }
}

int pga__err_server(pga_conn *conn, const PGresult *res)
{
    pga__err_fill(&conn->err, res);
    conn->err.seq = ++conn->err_seq;
    return PGA_ESERVER;
}

int pga__err_local(pga_conn *conn, const char *sqlstate, const char *msg)
{
    pga__err_set(conn, PGA_ESERVER, "%s", msg);
    snprintf(conn->err.sqlstate, sizeof(conn->err.sqlstate), "%s", sqlstate);
    conn->err.kind = pga_sqlstate_kind(sqlstate);
    /* As libpq would hand them over: a field lost to ENOMEM only thins
     * the report. */
    conn->err.diag[PGA_DIAG_MESSAGE_PRIMARY] = strdup(msg);
    conn->err.diag[PGA_DIAG_SEVERITY] = strdup("ERROR");
    return PGA_ESERVER;
}

int pga__err_lost(pga_conn *conn, int rc)
{
    char msg[PGA__MSG_MAX];
    copy_trimmed(msg, sizeof(msg), conn->pg ? PQerrorMessage(conn->pg) : "");
    if ((conn->err.rc == PGA_ESERVER || conn->timed_out) && conn->err.msg[0] != '\0') {
        /* The server said why it closed (57P01 terminate, 57P02 shutdown):
         * keep its words and code, report the loss. */
        conn->err.rc = rc;
        return rc;
    }
    return pga__err_set(conn, rc, "%s", msg[0] ? msg : "connection to the server was lost");
}

/* This process's id, without a system call: getpid() is one (glibc has not
 * cached it since 2.25), and the fork check below runs on every step and
 * state query (16 calls per Node insert transaction).  The cache is renewed
 * in every child of fork() by an atfork handler; if the handler could not
 * be registered, every call asks the kernel as before.  A child made by a
 * raw clone() that bypasses fork()'s handlers is not covered (neither
 * Python's os.fork nor multiprocessing does that). */
static pid_t self_pid;
static int self_pid_cached;
static pthread_once_t self_pid_once = PTHREAD_ONCE_INIT;

static void self_pid_renew(void)
{
    self_pid = getpid();
}

static void self_pid_init(void)
{
    self_pid = getpid();
    self_pid_cached = pthread_atfork(NULL, NULL, self_pid_renew) == 0;
}

pid_t pga__self_pid(void)
{
    pthread_once(&self_pid_once, self_pid_init);
    return self_pid_cached ? self_pid : getpid();
}

/* A child of fork() shares the parent's socket: to it the session is
 * never usable (one byte from the child would corrupt the parent's). */
int pga__conn_usable(const pga_conn *conn)
{
    return conn->pg != NULL && PQstatus(conn->pg) == CONNECTION_OK && !conn->server_closing
           && conn->pid == pga__self_pid();
}

int pga__fail(pga_conn *conn, int rc)
{
    return pga__err_set(conn, rc, "%s", pga_strerror(rc));
}

int pga__check_idle(pga_conn *conn)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE || conn->batch_open || pga__stream_busy(conn)) {
        return pga__fail(conn, PGA_EBUSY);
    }
    return PGA_OK;
}

int pga__check_session(pga_conn *conn)
{
    if (conn->pg == NULL) {
        return pga__fail(conn, PGA_ECLOSED);
    }
    if (!pga__conn_usable(conn)) {
        return pga__err_set(conn, PGA_ECONN, "%s", "connection to the server was lost");
    }
    return PGA_OK;
}

static int is_sqlstate_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

/* libpq keeps no result for a refused connection, only its text, so the
 * connect runs with verbose errors ("FATAL:  3D000: database ... does not
 * exist" plus a LOCATION line).  Take the last such code out of msg into
 * sqlstate, and delete every code and LOCATION line, which leaves libpq's
 * usual wording. */
static void take_connect_sqlstate(char *msg, char sqlstate[6])
{
    sqlstate[0] = '\0';
    char *p = msg;
    while ((p = strstr(p, ":  ")) != NULL) {
        char *code = p + 3;
        int n = 0;
        while (n < 5 && is_sqlstate_char(code[n])) {
            n++;
        }
        if (n == 5 && code[5] == ':' && code[6] == ' ') {
            memcpy(sqlstate, code, 5);
            sqlstate[5] = '\0';
            memmove(code, code + 7, strlen(code + 7) + 1);
        }
        p = code;
    }
    while ((p = strstr(msg, "LOCATION:  ")) != NULL && (p == msg || p[-1] == '\n')) {
        char *end = strchr(p, '\n');
        if (end == NULL) {
            *p = '\0';
        }
        else {
            memmove(p, end + 1, strlen(end + 1) + 1);
        }
    }
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        msg[--len] = '\0';
    }
}

/* Append why the host being tried failed; libpq's own multi-host message
 * is one line per host, and so is ours. */
static void note_host_failure(pga_conn *conn, const char *why)
{
    char msg[PGA__MSG_MAX];
    copy_trimmed(msg, sizeof(msg), why);
    size_t old = conn->connect_errors ? strlen(conn->connect_errors) : 0;
    char *grown = realloc(conn->connect_errors, old + strlen(msg) + 2);
    if (grown == NULL) {
        return;     /* the report thins; the failure still stands */
    }
    snprintf(grown + old, strlen(msg) + 2, "%s%s", old ? "\n" : "", msg);
    conn->connect_errors = grown;
}

static void forget_hosts(pga_conn *conn)
{
    free(conn->host_list);
    free(conn->hostaddr_list);
    free(conn->port_list);
    free(conn->connect_errors);
    conn->host_list = conn->hostaddr_list = conn->port_list = conn->connect_errors = NULL;
    conn->host_count = conn->host_index = 0;
}

static int connect_failed(pga_conn *conn)
{
    char msg[PGA__MSG_MAX];
    char sqlstate[6];
    copy_trimmed(msg, sizeof(msg),
                 conn->connect_errors ? conn->connect_errors
                 : conn->pg ? PQerrorMessage(conn->pg) : "could not allocate a connection");
    take_connect_sqlstate(msg, sqlstate);
    pga__redact(msg, conn->conninfo);
    if (conn->pg != NULL) {
        PQfinish(conn->pg);
        conn->pg = NULL;
    }
    forget_hosts(conn);
    conn->deadline = 0;
    conn->op = PGA__OP_NONE;
    pga__err_set(conn, PGA_ECONN, "%s", msg);
    if (sqlstate[0] != '\0') {
        memcpy(conn->err.sqlstate, sqlstate, sizeof(sqlstate));
        conn->err.kind = pga_sqlstate_kind(sqlstate);
    }
    return PGA_ECONN;
}

/* In a child of fork() the socket is the parent's too: PQfinish() would
 * send Terminate (and TLS its close_notify) on the parent's session.  The
 * child's descriptor is pointed at /dev/null first, so whatever libpq
 * writes while closing goes nowhere and only the child's copy closes. */
static void disown_socket(pga_conn *conn)
{
    int fd = PQsocket(conn->pg);
    int null_fd = fd >= 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    if (null_fd >= 0 && dup2(null_fd, fd) >= 0) {
        close(null_fd);
        PQfinish(conn->pg);
    }
    else if (null_fd >= 0) {
        close(null_fd);
    }
    /* else: without /dev/null the PGconn is left unfreed, which is safer
     * than writing to the parent's session. */
    conn->pg = NULL;
}

static void session_forget(pga_conn *conn)
{
    if (conn->cancel != NULL) {
        PQfreeCancel(conn->cancel);
        conn->cancel = NULL;
    }
    pga__cancel_abandon(conn);
    if (conn->pg != NULL && conn->pid != pga__self_pid()) {
        disown_socket(conn);
    }
    if (conn->pg != NULL) {
        PQfinish(conn->pg);
        conn->pg = NULL;
    }
    pga__batch_reset(conn);
    memset(&conn->cancel_key, 0, sizeof(conn->cancel_key));
    conn->deadline = 0;
    conn->timed_out = 0;
    conn->op = PGA__OP_NONE;
    pga__stmts_reset(conn);     /* the next session has none of them */
}

/* The i-th item of a comma-separated list (libpq's host, hostaddr and
 * port syntax); a one-item list applies to every host. */
static void list_item(const char *list, int i, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (list == NULL) {
        return;
    }
    int n = 0;
    for (const char *p = list; *p != '\0'; p++) {
        n += *p == ',';
    }
    if (n == 0) {
        snprintf(buf, cap, "%s", list);
        return;
    }
    const char *p = list;
    for (int k = 0; k < i && p != NULL; k++) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (p == NULL) {
        return;
    }
    size_t len = strcspn(p, ",");
    snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
}

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/* The settings a connect needs from the string (or libpq's environment
 * defaults): the host lists, connect_timeout, and whether the user chose
 * keepalive settings.  Returns PGA_OK or PGA_ENOMEM. */
static int read_settings(pga_conn *conn)
{
    const char *host = NULL, *hostaddr = NULL, *port = NULL, *timeout = NULL;
    PQconninfoOption *opts = NULL;
    int user_keepalives = 0;
    if (conn->conninfo != NULL && conn->conninfo[0] != '\0') {
        opts = PQconninfoParse(conn->conninfo, NULL);
    }
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        if (o->val == NULL) {
            continue;
        }
        if (strcmp(o->keyword, "host") == 0) {
            host = o->val;
        }
        else if (strcmp(o->keyword, "hostaddr") == 0) {
            hostaddr = o->val;
        }
        else if (strcmp(o->keyword, "port") == 0) {
            port = o->val;
        }
        else if (strcmp(o->keyword, "connect_timeout") == 0) {
            timeout = o->val;
        }
        else if (strncmp(o->keyword, "keepalives", 10) == 0) {
            user_keepalives = 1;
        }
    }
    host = host ? host : getenv("PGHOST");
    hostaddr = hostaddr ? hostaddr : getenv("PGHOSTADDR");
    port = port ? port : getenv("PGPORT");
    timeout = timeout ? timeout : getenv("PGCONNECT_TIMEOUT");
    forget_hosts(conn);
    conn->user_keepalives = user_keepalives;
    conn->host_list = dup_or_null(host);
    conn->hostaddr_list = dup_or_null(hostaddr);
    conn->port_list = dup_or_null(port);
    int ok = (host == NULL || host[0] == '\0' || conn->host_list != NULL)
             && (hostaddr == NULL || hostaddr[0] == '\0' || conn->hostaddr_list != NULL)
             && (port == NULL || port[0] == '\0' || conn->port_list != NULL);
    const char *hosts = conn->host_list ? conn->host_list : conn->hostaddr_list;
    conn->host_count = 1;
    for (const char *p = hosts; p != NULL && *p != '\0'; p++) {
        conn->host_count += *p == ',';
    }
    /* libpq: an integer number of seconds; 0, negative or junk: none.
     * libpq's blocking connect raises 1 to 2; ours keeps what was asked. */
    long secs = timeout != NULL ? strtol(timeout, NULL, 10) : 0;
    conn->connect_timeout_ms = secs > 0 && secs < INT32_MAX / 1000 ? (int)secs * 1000 : 0;
    PQconninfoFree(opts);
    return ok ? PGA_OK : PGA_ENOMEM;
}

/* Start connecting to host number conn->host_index.  libpq walks a host
 * list by itself only in its blocking connect, which is also the only one
 * that honours connect_timeout; so the core hands it one host at a time
 * and keeps the deadline itself. */
static int start_attempt(pga_conn *conn)
{
    char host[256], hostaddr[256], port[64];
    const char *keys[64], *vals[64];
    int n = 0, expand = 1;
    PQconninfoOption *opts = NULL;
    if (conn->host_count > 1 && conn->conninfo != NULL && conn->conninfo[0] != '\0') {
        opts = PQconninfoParse(conn->conninfo, NULL);
    }
    if (opts != NULL) {
        /* One host of the list: the string's settings spelled out, but its
         * host, hostaddr and port lists, which an empty override could not
         * clear (libpq skips empty values). */
        expand = 0;
        for (PQconninfoOption *o = opts; o->keyword != NULL && n < 48; o++) {
            if (o->val != NULL && o->val[0] != '\0' && strcmp(o->keyword, "host") != 0
                && strcmp(o->keyword, "hostaddr") != 0 && strcmp(o->keyword, "port") != 0) {
                keys[n] = o->keyword, vals[n++] = o->val;
            }
        }
    }
    else {
        /* expand_dbname=1: the string may be a URI or key=value list;
         * later keywords override the expanded string's. */
        keys[n] = "dbname", vals[n++] = conn->conninfo ? conn->conninfo : "";
    }
    keys[n] = "fallback_application_name", vals[n++] = "pgatomic";
    keys[n] = "client_encoding", vals[n++] = "UTF8";
    if (!conn->user_keepalives) {
        /* libpq turns keepalives on but leaves the kernel's timings (two
         * hours of silence before the first probe): a peer that vanished
         * is noticed after about 60 + 3 * 10 s of silence instead. */
        keys[n] = "keepalives_idle", vals[n++] = "60";
        keys[n] = "keepalives_interval", vals[n++] = "10";
        keys[n] = "keepalives_count", vals[n++] = "3";
    }
    if (conn->host_count > 1) {
        list_item(conn->host_list, conn->host_index, host, sizeof(host));
        list_item(conn->hostaddr_list, conn->host_index, hostaddr, sizeof(hostaddr));
        list_item(conn->port_list, conn->host_index, port, sizeof(port));
        keys[n] = "host", vals[n++] = host;
        keys[n] = "hostaddr", vals[n++] = hostaddr;
        keys[n] = "port", vals[n++] = port;
    }
    keys[n] = NULL, vals[n] = NULL;
    conn->pg = PQconnectStartParams(keys, vals, expand);
    PQconninfoFree(opts);
    conn->deadline = conn->connect_timeout_ms > 0 ? pga__now_ms() + conn->connect_timeout_ms : 0;
    if (conn->pg == NULL || PQstatus(conn->pg) == CONNECTION_BAD) {
        return PGA_ECONN;
    }
    PQsetNoticeReceiver(conn->pg, on_notice, conn);
    /* Until the session is open: see take_connect_sqlstate(). */
    PQsetErrorVerbosity(conn->pg, PQERRORS_VERBOSE);
    return PGA_OK;
}

/* The host being tried failed (why: libpq's message, or NULL to take it
 * from libpq): try the next one, or report them all. */
static int next_host(pga_conn *conn, const char *why)
{
    for (;;) {
        if (conn->host_count <= 1) {
            if (why != NULL) {
                note_host_failure(conn, why);
            }
            return connect_failed(conn);
        }
        note_host_failure(conn, why ? why
                                    : conn->pg ? PQerrorMessage(conn->pg)
                                               : "could not allocate a connection");
        why = NULL;
        if (conn->pg != NULL) {
            /* Not yet connected: libpq sends nothing while closing. */
            PQfinish(conn->pg);
            conn->pg = NULL;
        }
        if (++conn->host_index >= conn->host_count) {
            return connect_failed(conn);
        }
        if (start_attempt(conn) == PGA_OK) {
            return PGA_WANT_WRITE;
        }
    }
}

int pga_conn_connect_start(pga_conn *conn, const char *conninfo)
{
    pga__err_clear(conn);
    if (conn->op != PGA__OP_NONE) {
        return pga__err_set(conn, PGA_EBUSY, "%s", pga_strerror(PGA_EBUSY));
    }
    if (conn->depth > 0) {
        return pga__err_set(conn, PGA_EINATOMIC, "%s", pga_strerror(PGA_EINATOMIC));
    }
    if (conninfo != NULL) {
        char *copy = strdup(conninfo);
        if (copy == NULL) {
            return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
        free(conn->conninfo);
        conn->conninfo = copy;
    }
    session_forget(conn);
    conn->server_closing = 0;
    /* No block is open (checked above): whatever the old session owed or
     * held ends with it, and its hooks are dropped. */
    pga__txn_over(conn, PGA_HOOK_DROP, 0);
    conn->round_trips = 0;
    conn->pid = pga__self_pid();

    if (read_settings(conn) != PGA_OK) {
        forget_hosts(conn);
        return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
    }
    /* Nothing beyond the user's own settings goes into the startup packet
     * (PgBouncer refuses startup parameters it does not know, options
     * among them): the session's DateStyle and IntervalStyle are whatever
     * the server, the role or the user chose, and results are read in
     * the style the server reports (canonical.c). */
    conn->op = PGA__OP_CONNECT;
    if (start_attempt(conn) != PGA_OK) {
        int rc = next_host(conn, NULL);
        return rc > 0 ? PGA_OK : rc;
    }
    return PGA_OK;
}

/* One step of PQconnectPoll; called by pga_conn_step(). */
int pga__connect_step(pga_conn *conn)
{
    switch (PQconnectPoll(conn->pg)) {
    case PGRES_POLLING_READING:
        return PGA_WANT_READ;
    case PGRES_POLLING_WRITING:
        return PGA_WANT_WRITE;
    case PGRES_POLLING_OK:
        break;
    default:
        return next_host(conn, NULL);
    }
    if (PQsetnonblocking(conn->pg, 1) != 0) {
        return next_host(conn, NULL);
    }
    PQsetErrorVerbosity(conn->pg, PQERRORS_DEFAULT);
    conn->cancel = PQgetCancel(conn->pg);
    pga__cancel_key_capture(conn);
    /* Whether this session may prepare is learnt from pg_backend_pid()
     * when a statement first becomes due (prepare.c); a session without a
     * backend key (some poolers send none) never does. */
    conn->pid_state = PQbackendPID(conn->pg) > 0 ? PGA__PID_UNKNOWN : PGA__PID_MISMATCH;
    forget_hosts(conn);
    conn->deadline = 0;
    conn->op = PGA__OP_NONE;
    return PGA_OK;
}

/* connect_timeout ran out for the host being tried. */
int pga__connect_deadline(pga_conn *conn)
{
    char why[128];
    snprintf(why, sizeof(why), "connection to server timed out after %d ms (connect_timeout)",
             conn->connect_timeout_ms);
    return next_host(conn, why);
}

int pga_conn_connect(pga_conn *conn, const char *conninfo)
{
    int rc = pga_conn_connect_start(conn, conninfo);
    if (rc != PGA_OK) {
        return rc;
    }
    do {
        rc = pga_conn_wait(conn, -1);
    } while (rc > 0);
    return rc;
}

void pga_conn_close(pga_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    session_forget(conn);
    /* Closing abandons the transaction: the server rolls it back.  Blocks
     * left open are not broken: statements in them report PGA_ECLOSED. */
    pga__txn_over(conn, PGA_HOOK_DROP, 0);
}

void pga_conn_free(pga_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    session_forget(conn);
    pga__cancel_close_all(conn);
    forget_hosts(conn);
    pga__hooks_destroy_all(conn);
    pga__notify_free_all(conn);
    pga__err_free(&conn->err);
    pga__err_free(&conn->cause);
    free(conn->conninfo);
    free(conn->outcomes);
    free(conn->cmds);
    free(conn->text);
    free(conn->blocks);
    free(conn->pending);
    free(conn->sps);
    free(conn->hooks);
    free(conn->ready);
    free(conn->parked);
    pga__err_free(&conn->abort_cause);
    pga__err_free(&conn->outcome_cause);
    pga__stmts_free(conn);
    free(conn);
}

int pga_conn_is_open(const pga_conn *conn)
{
    return pga__conn_usable(conn);
}

/* A server ending a session sends a FATAL and closes; libpq learns it only
 * when it next reads.  One read returns the message without looking for
 * the end of the stream behind it, so read while the socket stays
 * readable: a few times at most, so a server sending NOTIFYs cannot keep
 * us here.  Only with nothing in flight, so no result is consumed early. */
void pga__read_idle(pga_conn *conn)
{
    for (int i = 0; i < 4 && pga__conn_usable(conn) && conn->op == PGA__OP_NONE
                    && !conn->batch_open && !pga__stream_busy(conn) && !PQisBusy(conn->pg);
         i++) {
        if (pga__poll(PQsocket(conn->pg), PGA_WANT_READ, 0) == 0 || !PQconsumeInput(conn->pg)) {
            break;
        }
        pga__notify_collect(conn);
    }
}

int pga_conn_probe(pga_conn *conn)
{
    pga__read_idle(conn);
    return pga__conn_usable(conn);
}

int pga_conn_socket(const pga_conn *conn)
{
    return conn->pg ? PQsocket(conn->pg) : -1;
}

char pga_conn_txn_status(const pga_conn *conn)
{
    if (conn->pg == NULL) {
        return 'U';
    }
    switch (PQtransactionStatus(conn->pg)) {
    case PQTRANS_IDLE:
        return 'I';
    case PQTRANS_INTRANS:
        return 'T';
    case PQTRANS_INERROR:
        return 'E';
    case PQTRANS_ACTIVE:
        return 'A';
    default:
        return 'U';
    }
}

char pga_conn_txn_state(const pga_conn *conn)
{
    char server = pga_conn_txn_status(conn);
    int open = conn->depth > 0 || conn->sql_txn || (!conn->autocommit && conn->txn_begun);
    if (!open || server == 'U' || server == 'A') {
        return server;  /* 'T' or 'E' here: a transaction the engine did not open */
    }
    /* The server may still say 'E' while the ROLLBACK TO that mends it is
     * owed, or 'I' while the BEGIN is: the engine knows what it will be. */
    if (conn->txn_aborted || (conn->depth > 0 && pga_atomic_get_rollback(conn) == 1)) {
        return 'E';
    }
    return 'T';
}

void *pga_conn_pgconn(const pga_conn *conn)
{
    return conn->pg;
}

uint64_t pga_conn_round_trips(const pga_conn *conn)
{
    return conn->round_trips;
}

const char *pga_conn_errmsg(const pga_conn *conn)
{
    return conn->err.msg;
}

const char *pga_conn_sqlstate(const pga_conn *conn)
{
    return conn->err.sqlstate[0] ? conn->err.sqlstate : NULL;
}

int pga_conn_error_kind(const pga_conn *conn)
{
    return conn->err.kind;
}

const char *pga_conn_diag(const pga_conn *conn, int field)
{
    if (field < 0 || field >= PGA_DIAG__COUNT) {
        return NULL;
    }
    return conn->err.diag[field];
}

int pga_conn_has_cause(const pga_conn *conn)
{
    return conn->err.rc == PGA_EBROKEN && conn->has_cause;
}

uint64_t pga_conn_error_seq(const pga_conn *conn)
{
    return conn->err.seq;
}

int pga_conn_error_facts(const pga_conn *conn, int rc)
{
    if (rc >= 0 || conn->err.rc != rc) {
        return PGA_FACTS_NONE;
    }
    /* These report a failure of their own whose reason is another error:
     * the one that broke the block (a lost session's too), or the one that
     * aborted the transaction. */
    if (rc == PGA_EBROKEN) {
        /* A statement a failure skipped outside any block (a manual
         * transaction's batch or flight) carries that failure too. */
        return (conn->has_cause || conn->err.sqlstate[0] != '\0') ? PGA_FACTS_CAUSE
                                                                : PGA_FACTS_NONE;
    }
    if (conn->err.sqlstate[0] == '\0') {
        return PGA_FACTS_NONE;
    }
    return rc == PGA_EROLLEDBACK ? PGA_FACTS_CAUSE : PGA_FACTS_OWN;
}
