"""stream -- reading a large result from Python, pgatomic beside psycopg,
in one run:

    scripts/pgtmp run -- python bench/python/stream.py [--rows 1000000]
        [--big-rows 10000000] [--repeat 3] [--clients a,b,...]

Each repetition runs each client in a fresh child process, taking turns
(so all see the same machine load).  A child connects, warms up with a
small query, then reads every row of one SELECT (touching each row) and
reports the wall time and its peak RSS growth (VmHWM after minus VmRSS
before).  Clients:

  pgatomic-stream     for row in conn.stream(sql)            (batches of 1000)
  pgatomic-execute    conn.execute(sql).rows                 (materialised)
  psycopg-stream      for row in cur.stream(sql)             (single-row mode)
  psycopg-fetchall    cur.execute(sql); cur.fetchall()       (materialised)
  psycopg-named       for row in conn.cursor("c"): ...       (DECLARE/FETCH, itersize 1000)

Then --big-rows rows through pgatomic-stream alone, for its peak RSS.
Prints a table and writes bench/results/stream.json.  No asserts: a timing
is a measurement, never a test (PROJECT.md)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The shape of bench/node/loop-delay.js's SELECT: an int, a text, a float
# and a timestamptz per row.
def sql(rows):
    return ("SELECT g AS id, 'name ' || g AS name, g * 1.5::float8 AS score, now() AS at"
            " FROM generate_series(1, %d) g" % rows)


# Beyond a few million rows a function scan's result is built whole on the
# server before the first row leaves (a tuplestore spilled to disk): a
# cross join of two small series produces its rows as they are sent.
def big_sql(rows):
    outer = max(1, rows // 10000)
    return ("SELECT a * 10000 + b AS id, 'name ' || b AS name, b * 1.5::float8 AS score,"
            " now() AS at FROM generate_series(0, %d) a, generate_series(1, 10000) b"
            % (outer - 1))


CLIENTS = ("pgatomic-stream", "pgatomic-execute", "psycopg-stream", "psycopg-fetchall",
           "psycopg-named")


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(client, query, expect):
    dsn = os.environ.get("DATABASE_URL") or ""
    if client.startswith("pgatomic"):
        import pgatomic
        conn = pgatomic.connect(dsn or None)
        conn.execute(sql(1000))
        if client == "pgatomic-stream":
            def read():
                n = 0
                for row in conn.stream(query, size=1000):
                    n += 1
                return n
        else:
            def read():
                n = 0
                for row in conn.execute(query).rows:
                    n += 1
                return n
        version = "pgatomic"
    else:
        import psycopg
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(sql(1000)).fetchall()
        if client == "psycopg-stream":
            def read():
                n = 0
                for row in conn.cursor().stream(query):
                    n += 1
                return n
        elif client == "psycopg-fetchall":
            def read():
                n = 0
                for row in conn.execute(query).fetchall():
                    n += 1
                return n
        else:
            def read():
                n = 0
                # A server-side cursor needs a transaction (or WITH HOLD).
                with conn.transaction():
                    with conn.cursor("bench_stream") as cur:
                        cur.itersize = 1000
                        cur.execute(query)
                        for row in cur:
                            n += 1
                return n
        version = "psycopg %s (%s)" % (psycopg.__version__, psycopg.pq.__impl__)
    base = status_kb("VmRSS")
    t0 = time.perf_counter()
    n = read()
    wall = time.perf_counter() - t0
    peak = status_kb("VmHWM")
    if n != expect:
        raise SystemExit("%s: %d rows, expected %d" % (client, n, expect))
    print(json.dumps({"client": client, "rows": n, "wall_s": wall,
                      "peak_rss_growth_mb": (peak - base) / 1024, "peak_rss_mb": peak / 1024,
                      "version": version}))


def run_child(client, query, rows):
    out = subprocess.run([sys.executable, __file__, "--child", client, query, str(rows)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--big-rows", type=int, default=10000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    opts = ap.parse_args()
    clients = [c for c in opts.clients.split(",") if c]
    load_start = os.getloadavg()[0]
    runs = []
    for i in range(opts.repeat):
        for client in clients:
            r = run_child(client, sql(opts.rows), opts.rows)
            runs.append(r)
            print("%-17s run %d: %6.2f s, peak RSS +%6.1f MB" % (client, i + 1, r["wall_s"],
                                                                 r["peak_rss_growth_mb"]),
                  flush=True)
    summary = {}
    for client in clients:
        mine = [r for r in runs if r["client"] == client]
        summary[client] = {"median_wall_s": statistics.median(r["wall_s"] for r in mine),
                           "median_peak_rss_growth_mb":
                               statistics.median(r["peak_rss_growth_mb"] for r in mine),
                           "version": mine[0]["version"]}
    big = None
    if opts.big_rows > 0:
        big = run_child("pgatomic-stream", big_sql(opts.big_rows), opts.big_rows)
        print("pgatomic-stream %d rows: %.1f s, peak RSS %.1f MB (+%.1f MB)"
              % (opts.big_rows, big["wall_s"], big["peak_rss_mb"], big["peak_rss_growth_mb"]))
    result = {"rows": opts.rows, "repeat": opts.repeat,
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0],
                          "loadavgStart": load_start, "loadavgEnd": os.getloadavg()[0]},
              "sql": sql(opts.rows), "big_sql": big_sql(opts.big_rows) if big else None,
              "summary": summary, "big": big, "runs": runs}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "stream.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
