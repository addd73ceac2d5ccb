"""The driver shared by the asyncio benchmark clients (bench/python/aio-*.py;
the asyncio twin of common.py: same shapes, same output).

A client calls ``main(name, connect)``; ``connect(opts)`` is a coroutine
that opens one connection and returns a dict mapping each shape to a
coroutine function ``txn(i)`` running one transaction of that shape on it,
each statement awaited before the next.  --tasks N runs N tasks at once,
each on a connection of its own opened before the clock starts; the figure
is transactions per second summed over the tasks.  Options otherwise as
common.py's (--shape, --host/--port/--user/--dbname, --seconds or --txns,
--warmup, --control).  One JSON line out.
"""

import asyncio
import json
import time

from common import SHAPES, accounts, control, parse, peak_rss_kb, stat_field  # noqa: F401

__all__ = ["main", "accounts", "SHAPES"]


async def _run(name, connect, opts):
    txns = [(await connect(opts))[opts.shape] for _ in range(opts.tasks)]
    # Each task numbers its transactions apart, so transfers spread over
    # the accounts as in the one-task run.
    stride = 1_000_003

    async def warm(k, txn):
        for i in range(opts.warmup):
            await txn(k * stride + i)
    await asyncio.gather(*(warm(k, t) for k, t in enumerate(txns)))
    if opts.control:
        control(opts.control, "reset")
    counts = [0] * opts.tasks
    clock = time.perf_counter
    t0 = clock()
    until = t0 + opts.seconds

    async def task(k, txn):
        i = k * stride + opts.warmup
        if opts.txns > 0:
            for _ in range(opts.txns):
                await txn(i)
                i += 1
            counts[k] = opts.txns
            return
        n = 0
        while True:
            await txn(i)
            i += 1
            n += 1
            if n & 15 == 0 and clock() >= until:
                break
        counts[k] = n
    await asyncio.gather(*(task(k, t) for k, t in enumerate(txns)))
    t1 = clock()
    done = sum(counts)
    out = {"client": name, "shape": opts.shape, "tasks": opts.tasks,
           "tps": round(done / (t1 - t0), 1) if t1 > t0 else 0.0,
           "txns": done, "seconds": round(t1 - t0, 4), "maxrss_kb": peak_rss_kb()}
    if opts.control:
        rt = stat_field(control(opts.control, "stats"), "round_trips")
        out["round_trips"] = rt
        out["rt_per_txn"] = round(rt / done, 3) if done else 0.0
    return out


def main(name, connect):
    opts = parse(extra=[("--tasks", int, 1)])
    print(json.dumps(asyncio.run(_run(name, connect, opts))), flush=True)
