"""bench/prepare.py -- pgatomic with its prepared statements (the default
threshold) beside pgatomic with them off (PGA_PREPARE_THRESHOLD=0), in
every front end, over the unix socket.  Started by `bash bench/run.sh
prepare` inside `scripts/pgtmp run`.

Per (client, shape), REPEAT rounds; in each round the two variants run one
after the other, each a fresh process of bench/<lang>/<client> for
BENCH_SECONDS after BENCH_WARMUP transactions (which is when the
statements get prepared), the order swapped every round, every client of a
shape taking its turn inside the round, so that what else the machine does
falls on both alike.  The ratio that counts is the median of the rounds'
own ratios (default / off, each pair measured seconds apart); the median
tps of each variant is shown beside it.  The load average is recorded at
the start and the end.  Writes bench/results/prepare.json and the section
"notes:prepare" of docs/benchmarks.md (kept by bench/report.py).
"""

import datetime
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the same clients, tables and runner)
import report  # noqa: E402  (the section writer)

CLIENTS = harness.chosen("BENCH_CLIENTS", ["c-pgatomic", "py-pgatomic", "node-pgatomic"])
SHAPES = harness.chosen("BENCH_SHAPES", ["insert", "transfer"])
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "5")))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "100"))
VARIANTS = (("default", "5"), ("off", "0"))  # "default": the core's, psycopg's 5
RESULTS = os.path.join(harness.RESULTS, "prepare.json")


def run(client, shape, host, port, threshold):
    if threshold is None:
        os.environ.pop("PGA_PREPARE_THRESHOLD", None)
    else:
        os.environ["PGA_PREPARE_THRESHOLD"] = threshold
    try:
        return harness.run_client(client, [
            "--shape", shape, "--host", host, "--port", port,
            "--seconds", str(SECONDS), "--warmup", str(WARMUP)],
            timeout=int(SECONDS * 5 + 60))
    finally:
        os.environ.pop("PGA_PREPARE_THRESHOLD", None)


def main():
    host, port, _, db = harness.open_run()
    info = harness.machine(db)
    clients = [c for c in CLIENTS if not harness.available(c)]
    started = time.time()
    cells = []
    for shape in SHAPES:
        runs = {(c, v): [] for c in clients for v, _ in VARIANTS}
        for k in range(REPEAT):
            for client in clients:
                order = VARIANTS if k % 2 == 0 else VARIANTS[::-1]
                for variant, threshold in order:
                    harness.reset_tables(db)
                    runs[(client, variant)].append(run(client, shape, host, port, threshold))
        for client in clients:
            on, off = runs[(client, "default")], runs[(client, "off")]
            pairs = [a["tps"] / b["tps"] for a, b in zip(on, off)
                     if "tps" in a and "tps" in b and b["tps"]]
            ok_on = [r["tps"] for r in on if "tps" in r]
            ok_off = [r["tps"] for r in off if "tps" in r]
            cell = {"client": client, "shape": shape,
                    "tps_default": ok_on, "tps_off": ok_off,
                    "median_default": statistics.median(ok_on) if ok_on else None,
                    "median_off": statistics.median(ok_off) if ok_off else None,
                    "pair_ratios": [round(p, 3) for p in pairs],
                    "ratio": round(statistics.median(pairs), 3) if pairs else None,
                    "errors": [r["error"] for r in on + off if "error" in r]}
            cells.append(cell)
            harness.log("%-14s %-8s default %s  off %s  ratio %s" % (
                client, shape, cell["median_default"], cell["median_off"], cell["ratio"]))
    db.close()
    info["loadavg_end"] = harness.sh("cat /proc/loadavg")
    result = {"machine": info, "config": {"seconds": SECONDS, "repeat": REPEAT, "warmup": WARMUP,
                                          "elapsed_s": round(time.time() - started, 1)},
              "cells": cells}
    os.makedirs(harness.RESULTS, exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(result, f, indent=1)
    write_section(result)


def fmt(v):
    return "{:,.0f}".format(v) if v is not None else "-"


def section(r):
    m, c = r["machine"], r["config"]
    L = ["<!-- notes:prepare begin -->",
         "## Prepared statements: pgatomic beside itself with them off",
         "",
         "Written by `bench/prepare.py` (`bash bench/run.sh prepare`, "
         "`bench/results/prepare.json`) on %s, pgatomic %s, over the unix socket: each "
         "front end's bench client with the default threshold, 5 (`PGA_PREPARE_THRESHOLD=5`, "
         "psycopg's choice; a text is prepared at its "
         "5th run; the warm-up of %d transactions prepares them) and with "
         "`PGA_PREPARE_THRESHOLD=0` (never), each run a process of its own for %g s, the two "
         "variants back to back in each of %d rounds (order swapped every round). The ratio is "
         "the median of the rounds' own ratios. Load average %s at the start, %s at the end "
         "(%s cores, shared with the other engineers' builds and tests)."
         % (m["date"], m.get("pgatomic") or "?", c["warmup"], c["seconds"], c["repeat"],
            m["loadavg_start"].split()[0], m["loadavg_end"].split()[0], m["nproc"]),
         "",
         "| client | shape | tps, default (median) | tps, threshold 0 (median) | "
         "ratio (median of rounds) | each round's ratio |",
         "|---|---|---:|---:|---:|---|"]
    for cell in r["cells"]:
        L.append("| %s | %s | %s | %s | **%s** | %s |" % (
            cell["client"], cell["shape"], fmt(cell["median_default"]), fmt(cell["median_off"]),
            "%.2f×" % cell["ratio"] if cell["ratio"] is not None else "-",
            ", ".join("%.2f" % p for p in cell["pair_ratios"])))
    L.append("<!-- notes:prepare end -->")
    return "\n".join(L)


def write_section(r):
    report.replace_section("notes:prepare", section(r).split("\n"))


if __name__ == "__main__":
    if sys.argv[1:] == ["--report"]:
        with open(RESULTS) as f:
            write_section(json.load(f))
    else:
        main()
