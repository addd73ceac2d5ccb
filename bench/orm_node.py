"""bench/orm_node.py -- the Node ORM table: each Node ORM on the stock `pg`
and on pgatomic/pg, for the transaction shapes of research/orm-integration.md
section 2.  Started by `bash bench/run.sh node-orms` inside `scripts/pgtmp run`.

Per (ORM, shape), for each driver (bench/node/node-orm.js ORM DRIVER):
  rt     round trips per transaction through the counting proxy (no delay),
         BENCH_RT_TXNS transactions after a warm-up;
  delay  transactions per second through the proxy adding BENCH_DELAY_US
         each way, BENCH_DELAY_SECONDS per run, BENCH_REPEAT runs taking
         turns (pg, pgatomic, pg, pgatomic, ...); the median counts, and
         the ratio is of the medians.
Writes bench/results/orm-node.json and the section "orm:node" of
docs/benchmarks.md (through bench/orm.py's write_section; bench/report.py
keeps it).
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from orm import write_section  # noqa: E402

ORMS = ["sequelize", "knex", "kysely", "drizzle", "typeorm", "prisma"]
DRIVERS = ["pg", "pgatomic"]
SHAPES = ["insert", "transfer", "serializable", "nested", "nestedfail", "empty", "emptynested"]
# The "with deferral" column of the research's round-trip table.
RT_TARGET = {"insert": 2, "transfer": 3, "serializable": 2, "nested": 3, "nestedfail": 3,
             "empty": 0, "emptynested": 0}
SHAPE_TEXT = {
    "insert": "`tx { INSERT }`",
    "transfer": "`tx { UPDATE; UPDATE }`",
    "serializable": "`tx(SERIALIZABLE) { SELECT }`",
    "nested": "`tx { INSERT; tx { INSERT } }`",
    "nestedfail": "`tx { INSERT; tx { INSERT; throw } }`, caught",
    "empty": "empty `tx {}`",
    "emptynested": "empty nested `tx { tx {} }`",
}
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
DELAY_SECONDS = float(os.environ.get("BENCH_DELAY_SECONDS", "0.8"))
DELAY_US = int(os.environ.get("BENCH_DELAY_US", "500"))
RT_TXNS = int(os.environ.get("BENCH_RT_TXNS", "100"))
TRANSFER_TARGET = 1.3


def log(msg):
    print("bench orm: " + msg, file=sys.stderr, flush=True)


def run(orm, driver, args, timeout):
    cmd = ["node", os.path.join(harness.BENCH, "node", "node-orm.js"), orm, driver] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": "timed out after %ds" % timeout}
    if proc.returncode != 0:
        return {"error": "exit %d: %s" % (proc.returncode, harness.last_line(err))}
    try:
        return json.loads(harness.last_line(out))
    except ValueError:
        return {"error": "no result line: " + harness.last_line(out + err)}


def versions():
    out = {}
    for name in ("pg", "sequelize", "knex", "kysely", "drizzle-orm", "typeorm",
                 "@prisma/adapter-pg", "@prisma/client-engine-runtime"):
        try:
            with open(os.path.join(harness.PEERS, "node", "node_modules", name, "package.json")) as f:
                out[name] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            pass
    return out


def main():
    orms = harness.chosen("BENCH_ORMS", ORMS)
    shapes = harness.chosen("BENCH_SHAPES", SHAPES)
    host, port = os.environ["PGHOST"], os.environ.get("PGPORT", "5432")
    upstream = "unix:%s/.s.PGSQL.%s" % (host, port)
    os.makedirs(harness.RESULTS, exist_ok=True)
    db = harness.psycopg.connect("host=%s port=%s" % (host, port), autocommit=True)
    harness.make_tables(db)
    info = harness.machine(db)
    info["orm_peers"] = versions()
    plain = harness.Proxy(upstream, 0)
    slow = harness.Proxy(upstream, DELAY_US)
    started = time.time()
    cells = []
    try:
        for orm in orms:
            for shape in shapes:
                cell = {"orm": orm, "shape": shape}
                for driver in DRIVERS:
                    harness.reset_tables(db)
                    cell[driver] = {"rt": run(orm, driver, [
                        "--shape", shape, "--host", "127.0.0.1", "--port", str(plain.port),
                        "--txns", str(RT_TXNS), "--warmup", "10", "--control", str(plain.control)],
                        timeout=180), "delay_runs": []}
                for _ in range(REPEAT):
                    for driver in DRIVERS:
                        harness.reset_tables(db)
                        cell[driver]["delay_runs"].append(run(orm, driver, [
                            "--shape", shape, "--host", "127.0.0.1", "--port", str(slow.port),
                            "--seconds", str(DELAY_SECONDS), "--warmup", "10"],
                            timeout=int(DELAY_SECONDS * 5 + 90)))
                for driver in DRIVERS:
                    cell[driver]["delay"] = harness.median_run(cell[driver]["delay_runs"])
                cells.append(cell)
                a, b = cell["pg"], cell["pgatomic"]
                log("%-9s %-12s rt pg %6s atomic %6s   tps@%dus pg %7s atomic %7s" % (
                    orm, shape, a["rt"].get("rt_per_txn", "ERR"), b["rt"].get("rt_per_txn", "ERR"),
                    DELAY_US, a["delay"].get("tps", "ERR"), b["delay"].get("tps", "ERR")))
                for driver in DRIVERS:
                    for mode in ("rt", "delay"):
                        if "error" in cell[driver][mode]:
                            log("  %s %s %s %s: %s" % (orm, driver, shape, mode, cell[driver][mode]["error"]))
    finally:
        plain.stop()
        slow.stop()
        db.close()
    info["loadavg_end"] = harness.sh("cat /proc/loadavg")
    results = {
        "machine": info,
        "config": {"repeat": REPEAT, "delay_seconds": DELAY_SECONDS, "delay_us": DELAY_US,
                   "rt_txns": RT_TXNS, "proxy": plain.kind,
                   "elapsed_s": round(time.time() - started, 1)},
        "orms": orms, "shapes": shapes, "cells": cells,
    }
    with open(os.path.join(harness.RESULTS, "orm-node.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_section("node", "\n".join(section(results)) + "\n")
    log("wrote bench/results/orm-node.json and the section orm:node of docs/benchmarks.md "
        "(%.0f s)" % (time.time() - started))


def fmt(v, digits=0):
    if v is None:
        return "-"
    return ("{:,.%df}" % digits).format(v)


def section(results):
    """The ORM section of docs/benchmarks.md, as a list of lines."""
    cells = {(c["orm"], c["shape"]): c for c in results["cells"]}
    cfg, m = results["config"], results["machine"]
    L = ["<!-- orm:node begin -->", "## Node ORMs on `pg` and on `pgatomic/pg`", ""]
    L.append("Written by `bash bench/run.sh node-orms` (`bench/orm_node.py`; raw numbers in "
             "`bench/results/orm-node.json`), %s, load average %s at the start and %s at the end "
             "(the machine is shared). Each ORM runs unchanged on the stock `pg` and on "
             "`pgatomic/pg` given through its ordinary configuration line "
             "(`bench/node/node-orm.js`), one connection, statements awaited one after another. "
             "Round trips are counted on the wire by the proxy over %d transactions; "
             "transactions per second through the proxy adding %d µs each way, %d runs of "
             "%.1f s per driver taking turns (median). Peers: %s." % (
                 m.get("date", "?"), m.get("loadavg_start", "?").split(" ")[0],
                 m.get("loadavg_end", "?").split(" ")[0], cfg["rt_txns"], cfg["delay_us"],
                 cfg["repeat"], cfg["delay_seconds"],
                 ", ".join("%s %s" % kv for kv in sorted(m.get("orm_peers", {}).items()))))
    L.append("")
    checks = []
    for orm in results["orms"]:
        c = cells.get((orm, "transfer"))
        if not c:
            continue
        a = c["pg"]["delay"].get("tps")
        b = c["pgatomic"]["delay"].get("tps")
        ok = None if not a or not b else b / a >= TRANSFER_TARGET
        checks.append((orm, a, b, ok))
    for shape in results["shapes"]:
        for orm in results["orms"]:
            c = cells.get((orm, shape))
            if c:
                v = c["pgatomic"]["rt"].get("rt_per_txn")
                checks.append(("rt %s %s" % (orm, shape), None, v,
                               None if v is None else round(v, 2) <= RT_TARGET[shape]))
    met = sum(1 for x in checks if x[3])
    L.append("Targets (issue 10): round trips per transaction on `pgatomic/pg` at most the "
             "\"with deferral\" column of research/orm-integration.md section 2, and on the "
             "transfer shape at %d µs each way at least %.1f× `pg`, for every ORM: **%d of %d "
             "checks met**%s." % (
                 cfg["delay_us"], TRANSFER_TARGET, met, len(checks),
                 "; not met: " + ", ".join(x[0] for x in checks if x[3] is False)
                 if any(x[3] is False for x in checks) else ""))
    L.append("")
    L.append("| ORM | shape | round trips: pg | pgatomic/pg | target | tps @%d µs: pg | "
             "pgatomic/pg | ratio |" % cfg["delay_us"])
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for orm in results["orms"]:
        for shape in results["shapes"]:
            c = cells.get((orm, shape))
            if not c:
                continue
            a, b = c["pg"], c["pgatomic"]
            ra, rb = a["rt"].get("rt_per_txn"), b["rt"].get("rt_per_txn")
            ta, tb = a["delay"].get("tps"), b["delay"].get("tps")
            ratio = "%.2f×" % (tb / ta) if ta and tb else "-"
            if shape == "transfer" and ta and tb:
                ratio = "**%s**" % ratio
            L.append("| %s | %s | %s | %s | %d | %s | %s | %s |" % (
                orm, SHAPE_TEXT[shape], fmt(ra, 2) if ra is not None else "ERR",
                fmt(rb, 2) if rb is not None else "ERR", RT_TARGET[shape],
                fmt(ta, 0) if ta else "ERR", fmt(tb, 0) if tb else "ERR", ratio))
    errors = []
    for c in results["cells"]:
        for driver in DRIVERS:
            for mode in ("rt", "delay"):
                e = c[driver][mode].get("error")
                if e:
                    errors.append("- %s, %s, %s (%s): %s" % (c["orm"], c["shape"], driver, mode, e))
    if errors:
        L += ["", "Errors:"] + errors
    L.append("")
    L.append("How each ORM is used: Sequelize `sequelize.transaction()` with `{ transaction: t }` "
             "for nesting (`dialectModule` for pgatomic/pg); knex `knex.transaction()` / "
             "`trx.transaction()` on a `connectionPool`; Kysely `db.transaction()`, nesting as "
             "savepoints of `db.startTransaction()`; drizzle `db.transaction()` / "
             "`tx.transaction()` on a `client` Pool; TypeORM `dataSource.transaction()` / "
             "`manager.transaction()` (`driver`); Prisma 7's `TransactionManager` over "
             "`@prisma/adapter-pg` as `$transaction` drives it (`Client` option). Reproduce: "
             "`bash bench/run.sh node-orms` (knobs `BENCH_ORMS`, `BENCH_SHAPES`, `BENCH_REPEAT`, "
             "`BENCH_DELAY_SECONDS`, `BENCH_DELAY_US`, `BENCH_RT_TXNS`).")
    L.append("<!-- orm:node end -->")
    return L


if __name__ == "__main__":
    if sys.argv[1:] == ["--report"]:
        with open(os.path.join(harness.RESULTS, "orm-node.json")) as f:
            write_section("node", "\n".join(section(json.load(f))) + "\n")
    else:
        main()
