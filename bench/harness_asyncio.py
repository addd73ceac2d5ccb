"""bench/harness_asyncio.py -- the asyncio mode of the benchmark
(`bash bench/run.sh asyncio`): pgatomic's asyncio API beside asyncpg and
psycopg's AsyncConnection, clients bench/python/aio-*.py.  Started inside
`scripts/pgtmp run` by bench/run.sh; writes bench/results/asyncio.json.

Per (client, shape, tasks), each run a fresh client process holding one
connection per task:
  socket  tps over the unix socket for BENCH_SECONDS, BENCH_REPEAT times,
          the clients of a cell taking turns (the median counts);
  delay   tps through the proxy adding BENCH_DELAY_US each way;
  rt      round trips per transaction through the counting proxy (one task).
Tasks: BENCH_TASKS (default "1,16").  Nothing is asserted.
"""

import json
import os
import subprocess
import time

import harness
from harness import (DELAY_SECONDS, DELAY_US, PY, REPEAT, RESULTS, RT_TXNS, SECONDS,
                     SOCKET_WARMUP, Proxy, available, chosen, log, machine, median_run, open_run,
                     reset_tables, run_client)

CLIENTS = ["aio-pgatomic", "aio-asyncpg", "aio-psycopg"]
SHAPES = ["insert", "transfer", "nested", "empty"]
TASKS = [int(t) for t in os.environ.get("BENCH_TASKS", "1,16").split(",") if t]


def main():
    clients = chosen("BENCH_CLIENTS", CLIENTS)
    shapes = chosen("BENCH_SHAPES", SHAPES)
    host, port, upstream, db = open_run()
    info = machine(db)
    try:
        info["python_peers"]["asyncpg"] = subprocess.run(
            [PY, "-c", "import asyncpg; print(asyncpg.__version__)"],
            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    skipped = {c: why for c in clients if (why := available(c))}
    for c, why in skipped.items():
        log("skipping %s: %s" % (c, why))
    runnable = [c for c in clients if c not in skipped]

    plain = Proxy(upstream, 0)
    slow = Proxy(upstream, DELAY_US)
    started = time.time()
    cells = []
    try:
        for shape in shapes:
            for tasks in TASKS:
                common = ["--shape", shape, "--tasks", str(tasks)]
                socket_runs = {c: [] for c in runnable}
                for _ in range(REPEAT):
                    for client in runnable:
                        reset_tables(db)
                        socket_runs[client].append(run_client(client, common + [
                            "--host", host, "--port", port, "--seconds", str(SECONDS),
                            "--warmup", str(SOCKET_WARMUP)], timeout=int(SECONDS * 5 + 60)))
                for client in runnable:
                    cell = {"client": client, "shape": shape, "tasks": tasks,
                            "socket": median_run(socket_runs[client])}
                    if tasks == 1:
                        reset_tables(db)
                        cell["rt"] = run_client(client, common + [
                            "--host", "127.0.0.1", "--port", str(plain.port),
                            "--txns", str(RT_TXNS), "--warmup", "20",
                            "--control", str(plain.control)], timeout=120)
                    reset_tables(db)
                    cell["delay"] = run_client(client, common + [
                        "--host", "127.0.0.1", "--port", str(slow.port),
                        "--seconds", str(DELAY_SECONDS), "--warmup", "10"],
                        timeout=int(DELAY_SECONDS * 5 + 60))
                    cells.append(cell)
                    s, d = cell["socket"], cell["delay"]
                    r = cell.get("rt", {})
                    log("%-13s %-8s tasks %2d  tps %9s  rt/txn %6s  tps@%dus %8s" % (
                        client, shape, tasks, s.get("tps", "ERR"), r.get("rt_per_txn", "-"),
                        DELAY_US, d.get("tps", "ERR")))
                    for mode in ("socket", "rt", "delay"):
                        if "error" in cell.get(mode, {}):
                            log("  %s %s %s: %s" % (client, shape, mode, cell[mode]["error"]))
    finally:
        plain.stop()
        slow.stop()
    db.close()
    info["loadavg_end"] = harness.sh("cat /proc/loadavg")
    results = {
        "machine": info,
        "config": {"seconds": SECONDS, "repeat": REPEAT, "delay_seconds": DELAY_SECONDS,
                   "delay_us": DELAY_US, "rt_txns": RT_TXNS, "socket_warmup": SOCKET_WARMUP,
                   "tasks": TASKS, "proxy": plain.kind,
                   "elapsed_s": round(time.time() - started, 1)},
        "shapes": shapes, "clients": clients, "skipped": skipped, "cells": cells,
    }
    with open(os.path.join(RESULTS, "asyncio.json"), "w") as f:
        json.dump(results, f, indent=1)
    log("wrote bench/results/asyncio.json (%.0f s)" % (time.time() - started))


if __name__ == "__main__":
    main()
