"""bench/report.py -- turns bench/results/results.json into docs/benchmarks.md
and docs/benchmarks.png (matplotlib, Agg backend).  Run by bench/run.sh;
can be re-run on its own: `bench/.peers/venv/bin/python bench/report.py`.
`python3 bench/report.py --loop-delay` rewrites only the event-loop section
from bench/results/loop-delay.json (`bash bench/run.sh loop-delay`; no
matplotlib needed).

Every judgement in the "Targets" section is computed here from the numbers
of the run, never typed in by hand.
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results", "results.json")
LOOP_RESULTS = os.path.join(ROOT, "bench", "results", "loop-delay.json")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
PNG = os.path.join(ROOT, "docs", "benchmarks.png")

PGATOMIC = ["c-pgatomic", "py-pgatomic", "node-pgatomic"]
BASELINES = ["c-naive", "c-pipelined"]
PEERS = ["py-psycopg", "py-django", "py-sqlalchemy", "aio-asyncpg", "node-pg", "node-pg-native",
         "node-pg-promise", "node-knex", "node-sequelize", "node-postgres-js", "py-psycopg-pipe"]
PIPE_RESULTS = os.path.join(ROOT, "bench", "results", "pipeline.json")
PIPE_CLIENTS = ["c-pgatomic-pipe", "py-pgatomic-pipe", "py-dbapi-pipe", "node-pgatomic-pipe"]
RT_TARGET = {"insert": 2, "transfer": 3, "nested": 3, "empty": 0}

HOW_USED = {
    "c-naive": "libpq: `PQexec(BEGIN)`, `PQexecParams` per statement, `PQexec(COMMIT)`; `SAVEPOINT`/`RELEASE` nested",
    "c-pipelined": "libpq pipeline mode: the whole transaction queued, one sync (the physical limit; empty block sends nothing)",
    "c-pgatomic": "`pga_atomic_enter` / `pga_query` / `pga_atomic_exit`, nested with `PGA_SAVEPOINT`",
    "py-pgatomic": "`with pgatomic.atomic():` + `pgatomic.connection.execute(sql, params)`",
    "py-psycopg": "psycopg 3 (`psycopg[binary]`), autocommit connection, `with conn.transaction():` nested, `conn.execute`",
    "py-django": "`transaction.atomic()` + `connection.cursor()`, postgresql backend on psycopg 3, `settings.configure()`",
    "py-sqlalchemy": "SQLAlchemy 2 Core on psycopg 3: `engine.begin()`, `conn.begin_nested()`, `text()`; reads via `engine.connect()`",
    "node-pgatomic": "`db.transaction(async t => t.query(...))`, nested `db.transaction` (ambient savepoint), `db.query`",
    "node-pg": "node-postgres `Client`: `BEGIN`, `client.query`, `COMMIT`; `SAVEPOINT`/`RELEASE` nested",
    "node-pg-native": "node-postgres's native bindings (`pg.native.Client`, on the npm package `pg-native` over libpq), the same statements as node-pg",
    "aio-asyncpg": "asyncpg on asyncio's default loop: `async with conn.transaction():` nested, `await conn.execute` (insert, transfer, nested, empty only)",
    "node-pg-promise": "`db.tx(t => t.none(...))`, nested `t.tx`, `db.oneOrNone`",
    "node-knex": "`knex.transaction(trx => trx.raw(...))`, nested `trx.transaction`",
    "node-sequelize": "`sequelize.transaction(t => sequelize.query(sql, {bind, transaction: t}))`, nested with `{transaction: t}`",
    "node-postgres-js": "postgres.js: `sql.begin(async s => ...)` with tagged-template statements, nested `s.savepoint`",
    "c-pgatomic-pipe": "c-pgatomic with `PGA_PIPELINE` on the outer block, results not read (`pga_query(..., NULL)`)",
    "py-pgatomic-pipe": "`with pgatomic.atomic(pipeline=True):` + `connection.execute(...)`, results not read",
    "py-dbapi-pipe": "pgatomic.dbapi, autocommit off, `with conn.pipeline():` + `cursor.execute(...)`, `conn.commit()`, results not read",
    "node-pgatomic-pipe": "`db.transaction({ pipeline: true }, async t => { t.query(...) })`, queries not awaited",
    "py-psycopg-pipe": "psycopg 3 pipeline mode as documented: `with conn.pipeline(), conn.transaction():`, nested `conn.transaction()`",
}

SHAPE_TEXT = {
    "insert": "`atomic { INSERT one row }`",
    "transfer": "`atomic { UPDATE debit; UPDATE credit }`",
    "nested": "`atomic { INSERT; atomic { INSERT } }` (a savepoint)",
    "empty": "an empty atomic block",
    "ten": "`atomic { 10 x INSERT }`",
    "select": "`SELECT` one row by primary key, outside any block",
}


def fmt_tps(v):
    if v is None:
        return "n/a"
    if v >= 1e6:
        return "%.1fM" % (v / 1e6)
    return "{:,.0f}".format(v)


def fmt_ratio(v):
    if v is None:
        return ""
    if v >= 100:
        return "%.0f×" % v
    return "%.2f×" % v


def fmt_rt(v):
    if v is None:
        return "n/a"
    return ("%.2f" % v).rstrip("0").rstrip(".")


def load():
    with open(RESULTS) as f:
        return json.load(f)


class Table:
    def __init__(self, results):
        self.r = results
        self.cells = {(c["client"], c["shape"]): c for c in results["cells"]}

    def get(self, client, shape, mode, key):
        c = self.cells.get((client, shape))
        if not c:
            return None
        v = c.get(mode, {}).get(key)
        return v if isinstance(v, (int, float)) else None

    def tps(self, client, shape):
        return self.get(client, shape, "socket", "tps")

    def dtps(self, client, shape):
        return self.get(client, shape, "delay", "tps")

    def rt(self, client, shape):
        return self.get(client, shape, "rt", "rt_per_txn")

    def rss(self, client, shape):
        return self.get(client, shape, "socket", "maxrss_kb")

    def error(self, client, shape):
        c = self.cells.get((client, shape), {})
        errs = ["%s: %s" % (m, c[m]["error"]) for m in ("socket", "rt", "delay")
                if isinstance(c.get(m), dict) and "error" in c[m]]
        return "; ".join(errs)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def verdict(ok):
    if ok is None:
        return "**not measured**"
    return "**met**" if ok else "**NOT met**"


def best_delayed_peer(t, shape):
    """The peer with the most transactions per second through the delaying
    proxy on this shape, and that figure (None, None when none ran)."""
    best, best_v = None, None
    for peer in PEERS:
        v = t.dtps(peer, shape)
        if v is not None and (best_v is None or v > best_v):
            best, best_v = peer, v
    return best, best_v


def targets(t, clients):
    """The issue's targets, each with its numbers and a verdict."""
    lines = []
    summary = []

    # Round trips.
    rows = []
    all_ok = True
    measured = False
    for client in PGATOMIC:
        if client not in clients:
            continue
        for shape, want in RT_TARGET.items():
            got = t.rt(client, shape)
            if got is None:
                rows.append("%s %s: not measured" % (client, shape))
                all_ok = False
                continue
            measured = True
            ok = abs(got - want) < 0.005
            all_ok &= ok
            if not ok:
                rows.append("%s %s: %s (target %d)" % (client, shape, fmt_rt(got), want))
    ok = all_ok if measured else None
    detail = "every one as targeted" if ok else "; ".join(rows)
    lines.append("- Round trips per transaction, pgatomic in C, Python and Node "
                 "(insert 2, transfer 3, nested 3, empty 0): %s (%s)." % (verdict(ok), detail))
    summary.append(("round trips", ok))

    # Unix socket, Python vs the naive C loop, psycopg and Django.
    for shape in ("insert", "transfer"):
        py, naive = t.tps("py-pgatomic", shape), t.tps("c-naive", shape)
        rr = ratio(py, naive)
        ok = None if rr is None else rr >= 0.9
        lines.append("- Unix socket, %s: pgatomic-Python %s tps = %s the naive C loop (%s tps); "
                     "target ≥ 0.9×: %s." % (shape, fmt_tps(py), fmt_ratio(rr) or "n/a",
                                              fmt_tps(naive), verdict(ok)))
        summary.append(("py ≥ 0.9× c-naive, %s" % shape, ok))
        for peer in ("py-psycopg", "py-django"):
            pr = ratio(py, t.tps(peer, shape))
            ok = None if pr is None else pr >= 2.0
            lines.append("- Unix socket, %s: pgatomic-Python = %s %s (%s tps); target ≥ 2×: %s."
                         % (shape, fmt_ratio(pr) or "n/a", peer, fmt_tps(t.tps(peer, shape)),
                            verdict(ok)))
            summary.append(("py ≥ 2× %s, %s" % (peer, shape), ok))
    for shape in ("insert", "transfer"):
        nd = t.tps("node-pgatomic", shape)
        # Issue 17 asks 0.9× pgatomic-C; issue 6 1.5× the Node peers.
        for peer, want in (("c-pgatomic", 0.9), ("node-pg", 1.5), ("node-postgres-js", 1.5)):
            pr = ratio(nd, t.tps(peer, shape))
            ok = None if pr is None else pr >= want
            lines.append("- Unix socket, %s: pgatomic-Node %s tps = %s %s (%s tps); "
                         "target ≥ %s: %s." % (shape, fmt_tps(nd), fmt_ratio(pr) or "n/a", peer,
                                                fmt_tps(t.tps(peer, shape)), fmt_ratio(want),
                                                verdict(ok)))
            summary.append(("node ≥ %s %s, %s" % (fmt_ratio(want), peer, shape), ok))

    # 0.5 ms each way.
    delay_us = t.r["config"].get("delay_us", 500)
    for shape, want in (("transfer", 1.4), ("nested", 1.8)):
        best, best_v = best_delayed_peer(t, shape)
        for client in PGATOMIC:
            if client not in clients:
                continue
            v = t.dtps(client, shape)
            rr = ratio(v, best_v)
            ok = None if rr is None else rr >= want
            lines.append("- %d µs each way, %s: %s %s tps = %s the best peer (%s, %s tps); "
                         "target ≥ %.1f×: %s." % (delay_us, shape, client, fmt_tps(v),
                                                 fmt_ratio(rr) or "n/a", best, fmt_tps(best_v),
                                                 want, verdict(ok)))
            summary.append(("%s ≥ %.1f× best peer @%dus, %s" % (client, want, delay_us, shape), ok))

    # Memory.
    mem = t.r.get("memory", {})
    for client in ("py-pgatomic", "node-pgatomic"):
        m = mem.get(client)
        if not m or "error" in m:
            lines.append("- Memory, %s: not measured%s." % (
                client, (" (" + m["error"] + ")") if m and "error" in m else ""))
            summary.append(("memory %s" % client, None))
            continue
        line = ("- Memory, %s: %s kB RSS per idle connection, %s kB per open transaction "
                "(%d of each)" % (client, m["rss_per_idle_connection_kb"],
                                  m["rss_per_open_transaction_kb"], m["connections"]))
        if "rss_growth_kb" in m:
            grow = m["rss_growth_kb"]
            ok = grow <= 1024
            line += ("; RSS %+d kB over %s blocks after a warm-up (%s → %s kB); "
                     "target no growth (≤ 1 MB counted as none): %s"
                     % (grow, "{:,}".format(m["blocks"]), "{:,}".format(m["rss_before_blocks_kb"]),
                        "{:,}".format(m["rss_after_blocks_kb"]), verdict(ok)))
            summary.append(("no growth %s" % client, ok))
        lines.append(line + ".")
    return lines, summary


