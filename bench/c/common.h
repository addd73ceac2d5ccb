/* common.h -- the driver shared by the C benchmark clients.
 *
 * A client defines its name, how it connects, and one function that runs
 * one transaction of a shape; bench_main() does the rest, exactly as
 * bench/python/common.py and bench/node/common.js do:
 *
 *   --shape S       insert | transfer | nested | empty | ten | select
 *   --host H --port P --user U --dbname D   where the server (or proxy) is
 *   --seconds N     run for N seconds after the warm-up (default 2) ...
 *   --txns K        ... or run exactly K transactions
 *   --warmup W      transactions run first and not counted (default 50)
 *   --control C     the proxy's control port: `reset` after the warm-up,
 *                   `stats` after the counted transactions, so round trips
 *                   per transaction exclude connection setup
 *
 * Output: one JSON line {"client","shape","tps","txns","seconds",
 * "maxrss_kb"[,"round_trips","rt_per_txn"]}.  The tables are made and
 * emptied by bench/harness.py before each run.  No asserts: a failing
 * statement is printed on stderr and the process exits 1.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum shape { SH_INSERT, SH_TRANSFER, SH_NESTED, SH_EMPTY, SH_TEN, SH_SELECT };

static const char *const shape_names[] = {"insert", "transfer", "nested",
                                          "empty", "ten", "select"};

/* The statements, identical in every client. */
#define SQL_INSERT "INSERT INTO bench_items (v) VALUES ($1)"
#define SQL_DEBIT "UPDATE bench_accounts SET b = b - $1 WHERE id = $2"
#define SQL_CREDIT "UPDATE bench_accounts SET b = b + $1 WHERE id = $2"
#define SQL_SELECT "SELECT id, b FROM bench_accounts WHERE id = $1"
#define N_ACCOUNTS 1000

struct bench_opts {
    int shape;
    const char *host, *port, *user, *dbname;
    double seconds;
    long txns;
    long warmup;
    int control;
    char conninfo[1024];
};

/* Defined by each client. */
static const char *client_name(void);
static void *client_connect(const struct bench_opts *o);
static void client_txn(void *ctx, int shape, long i);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die_usage(const char *why)
{
    fprintf(stderr, "%s: %s\n", client_name(), why);
    exit(2);
}

static void parse_opts(int argc, char **argv, struct bench_opts *o)
{
    const char *env_host = getenv("PGHOST"), *env_port = getenv("PGPORT");
    memset(o, 0, sizeof *o);
    o->shape = -1;
    o->host = env_host ? env_host : "/tmp";
    o->port = env_port ? env_port : "5432";
    o->user = getenv("PGUSER") ? getenv("PGUSER") : "postgres";
    o->dbname = getenv("PGDATABASE") ? getenv("PGDATABASE") : "postgres";
    o->seconds = 2.0;
    o->warmup = 50;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            die_usage("an option lacks its value");
        }
        if (!strcmp(a, "--shape")) {
            for (int s = 0; s < 6; s++) {
                if (!strcmp(v, shape_names[s])) {
                    o->shape = s;
                }
            }
        } else if (!strcmp(a, "--host")) {
            o->host = v;
        } else if (!strcmp(a, "--port")) {
            o->port = v;
        } else if (!strcmp(a, "--user")) {
            o->user = v;
        } else if (!strcmp(a, "--dbname")) {
            o->dbname = v;
        } else if (!strcmp(a, "--seconds")) {
            o->seconds = atof(v);
        } else if (!strcmp(a, "--txns")) {
            o->txns = atol(v);
        } else if (!strcmp(a, "--warmup")) {
            o->warmup = atol(v);
        } else if (!strcmp(a, "--control")) {
            o->control = atoi(v);
        } else {
            die_usage("unknown option");
        }
        i++;
    }
    if (o->shape < 0) {
        die_usage("--shape insert|transfer|nested|empty|ten|select is required");
    }
    snprintf(o->conninfo, sizeof o->conninfo, "host=%s port=%s user=%s dbname=%s",
             o->host, o->port, o->user, o->dbname);
}

/* One command on the proxy's control port; returns the reply line. */
static void control(int port, const char *cmd, char *reply, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        die_usage("cannot reach the proxy's control port");
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    if (write(fd, line, (size_t)n) != n) {
        die_usage("cannot write to the proxy's control port");
    }
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t r = read(fd, reply + got, cap - 1 - got);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        if (memchr(reply, '\n', got)) {
            break;
        }
    }
    reply[got] = '\0';
    close(fd);
}

/* Peak RSS of this process image in kB: VmHWM.  Not getrusage's ru_maxrss,
 * which on Linux carries over the parent's peak across fork and exec. */
static long peak_rss_kb(void)
{
    long kb = -1;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

static long long stat_field(const char *reply, const char *key)
{
    const char *p = strstr(reply, key);
    return p ? atoll(p + strlen(key)) : -1;
}

static int bench_main(int argc, char **argv)
{
    struct bench_opts o;
    parse_opts(argc, argv, &o);
    void *ctx = client_connect(&o);
    long i = 0;
    for (; i < o.warmup; i++) {
        client_txn(ctx, o.shape, i);
    }
    char reply[256] = "";
    if (o.control) {
        control(o.control, "reset", reply, sizeof reply);
    }
    long done = 0;
    double t0 = now_s(), t1 = t0;
    if (o.txns > 0) {
        for (; done < o.txns; done++, i++) {
            client_txn(ctx, o.shape, i);
        }
        t1 = now_s();
    } else {
        /* Read the clock after batches that double while a batch takes
         * under 1 ms: cheap for the empty shape, exact for slow ones. */
        double until = t0 + o.seconds, prev = t0;
        long batch = 1;
        for (;;) {
            for (long k = 0; k < batch; k++, done++, i++) {
                client_txn(ctx, o.shape, i);
            }
            t1 = now_s();
            if (t1 >= until) {
                break;
            }
            if (t1 - prev < 0.001 && batch < 4096) {
                batch *= 2;
            }
            prev = t1;
        }
    }
    if (o.control) {
        control(o.control, "stats", reply, sizeof reply);
    }
    double secs = t1 - t0;
    printf("{\"client\":\"%s\",\"shape\":\"%s\",\"tps\":%.1f,\"txns\":%ld,"
           "\"seconds\":%.4f,\"maxrss_kb\":%ld",
           client_name(), shape_names[o.shape], secs > 0 ? (double)done / secs : 0.0,
           done, secs, peak_rss_kb());
    if (o.control) {
        long long rt = stat_field(reply, "round_trips=");
        printf(",\"round_trips\":%lld,\"rt_per_txn\":%.3f", rt,
               done > 0 ? (double)rt / (double)done : 0.0);
    }
    printf("}\n");
    fflush(stdout);
    return 0;
}

#endif
