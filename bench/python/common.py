"""The driver shared by the Python benchmark clients (the twin of
bench/c/common.h and bench/node/common.js; same options, same output).

A client calls ``main(name, make)``; ``make(opts)`` connects and returns a
dict mapping each shape to a function ``txn(i)`` that runs one transaction
of that shape, each statement's result awaited before the next.  Options:
--shape, --host/--port/--user/--dbname, --seconds N or --txns K, --warmup W,
--control PORT (the proxy: `reset` after the warm-up, `stats` at the end).
One JSON line out.  No asserts: an error ends the process with its traceback.
"""

import argparse
import json
import os
import resource
import socket
import time

SHAPES = ("insert", "transfer", "nested", "empty", "ten", "select")
N_ACCOUNTS = 1000

# The statements, as every client sends them (placeholders in the driver's
# own style where it has one).
SQL_INSERT = "INSERT INTO bench_items (v) VALUES ($1)"
SQL_DEBIT = "UPDATE bench_accounts SET b = b - $1 WHERE id = $2"
SQL_CREDIT = "UPDATE bench_accounts SET b = b + $1 WHERE id = $2"
SQL_SELECT = "SELECT id, b FROM bench_accounts WHERE id = $1"


def accounts(i):
    """The (from, to) accounts of transaction i."""
    return 1 + i % N_ACCOUNTS, 1 + (i + 1) % N_ACCOUNTS


def parse(shapes=SHAPES, extra=()):
    """The options; extra: more (flag, type, default), for a driver's own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True, choices=shapes)
    for flag, kind, default in extra:
        ap.add_argument(flag, type=kind, default=default)
    ap.add_argument("--host", default=os.environ.get("PGHOST", "/tmp"))
    ap.add_argument("--port", default=os.environ.get("PGPORT", "5432"))
    ap.add_argument("--user", default=os.environ.get("PGUSER", "postgres"))
    ap.add_argument("--dbname", default=os.environ.get("PGDATABASE", "postgres"))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--txns", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--control", type=int, default=0)
    opts = ap.parse_args()
    opts.conninfo = "host=%s port=%s user=%s dbname=%s" % (
        opts.host, opts.port, opts.user, opts.dbname)
    return opts


def control(port, cmd):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(cmd.encode() + b"\n")
        return s.makefile("r").readline().strip()


def stat_field(reply, key):
    for part in reply.split():
        k, _, v = part.partition("=")
        if k == key:
            return int(v)
    return -1


def peak_rss_kb():
    """Peak RSS of this process image (VmHWM).  Not getrusage's ru_maxrss,
    which on Linux carries over the parent's peak across fork and exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(name, make, shapes=SHAPES):
    opts = parse(shapes)
    txn = make(opts)[opts.shape]
    i = 0
    for _ in range(opts.warmup):
        txn(i)
        i += 1
    if opts.control:
        control(opts.control, "reset")
    done = 0
    clock = time.perf_counter
    t0 = t1 = clock()
    if opts.txns > 0:
        for _ in range(opts.txns):
            txn(i)
            i += 1
        done = opts.txns
        t1 = clock()
    else:
        # Read the clock after batches that double while a batch takes under
        # 1 ms (as the C and Node drivers do).
        until, prev, batch = t0 + opts.seconds, t0, 1
        while True:
            for _ in range(batch):
                txn(i)
                i += 1
            done += batch
            t1 = clock()
            if t1 >= until:
                break
            if t1 - prev < 0.001 and batch < 4096:
                batch *= 2
            prev = t1
    out = {"client": name, "shape": opts.shape,
           "tps": round(done / (t1 - t0), 1) if t1 > t0 else 0.0,
           "txns": done, "seconds": round(t1 - t0, 4),
           "maxrss_kb": peak_rss_kb()}
    if opts.control:
        rt = stat_field(control(opts.control, "stats"), "round_trips")
        out["round_trips"] = rt
        out["rt_per_txn"] = round(rt / done, 3) if done else 0.0
    print(json.dumps(out), flush=True)