def explain(t, clients):
    """Causes that the numbers themselves show, for the targets not met."""
    out = []
    for shape in ("insert", "transfer"):
        cp, naive = t.tps("c-pgatomic", shape), t.tps("c-naive", shape)
        rr = ratio(cp, naive)
        if rr is not None and rr < 0.85:
            out.append("On the unix socket the C core itself runs %s at %s the naive libpq "
                       "loop (%s vs %s tps) although it makes fewer round trips (%s vs %s), "
                       "so the per-call cost is in the core's own path, below either binding."
                       % (shape, fmt_ratio(rr), fmt_tps(cp), fmt_tps(naive),
                          fmt_rt(t.rt("c-pgatomic", shape)), fmt_rt(t.rt("c-naive", shape))))
    for shape in ("insert", "transfer"):
        pp, cp = t.tps("py-pgatomic", shape), t.tps("c-pgatomic", shape)
        rr = ratio(pp, cp)
        if rr is not None and rr < 0.8:
            out.append("pgatomic-Python runs %s at %s of pgatomic-C (%s vs %s tps): the "
                       "binding adds per-call cost on top of the core." % (
                           shape, fmt_ratio(rr), fmt_tps(pp), fmt_tps(cp)))
        nd, cp = t.tps("node-pgatomic", shape), t.tps("c-pgatomic", shape)
        rr = ratio(nd, cp)
        if rr is not None and rr < 0.6:
            out.append("pgatomic-Node runs %s at %s of pgatomic-C (%s vs %s tps): the "
                       "addon and event-loop hand-offs add per-call cost on top of the core."
                       % (shape, fmt_ratio(rr), fmt_tps(nd), fmt_tps(cp)))
    for shape in ("insert", "transfer"):
        limit = t.tps("c-pipelined", shape)
        for front, peers, want in (("pgatomic-Python", ("py-psycopg", "py-django"), 2.0),
                                   ("pgatomic-Node", ("node-pg", "node-postgres-js"), 1.5)):
            for peer in peers:
                pv = t.tps(peer, shape)
                if limit is None or pv is None or pv * want <= limit:
                    continue
                out.append("On %s over the unix socket, %.1f× %s means %s tps, more than the "
                           "fully pipelined C loop reaches (%s tps, one round trip per "
                           "transaction): no client on this machine can meet that target for "
                           "%s." % (shape, want, peer, fmt_tps(pv * want), fmt_tps(limit), front))
    delay_us = t.r["config"].get("delay_us", 500)
    for shape, want in (("transfer", 1.4), ("nested", 1.8)):
        best, best_v = best_delayed_peer(t, shape)
        fewest = min((t.rt(p, shape) for p in PEERS if t.rt(p, shape) is not None), default=None)
        ours = RT_TARGET[shape]
        missed = [c for c in PGATOMIC if c in clients
                  and (ratio(t.dtps(c, shape), best_v) or 0) < want]
        if missed and fewest is not None and fewest / ours < want:
            out.append("With %d µs each way the round trips set the pace: on %s the peers "
                       "need at least %s round trips and pgatomic %d, so if round trips were "
                       "the whole cost pgatomic would be %s the fastest peer, short of the "
                       "%.1f× target; only a lower client cost per round trip can close the "
                       "rest. The best peer here was %s at %s tps."
                       % (delay_us, shape, fmt_rt(fewest), ours, fmt_ratio(fewest / ours),
                          want, best, fmt_tps(best_v)))
    for client, m in t.r.get("memory", {}).items():
        if "rss_growth_kb" not in m or m["rss_growth_kb"] <= 1024:
            continue
        first = m.get("rss_mid_blocks_kb", m["rss_before_blocks_kb"]) - m["rss_before_blocks_kb"]
        second = m["rss_after_blocks_kb"] - m.get("rss_mid_blocks_kb", m["rss_before_blocks_kb"])
        steady = first > 0 and second > 0 and 0.5 <= second / first <= 2
        out.append("%s's RSS grew %+d kB over %s blocks (%+d kB in the first half, %+d kB in "
                   "the second)%s: about %.0f bytes per block." % (
                       client, m["rss_growth_kb"], "{:,}".format(m["blocks"]), first, second,
                       ", steadily, which looks like memory kept per block rather than a "
                       "one-off allocation" if steady else "", m["rss_growth_kb"] * 1024 / m["blocks"]))
    naive_ins, pip_ins = t.tps("c-naive", "insert"), t.tps("c-pipelined", "insert")
    rr = ratio(pip_ins, naive_ins)
    if rr is not None and rr < 1.3:
        out.append("Over the unix socket even the fully pipelined C loop is only %s the naive "
                   "one on insert: the server's work per transaction, on the same %s cores as "
                   "the client, dominates there, which caps what any client can gain."
                   % (fmt_ratio(rr), t.r["machine"].get("nproc", "?")))
    return out


