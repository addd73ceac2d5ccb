"""bench/report_asyncio.py -- turns bench/results/asyncio.json (from
bench/harness_asyncio.py) into docs/benchmarks-asyncio.md.  Run by
`bash bench/run.sh asyncio`; can be re-run on its own.  Every verdict is
computed here from the run's numbers."""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results", "asyncio.json")
DOC = os.path.join(ROOT, "docs", "benchmarks-asyncio.md")

OURS, PEER = "aio-pgatomic", "aio-asyncpg"
TARGET_SHAPES = ["insert", "transfer", "nested"]
RT_TARGET = {"insert": 2, "transfer": 3, "nested": 3, "empty": 0}
HOW_USED = {
    "aio-pgatomic": "`await pgatomic.connect_async()` per task, `async with conn.atomic():` "
                    "(nested: a savepoint), `await conn.execute(sql, params)`",
    "aio-asyncpg": "`await asyncpg.connect()` per task, `async with conn.transaction():` "
                   "(nested: a savepoint), `await conn.execute(sql, *args)`",
    "aio-psycopg": "psycopg 3 `AsyncConnection` (`psycopg[binary]`), autocommit, one per task, "
                   "`async with conn.transaction():` nested, `await conn.execute`",
}


def tps(cell, mode):
    v = cell.get(mode, {})
    return v.get("tps")


def fmt(v):
    return "n/a" if v is None else "{:,.0f}".format(v)


def ratio(a, b):
    return None if a is None or not b else a / b


def main():
    with open(RESULTS) as f:
        res = json.load(f)
    cells = {(c["client"], c["shape"], c["tasks"]): c for c in res["cells"]}
    cfg, m = res["config"], res["machine"]
    tasks = cfg["tasks"]
    clients = [c for c in res["clients"] if c not in res["skipped"]]
    lines = [
        "# Benchmarks: asyncio",
        "",
        "Written by `bash bench/run.sh asyncio` from one run on the machine below "
        "(`bench/results/asyncio.json` holds the raw numbers). Each cell is one client "
        "process running N tasks at once, each task on a connection of its own opened before "
        "the clock starts, statements awaited one after another as application code does; "
        "the figure is transactions per second summed over the tasks. Unix socket: the median "
        "of %d runs of %.1f s, the clients of a cell taking turns; 0.5 ms: through the "
        "loopback proxy adding %d µs each way, one run of %.1f s; round trips counted by the "
        "proxy over %d transactions of one task."
        % (cfg["repeat"], cfg["seconds"], cfg["delay_us"], cfg["delay_seconds"], cfg["rt_txns"]),
        "",
        "## Targets of issue 16",
        "",
    ]
    met = total = 0
    verdicts = []
    # (mode, words, rule): ahead of asyncpg at 0.5 ms, within 10% on the socket.
    checks = [("delay", "0.5 ms each way", "ahead (> 1×)", lambda r: r > 1.0),
              ("socket", "Unix socket", "within 10% (≥ 0.9×)", lambda r: r >= 0.9)]
    for shape in TARGET_SHAPES:
        for n in tasks:
            ours, peer = cells.get((OURS, shape, n)), cells.get((PEER, shape, n))
            if not ours or not peer:
                continue
            for mode, where, target, rule in checks:
                r = ratio(tps(ours, mode), tps(peer, mode))
                ok = r is not None and rule(r)
                verdicts.append("- %s, %s, %d task%s: pgatomic %s tps = %s× asyncpg (%s tps); "
                                "target %s: **%s**."
                                % (where, shape, n, "" if n == 1 else "s", fmt(tps(ours, mode)),
                                   "n/a" if r is None else "%.2f" % r, fmt(tps(peer, mode)),
                                   target, "met" if ok else "NOT met"))
                met += ok
                total += 1
    rts = []
    for shape, want in RT_TARGET.items():
        c = cells.get((OURS, shape, 1))
        got = c.get("rt", {}).get("rt_per_txn") if c else None
        rts.append((shape, got, want))
    rt_ok = all(got == want for _, got, want in rts)
    lines.append("%d of %d throughput checks met; round trips per transaction of pgatomic "
                 "(insert 2, transfer 3, nested 3, empty 0): **%s** (%s)."
                 % (met, total, "met" if rt_ok else "NOT met",
                    ", ".join("%s %s" % (s, "n/a" if g is None else ("%g" % g))
                              for s, g, _ in rts)))
    lines.append("")
    lines += verdicts
    lines += ["", "## Transactions per second", ""]
    head = "| shape | tasks | " + " | ".join("%s socket" % c for c in clients) + " | " + \
        " | ".join("%s 0.5 ms" % c for c in clients) + " | pgatomic ÷ asyncpg socket | pgatomic ÷ asyncpg 0.5 ms |"
    lines += [head, "|" + "---|" * (2 + 2 * len(clients) + 2)]
    for shape in res["shapes"]:
        for n in tasks:
            row = ["%s" % shape, "%d" % n]
            row += [fmt(tps(cells.get((c, shape, n), {}), "socket")) for c in clients]
            row += [fmt(tps(cells.get((c, shape, n), {}), "delay")) for c in clients]
            for mode in ("socket", "delay"):
                r = ratio(tps(cells.get((OURS, shape, n), {}), mode),
                          tps(cells.get((PEER, shape, n), {}), mode))
                row.append("n/a" if r is None else "%.2f×" % r)
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Round trips per transaction (one task, counted by the proxy)", "",
              "| shape | " + " | ".join(clients) + " |", "|" + "---|" * (1 + len(clients))]
    for shape in res["shapes"]:
        row = [shape]
        for c in clients:
            v = cells.get((c, shape, 1), {}).get("rt", {}).get("rt_per_txn")
            row.append("n/a" if v is None else "%g" % v)
        lines.append("| " + " | ".join(row) + " |")
    spreads = []
    for c in res["cells"]:
        runs = [t for t in c["socket"].get("tps_runs", []) if t]
        if len(runs) > 1 and c["socket"].get("tps"):
            spreads.append((max(runs) - min(runs)) / c["socket"]["tps"])
    spreads.sort()
    lines += ["", "## How each client is used", ""]
    lines += ["- `%s`: %s" % (c, HOW_USED.get(c, "")) for c in clients]
    lines += ["", "## Machine", "",
              "%s, %s cores, %s GiB; %s; PostgreSQL: %s; Python %s; peers: %s; pgatomic %s. "
              "Load average %s at the start, %s at the end: client, server and proxy share the "
              "cores with whatever else runs%s."
              % (m.get("cpu"), m.get("nproc"), m.get("memory_gb"), m.get("os"),
                 m.get("postgresql", "").split(" on ")[0], m.get("python"),
                 ", ".join("%s %s" % kv for kv in sorted(m.get("python_peers", {}).items())),
                 m.get("pgatomic"), m.get("loadavg_start"), m.get("loadavg_end"),
                 "" if not spreads else
                 "; across the unix-socket runs of a cell the spread (fastest − slowest) / median "
                 "was %.0f%% for the median cell and %.0f%% at worst, so a verdict within that "
                 "margin could go either way on another run"
                 % (100 * spreads[len(spreads) // 2], 100 * spreads[-1]))]
    if res["skipped"]:
        lines += ["", "Skipped: " + "; ".join("%s (%s)" % kv for kv in res["skipped"].items())]
    with open(DOC, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
