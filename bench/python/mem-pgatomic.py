"""mem-pgatomic -- pgatomic-Python's memory: RSS per idle connection and
per open transaction (N connections, then an open block with one statement
on each: BEGIN has been sent), and RSS growth over many blocks on one
connection (``with atomic(): SELECT``), measured after a warm-up of a tenth
of them, halfway and at the end.  One JSON line; nothing asserted."""

import argparse
import contextlib
import gc
import json
import os

import pgatomic


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--blocks", type=int, default=100000)
    opts = ap.parse_args()
    dsn = "host=%s port=%s" % (os.environ.get("PGHOST", "/tmp"), os.environ.get("PGPORT", "5432"))
    n = opts.connections

    gc.collect()
    base = rss_kb()
    conns = [pgatomic.connect(dsn) for _ in range(n)]
    for c in conns:
        c.execute("SELECT 1").fetchone()
    gc.collect()
    idle = rss_kb()
    with contextlib.ExitStack() as stack:
        for c in conns:
            stack.enter_context(c.atomic())
            c.execute("SELECT 1").fetchone()
        gc.collect()
        in_txn = rss_kb()
    for c in conns:
        c.close()
    del conns
    out = {"client": "py-pgatomic", "connections": n,
           "rss_per_idle_connection_kb": round((idle - base) / n, 1),
           "rss_per_open_transaction_kb": round((in_txn - idle) / n, 1)}

    if opts.blocks > 0:
        conn = pgatomic.connect(dsn)
        warm = max(1, opts.blocks // 10)
        for i in range(warm):
            with conn.atomic():
                conn.execute("SELECT id, b FROM bench_accounts WHERE id = $1", (1 + i % 1000,)).fetchone()
        gc.collect()
        before = rss_kb()
        half = opts.blocks // 2
        mid = before
        for i in range(opts.blocks):
            if i == half:
                gc.collect()
                mid = rss_kb()
            with conn.atomic():
                conn.execute("SELECT id, b FROM bench_accounts WHERE id = $1", (1 + i % 1000,)).fetchone()
        gc.collect()
        after = rss_kb()
        conn.close()
        out.update({"blocks": opts.blocks, "rss_before_blocks_kb": before,
                    "rss_mid_blocks_kb": mid, "rss_after_blocks_kb": after,
                    "rss_growth_kb": after - before})
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