def chart(t, shapes, clients):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {}
    cmap = plt.get_cmap("tab20")
    for k, c in enumerate(clients):
        colors[c] = cmap(k % 20)
    fig, axes = plt.subplots(3, 1, figsize=(16, 15))
    delay_us = t.r["config"].get("delay_us", 500)
    panels = [
        ("Transactions per second over the unix socket (log scale)", t.tps, True),
        ("Round trips per transaction (counted by the loopback proxy)", t.rt, False),
        ("Transactions per second through the proxy, %d µs added each way (log scale)"
         % delay_us, t.dtps, True),
    ]
    width = 0.8 / max(1, len(clients))
    for ax, (title, fn, log) in zip(axes, panels):
        for k, c in enumerate(clients):
            xs, ys = [], []
            for j, s in enumerate(shapes):
                v = fn(c, s)
                if v is None or (log and v <= 0):
                    continue
                xs.append(j - 0.4 + width * (k + 0.5))
                ys.append(v)
            ax.bar(xs, ys, width, label=c, color=colors[c],
                   edgecolor="black" if c in PGATOMIC else "none",
                   linewidth=1.2 if c in PGATOMIC else 0,
                   hatch="//" if c in PGATOMIC else None)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels(shapes)
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(ncol=7, fontsize=8, loc="upper left")
    m = t.r["machine"]
    fig.suptitle("pgatomic benchmark — %s, %s cores (%s), %s" % (
        m.get("date", ""), m.get("nproc", "?"), m.get("cpu", "?"),
        (m.get("postgresql", "") or "").split(" on ")[0]), fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(PNG, dpi=80)
    plt.close(fig)


def main():
    r = load()
    t = Table(r)
    shapes, clients = r["shapes"], r["clients"]
    present = [c for c in clients if any((c, s) in t.cells for s in shapes)]
    m, cfg = r["machine"], r["config"]
    delay_us = cfg.get("delay_us", 500)
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    chart(t, shapes, present)

    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append("Written by `bash bench/run.sh` from one run on the machine below "
             "(`bench/results/results.json` holds the raw numbers). Every figure is per "
             "(client, shape), each client a process of its own, one connection, statements "
             "issued one after another with each result awaited before the next, as application "
             "code does. Ratios are to the hand-written C libpq loop (`c-naive`) on the same "
             "shape: for transactions per second higher is better, for round trips and memory "
             "lower is better.")
    L.append("")
    L.append("## Targets of issue 6")
    L.append("")
    tlines, summary = targets(t, present)
    met = sum(1 for _, ok in summary if ok)
    notmet = [name for name, ok in summary if ok is False]
    unmeasured = [name for name, ok in summary if ok is None]
    L.append("%d of %d checks met%s%s." % (
        met, len(summary),
        "; not met: " + ", ".join(notmet) if notmet else "",
        "; not measured: " + ", ".join(unmeasured) if unmeasured else ""))
    L.append("")
    L += tlines
    why = explain(t, present)
    if why:
        L.append("")
        L.append("What the numbers show about the misses:")
        L.append("")
        L += ["- " + w for w in why]
    if r.get("skipped"):
        L.append("")
        L.append("Clients that could not run in this run:")
        L.append("")
        for c, why in r["skipped"].items():
            L.append("- `%s`: %s" % (c, why))
    spreads = []
    for c in t.r["cells"]:
        runs = [v for v in c.get("socket", {}).get("tps_runs", []) if v]
        if len(runs) >= 2 and c["shape"] != "empty":
            runs.sort()
            spreads.append((runs[-1] - runs[0]) / runs[(len(runs) - 1) // 2])
    if spreads:
        spreads.sort()
        L.append("")
        L.append("How much to trust the unix-socket figures: across the %d runs of each cell "
                 "(empty block left out), the spread (fastest − slowest) / median was %.0f%% for "
                 "the median cell and %.0f%% at worst. Client and server share %s cores with "
                 "whatever else the machine runs (load average %s at the start, %s at the end), "
                 "so a verdict within that margin of its threshold could go either way on "
                 "another run; the round-trip counts are exact." % (
                     cfg.get("repeat", 1), 100 * spreads[len(spreads) // 2], 100 * spreads[-1],
                     m.get("nproc", "?"), (m.get("loadavg_start") or "?").split()[0],
                     (m.get("loadavg_end") or "?").split()[0]))
    L.append("")
    L.append("![benchmark chart](benchmarks.png)")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("Columns: transactions per second over the unix socket (the median of %d runs "
             "of %g s after a warm-up, the clients of a shape taking turns) and its ratio to "
             "`c-naive`; round trips per transaction through the "
             "counting proxy (%d transactions after a warm-up, connection setup excluded); "
             "transactions per second through the proxy with %d µs added each way (%g s per "
             "cell); peak RSS of the client process during the unix-socket run."
             % (cfg.get("repeat", 1), cfg.get("seconds"), cfg.get("rt_txns"), delay_us,
                cfg.get("delay_seconds")))
    for s in shapes:
        L.append("")
        L.append("### %s — %s" % (s, SHAPE_TEXT.get(s, s)))
        L.append("")
        L.append("| client | tps (socket) | × c-naive | round trips | × c-naive | tps (%g ms each way) "
                 "| × c-naive | peak RSS (MB) | × c-naive |" % (delay_us / 1000))
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in present:
            if (c, s) not in t.cells:
                continue
            name = "**%s**" % c if c in PGATOMIC else c
            tp, rt, dt, rss = t.tps(c, s), t.rt(c, s), t.dtps(c, s), t.rss(c, s)
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, fmt_tps(tp), fmt_ratio(ratio(tp, t.tps("c-naive", s))),
                fmt_rt(rt), fmt_ratio(ratio(rt, t.rt("c-naive", s))),
                fmt_tps(dt), fmt_ratio(ratio(dt, t.dtps("c-naive", s))),
                "%.1f" % (rss / 1024) if rss else "n/a",
                fmt_ratio(ratio(rss, t.rss("c-naive", s)))))
        errs = [(c, t.error(c, s)) for c in present if t.error(c, s)]
        for c, e in errs:
            L.append("")
            L.append("`%s` failed on %s: %s" % (c, s, e.replace("|", "\\|")))
    mem = r.get("memory", {})
    if mem:
        L.append("")
        L.append("### Memory of pgatomic")
        L.append("")
        L.append("| front end | RSS per idle connection | RSS per open transaction | "
                 "RSS growth over blocks |")
        L.append("|---|---:|---:|---:|")
        for c, v in mem.items():
            if "error" in v:
                L.append("| %s | failed: %s | | |" % (c, v["error"].replace("|", "\\|")))
                continue
            growth = ("%+d kB over %s" % (v["rss_growth_kb"], "{:,}".format(v["blocks"]))
                      if "rss_growth_kb" in v else "not run")
            L.append("| %s | %s kB | %s kB | %s |" % (
                c, v["rss_per_idle_connection_kb"], v["rss_per_open_transaction_kb"], growth))
        L.append("")
        L.append("Idle connections: %s connections opened and used once, RSS delta divided by "
                 "their number (Python: `pgatomic.connect()` each; Node: one `Database` with "
                 "`max` of that many, filled by concurrent statements). Open transactions: one "
                 "block per connection with one statement run in it (BEGIN sent). Growth: RSS "
                 "after the blocks minus RSS after a warm-up of a tenth of them, each block a "
                 "`SELECT` by primary key." % next(iter(mem.values())).get("connections", 100))
    L += loop_delay_section()
    L.append("")
    L.append("## How each client is used")
    L.append("")
    L.append("| client | code |")
    L.append("|---|---|")
    for c in present:
        L.append("| %s | %s |" % (c, HOW_USED.get(c, "")))
    L.append("")
    L.append("Notes:")
    L.append("")
    L.append("- Shapes and statements are the same in every client: `INSERT INTO bench_items (v) "
             "VALUES ($1)`, `UPDATE bench_accounts SET b = b ∓ $1 WHERE id = $2`, `SELECT id, b "
             "FROM bench_accounts WHERE id = $1` (each driver's own placeholder style where it "
             "has one). The harness creates the tables and empties them before every run.")
    L.append("- Pools are limited to one connection where the library has a pool. Peer libraries "
             "run with their defaults otherwise (psycopg prepares statements after 5 uses, "
             "postgres.js prepares them, Django's psycopg 3 backend binds on the client side, "
             "pg-promise formats values itself).")
    L.append("- SQLAlchemy has no statement outside a transaction: its `select` row is a "
             "`with engine.connect()` block, which begins a transaction and rolls it back on "
             "return to the pool. Django and SQLAlchemy on psycopg 3 send BEGIN lazily, in a round "
             "trip of its own just before the first statement, so their empty block costs none.")
    L.append("- `c-pipelined` does not await each statement before sending the next: it is the "
             "floor, not a way application code can be written when it looks at results.")
    L.append("- Round trips are counted by %s, a loopback proxy: a round trip is a "
             "client-to-server burst following a server-to-client burst. The same proxy, "
             "holding each chunk %d µs in each direction, gives the delayed figures; the proxy's "
             "own forwarding cost is in those figures for every client alike."
             % ("`tests/proxy/pgproxy.c`" if cfg.get("proxy") == "tests/proxy/pgproxy.c"
                else "`bench/proxy.py`", delay_us))
    L.append("- Peak RSS is the client process's `VmHWM` (/proc/self/status; `ru_maxrss` would carry over the parent's peak across fork and exec); it includes the "
             "language runtime (CPython, Node/V8), so compare within a language.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for key, label in (("date", "date"), ("pgatomic", "pgatomic commit"),
                       ("nproc", "nproc"), ("cpu", "CPU"),
                       ("memory_gb", "memory (GiB)"), ("kernel", "kernel"), ("os", "OS"),
                       ("postgresql", "PostgreSQL"), ("server_settings", "server settings"),
                       ("libpq", "libpq (pg_config)"), ("cc", "C compiler"),
                       ("python", "Python"), ("node", "Node"),
                       ("loadavg_start", "load average at start"),
                       ("loadavg_end", "load average at end")):
        if m.get(key) not in (None, ""):
            L.append("| %s | %s |" % (label, m[key]))
    peers = ", ".join("%s %s" % kv for kv in sorted(m.get("python_peers", {}).items()))
    peers_n = ", ".join("%s %s" % kv for kv in sorted(m.get("node_peers", {}).items()))
    L.append("| Python peers | %s |" % peers)
    L.append("| Node peers | %s |" % peers_n)
    L.append("| proxy | %s |" % cfg.get("proxy"))
    L.append("| run time | %s s |" % cfg.get("elapsed_s"))
    L.append("")
    L.append("Client and server share the machine's cores; the unix-socket figures therefore "
             "include the server's work and move with whatever else the machine runs.")
    L.append("")
    L.append("## Reproduce")
    L.append("")
    L.append("```")
    L.append("bash bench/run.sh")
    L.append("```")
    L.append("")
    L.append("It needs PostgreSQL's server binaries (for `scripts/pgtmp`), `pg_config`, a C "
             "compiler, Python 3 and Node with npm. It installs the peers into `bench/.peers/` "
             "(a Python venv and an npm prefix of their own, never the package's dependencies), "
             "builds pgatomic for Python (into that venv) and Node, builds the C clients and the "
             "proxy, starts a throwaway server, runs every client on every shape and writes "
             "this file and its chart. Knobs: `BENCH_SECONDS` (default 0.8) and "
             "`BENCH_REPEAT` (3) for the unix-socket runs, `BENCH_DELAY_SECONDS` (0.8), "
             "`BENCH_DELAY_US` (500), `BENCH_RT_TXNS` (100), "
             "`BENCH_MEM_BLOCKS` (100000), `BENCH_CLIENTS` and `BENCH_SHAPES` (comma lists), "
             "`BENCH_SKIP_INSTALL=1`. One client alone, against a server of your own: "
             "`bench/.peers/bin/c-naive --shape transfer --seconds 2` (the harness makes the "
             "tables; see `bench/harness.py`).")
    L.append("")
    L += orm_sections()
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC, "w") as f:
        f.write("\n".join(L))


def fmt_ms(v):
    return "{:,.0f}".format(v)


def loop_delay_section():
    """The event-loop and streaming section from bench/node/loop-delay.js's
    results, between markers so that `--loop-delay` can replace it alone."""
    try:
        with open(LOOP_RESULTS) as f:
            r = json.load(f)
    except OSError:
        return []
    s, m = r["summary"], r.get("machine", {})
    clients = r.get("clients", ["pg", "pgatomic"])
    batch = r.get("batch", 1000)
    L = ["", "<!-- loop-delay begin -->"]
    L.append("## Event loop and streaming: one %s-row SELECT, pgatomic beside pg"
             % "{:,}".format(r["rows"]))
    L.append("")
    load = ("load average %.2f at the start, %.2f at the end" % (m["loadavgStart"], m["loadavgEnd"])
            if "loadavgStart" in m else "load average not recorded")
    L.append("Written by `bench/node/loop-delay.js` (`bench/results/loop-delay.json`) on %s, "
             "%s of each client, each run a process of its own, the clients taking turns "
             "(%s%s). A run connects, warms up, then reads the rows of `SELECT g, 'name ' || "
             "g, g * 1.5::float8, now() FROM generate_series(1, %d) g` while "
             "`perf_hooks.monitorEventLoopDelay` (1 ms resolution) samples the loop: the longest "
             "delay is the longest time the loop could not turn (a timer, an incoming request, "
             "waited that long), p99 the 99th percentile of the samples; peak RSS is the "
             "process's (`process.resourceUsage().maxRSS`)."
             % (r["date"][:16].replace("T", " ") + " UTC",
                "1 run" if r["repeat"] == 1 else "%d runs" % r["repeat"], load,
                "; %s cores, shared with whatever else runs" % m["nproc"] if "nproc" in m else "",
                r["rows"]))
    L.append("")
    about = {
        "pg": "node-postgres `client.query()`: the whole result",
        "pgatomic": "`db.query()`: the whole result",
        "pg-query-stream": "node-postgres + pg-query-stream (`batchSize: %d`), `for await`" % batch,
        "pgatomic-stream": "`for await (const row of db.stream(sql, [], { batchSize: %d }))`" % batch,
        "pgatomic-pg-query-stream": "pgatomic/pg + the same pg-query-stream, `for await`",
    }
    L.append("| client | how | longest hold, median (ms) | longest hold per run (ms) | "
             "p99 per run (ms) | read time, median (ms) | read time per run (ms) | "
             "CPU per run (ms) | peak RSS, median (MB) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in clients:
        runs = [x for x in r["runs"] if x["client"] == c]
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            "**%s**" % c if c.startswith("pgatomic") else c, about.get(c, ""),
            fmt_ms(s[c]["medianMaxDelayMs"]),
            ", ".join(fmt_ms(x["maxDelayMs"]) for x in runs),
            ", ".join(fmt_ms(x["p99DelayMs"]) for x in runs), fmt_ms(s[c]["medianWallMs"]),
            ", ".join(fmt_ms(x["wallMs"]) for x in runs),
            ", ".join(fmt_ms(x["cpuMs"]) if "cpuMs" in x else "-" for x in runs),
            fmt_ms(s[c]["medianPeakRssMb"]) if "medianPeakRssMb" in s[c] else "-"))
    L.append("")
    ratios = []
    for c in ("pgatomic", "pgatomic-stream", "pgatomic-pg-query-stream"):
        for peer in ("pg", "pg-query-stream"):
            if c in s and peer in s:
                ratios.append("%s/%s: longest hold %.2f×, read time %.2f×" % (
                    c, peer, s[c]["medianMaxDelayMs"] / s[peer]["medianMaxDelayMs"],
                    s[c]["medianWallMs"] / s[peer]["medianWallMs"]))
    if ratios:
        L.append("Ratios of medians (below 1: pgatomic holds the loop less / reads faster): "
                 + "; ".join(ratios) + ".")
        L.append("")
    big = r.get("big") or []
    if big:
        L.append("The streaming clients then read %s rows once each, in turn:"
                 % "{:,}".format(r["streamRows"]))
        L.append("")
        L.append("| client | read time (ms) | peak RSS (MB) | longest hold (ms) |")
        L.append("|---|---:|---:|---:|")
        for x in big:
            L.append("| %s | %s | %s | %s |" % (
                "**%s**" % x["client"] if x["client"].startswith("pgatomic") else x["client"],
                fmt_ms(x["wallMs"]), fmt_ms(x["peakRssMb"]), fmt_ms(x["maxDelayMs"])))
        L.append("")
    L.append("pgatomic turns a whole result into rows in slices of a few milliseconds with the "
             "loop running between them (`bindings/node/settle.cc`): per slice of 256 rows the "
             "addon decodes the cells, numbers, booleans and timestamptz instants straight into "
             "typed arrays and other values into one reused array, and a JS function "
             "(`rowFiller` in `node/lib/native.js`) makes the rows by copying a template object "
             "and the Dates, which V8 does far faster than the addon could define each row's "
             "properties call by call. `db.stream()` reads the "
             "statement through the core's streams (`pga_stream_*`, libpq's single-row mode "
             "gathered into batches) one batch ahead of the loop and decodes each batch the same "
             "way, so its memory is a batch or two whatever the result's size. `db.query()` "
             "holds libpq's whole result (the server's text of every row) beside the rows it "
             "decodes from it until the last one is made, which is what its peak RSS has above "
             "pg's: node-postgres keeps only the rows. pg-query-stream "
             "fetches its portal %d rows per round trip. "
             "Reproduce: `bash bench/run.sh loop-delay` (`BENCH_LOOP_ROWS`, `BENCH_LOOP_REPEAT`, "
             "`BENCH_LOOP_CLIENTS`, `BENCH_STREAM_ROWS`)." % batch)
    L.append("<!-- loop-delay end -->")
    return L


def replace_loop_delay_section():
    replace_section("loop-delay", loop_delay_section()[1:])


def replace_section(name, lines):
    """Put lines (markers included) in place of the section between the
    markers `<!-- name begin/end -->`, or before "How each client is used"
    when there is none yet."""
    with open(DOC) as f:
        doc = f.read()
    block = "\n".join(lines)
    pattern = re.compile(r"<!-- %s begin -->.*?<!-- %s end -->" % (name, name), re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc, count=1)
    else:
        marker = "\n## How each client is used"
        at = doc.index(marker)
        doc = doc[:at] + "\n" + block + "\n" + doc[at:]
    with open(DOC, "w") as f:
        f.write(doc)


def pipeline_section():
    """The pipelined-transaction cells (`bash bench/run.sh pipeline`,
    bench/results/pipeline.json) beside the peers of the same run, as the
    section `notes:pipeline`, which a full report keeps as it is."""
    with open(PIPE_RESULTS) as f:
        r = json.load(f)
    t = Table(r)
    m, cfg = r["machine"], r["config"]
    clients = [c for c in r["clients"] if c not in r.get("skipped", {})]
    peers = [c for c in clients if c in PEERS]
    L = ["<!-- notes:pipeline begin -->", "## Pipelined transactions (issue 17)", ""]
    L.append("Written by `bash bench/run.sh pipeline` (`bench/results/pipeline.json`) on %s, "
             "pgatomic %s; %s s per socket run x %s (median), %s s per run through the proxy "
             "at %s us each way x %s (interleaved rounds, median); load average at start `%s`, "
             "at end `%s` (%s vCPUs, shared with other work: compare within a table, not "
             "across runs)." % (
                 m["date"], m.get("pgatomic", "?"), cfg["seconds"], cfg["repeat"],
                 cfg["delay_seconds"], cfg["delay_us"], cfg.get("delay_repeat", 1),
                 m.get("loadavg_start", "?"),
                 m.get("loadavg_end", "?"), m.get("nproc", "?")))
    L.append("")
    L.append("Target (issue 17): a pipelined transfer at least 3x the best peer at 0.5 ms "
             "each way. Peers: %s; the best one is chosen per shape from this run. "
             "c-naive and c-pipelined are baselines (hand-written libpq), not peers." % (
                 ", ".join(peers) or "none ran"))
    L.append("")
    for shape in r["shapes"]:
        best, best_v = None, None
        for p in peers:
            v = t.dtps(p, shape)
            if v is not None and (best_v is None or v > best_v):
                best, best_v = p, v
        L.append("### %s: %s" % (shape, SHAPE_TEXT.get(shape, shape)))
        L.append("")
        L.append("| client | round trips / txn | tps, unix socket | tps, %s us each way | "
                 "× best peer (%s) at %s us |" % (cfg["delay_us"], best or "none", cfg["delay_us"]))
        L.append("|---|---:|---:|---:|---:|")
        for c in clients:
            err = t.error(c, shape)
            if err and t.dtps(c, shape) is None:
                L.append("| %s | failed: %s | | | |" % (c, err.replace("|", "\\|")[:120]))
                continue
            x = ratio(t.dtps(c, shape), best_v)
            mark = "**" if c in PIPE_CLIENTS else ""
            L.append("| %s%s%s | %s | %s | %s | %s |" % (
                mark, c, mark, fmt_rt(t.rt(c, shape)), fmt_tps(t.tps(c, shape)),
                fmt_tps(t.dtps(c, shape)), fmt_ratio(x)))
        if shape == "transfer" and best_v:
            L.append("")
            for c in PIPE_CLIENTS:
                x = ratio(t.dtps(c, shape), best_v)
                if x is not None:
                    L.append("- %s: %s the best peer at %s us: %s" % (
                        c, fmt_ratio(x), cfg["delay_us"], verdict(x >= 3)))
            floor = t.dtps("c-pipelined", shape)
            if floor:
                L.append("- the 1-round-trip floor (c-pipelined) reached %s tps here, so a "
                         "round trip took %.1f ms instead of the %.1f ms the proxy adds: the rest "
                         "is, most likely, waiting for one of the 2 shared vCPUs (client, proxy, server; "
                         "inferred from the load average, not measured). The pipelined clients are "
                         "at %s of that floor." % (
                             fmt_tps(floor), 1000.0 / floor, 2 * cfg["delay_us"] / 1000.0,
                             ", ".join("%s %s" % (c, fmt_ratio(ratio(t.dtps(c, shape), floor)))
                                       for c in PIPE_CLIENTS if t.dtps(c, shape))))
        L.append("")
    L.append("How each is used: %s. Semantics and what surfaces later than in normal mode: "
             "[pipeline.md](pipeline.md)." % "; ".join(
                 "%s: %s" % (c, HOW_USED[c]) for c in clients if c in HOW_USED and
                 (c in PIPE_CLIENTS or c == "py-psycopg-pipe")))
    L.append("<!-- notes:pipeline end -->")
    return L


def orm_sections():
    """The ORM sections `bench/run.sh <orm>` wrote (bench/orm.py), kept
    as they are: this run did not measure them."""
    try:
        with open(DOC) as f:
            doc = f.read()
    except OSError:
        return []
    blocks = re.finditer(r"<!-- (orm|notes):(\S+) begin -->.*?<!-- \1:\2 end -->", doc, re.S)
    return [b.group(0) + "\n" for b in blocks]


STREAM_RESULTS = os.path.join(ROOT, "bench", "results", "stream.json")

STREAM_ABOUT = {
    "pgatomic-stream": "`for row in conn.stream(sql)` (batches of 1,000 rows)",
    "pgatomic-execute": "`conn.execute(sql).rows` (materialised)",
    "psycopg-stream": "`for row in cur.stream(sql)` (libpq single-row mode)",
    "psycopg-fetchall": "`cur.execute(sql).fetchall()` (materialised)",
    "psycopg-named": "server-side cursor, `itersize` 1,000 (DECLARE / FETCH in a transaction)",
}


def stream_section():
    """Python reading a large result, from bench/python/stream.py's results
    (`bash bench/run.sh stream`), as the section `notes:stream-python`,
    which a full report keeps as it is."""
    with open(STREAM_RESULTS) as f:
        r = json.load(f)
    s, m = r["summary"], r["machine"]
    L = ["<!-- notes:stream-python begin -->",
         "## Python: reading a large result (streams)", ""]
    L.append("Written by `bench/python/stream.py` (`bench/results/stream.json`) on %s: %s of "
             "each client, each run a process of its own, the clients taking turns (load average "
             "%.2f at the start, %.2f at the end; %s cores shared with whatever else runs; "
             "Python %s). A run connects, warms up, then reads every row of `%s` (an int, a text, "
             "a float8 and a timestamptz per row; the same SELECT as the event-loop section) and "
             "reports its wall time and the growth of its peak RSS over the RSS before the read."
             % (r["date"][:16].replace("T", " ") + " UTC",
                "1 run" if r["repeat"] == 1 else "%d runs" % r["repeat"],
                m["loadavgStart"], m["loadavgEnd"], m["nproc"], m["python"], r["sql"]))
    L.append("")
    L.append("| client | how | %s rows, median (s) | per run (s) | peak RSS growth, median (MB) | "
             "vs psycopg-fetchall | vs psycopg-stream |" % "{:,}".format(r["rows"]))
    L.append("|---|---|---:|---:|---:|---:|---:|")
    base = s.get("psycopg-fetchall", {}).get("median_wall_s")
    base_stream = s.get("psycopg-stream", {}).get("median_wall_s")
    for client, v in s.items():
        runs = [x["wall_s"] for x in r["runs"] if x["client"] == client]
        name = "**%s**" % client if client.startswith("pgatomic") else client
        L.append("| %s | %s | %.2f | %s | %.1f | %s | %s |" % (
            name, STREAM_ABOUT.get(client, ""), v["median_wall_s"],
            ", ".join("%.2f" % x for x in runs), v["median_peak_rss_growth_mb"],
            "%.2f×" % (base / v["median_wall_s"]) if base else "",
            "%.2f×" % (base_stream / v["median_wall_s"]) if base_stream else ""))
    L.append("")
    versions = sorted({v["version"] for k, v in s.items() if k.startswith("psycopg")})
    L.append("The ratios are speed (psycopg's median time over the client's): above 1 is faster "
             "than psycopg. Peer: %s. Differences between the clients: psycopg's `stream()` "
             "also reads in single-row mode but turns and hands over each row on its own (a "
             "generator step per row); its server-side cursor needs a transaction and costs a "
             "round trip per 1,000 rows (FETCH); pgatomic's `stream()` converts a batch of 1,000 "
             "rows at a time and hands them out from a list. Both materialising clients hold "
             "every row (the RSS column). The peak RSS growth is VmHWM after the read minus "
             "VmRSS before it, so a client that holds less than what it freed since start-up "
             "shows about 0." % (", ".join(versions) or "none"))
    if r.get("big"):
        b = r["big"]
        L.append("")
        L.append("**%s rows through `conn.stream()`**: %.1f s, peak RSS of the whole process "
                 "%.1f MB (%+.1f MB over the RSS before the read); the query, `%s`, makes its "
                 "rows as they are sent (a `generate_series` of that size alone is built whole on "
                 "the server before the first row leaves)."
                 % ("{:,}".format(b["rows"]), b["wall_s"], b["peak_rss_mb"],
                    b["peak_rss_growth_mb"], r["big_sql"]))
    L.append("")
    L.append("What a stream does: the core runs the statement in libpq's single-row mode, copies "
             "each row into a batch and frees libpq's per-row result at once, and reads the "
             "socket only while a batch is asked for, so the server waits on its own output and "
             "the client holds one batch (`docs/core.md`, Decisions: Streams). Reproduce: "
             "`bash bench/run.sh stream` (`BENCH_STREAM_ROWS`, `BENCH_STREAM_BIG_ROWS`, "
             "`BENCH_STREAM_REPEAT`, `BENCH_STREAM_CLIENTS`).")
    L.append("<!-- notes:stream-python end -->")
    return L


if __name__ == "__main__":
    if sys.argv[1:] == ["--stream"]:
        replace_section("notes:stream-python", stream_section())
    elif sys.argv[1:] == ["--loop-delay"]:
        replace_loop_delay_section()
    elif sys.argv[1:] == ["--pipeline"]:
        replace_section("notes:pipeline", pipeline_section())
    else:
        main()
