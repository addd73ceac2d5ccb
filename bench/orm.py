"""bench/orm.py -- an ORM on its stock driver against the same ORM on
pgatomic, with nothing but the backend setting different.  Started by
`bash bench/run.sh django` (or `sqlalchemy`) inside `scripts/pgtmp run`.

    orm.py django     the seeds' Django code (bench/python/orm-django.py),
                      Django's postgresql backend on psycopg 3 vs
                      ENGINE "pgatomic.django"
    orm.py sqlalchemy SQLAlchemy's ORM (bench/python/orm-sqlalchemy.py) on
                      postgresql+psycopg vs postgresql+pgatomic
    orm.py django --report   only rewrite the section from the last results

Per (client, shape), each a fresh client process: round trips per
transaction through the counting proxy (BENCH_RT_TXNS transactions after
a warm-up), then transactions per second through the proxy adding
BENCH_DELAY_US each way, BENCH_REPEAT times with the clients taking turns
(the median counts), and the same over the unix socket.  Writes
bench/results/orm-NAME.json and the section "ORM: NAME" of
docs/benchmarks.md (between its markers; bench/report.py keeps it).
"""

import json
import os
import subprocess
import sys
import time

from harness import BENCH, PY, RESULTS, Proxy, last_line, log, machine, median_run

import psycopg

ROOT = os.path.dirname(BENCH)
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
SECONDS = float(os.environ.get("BENCH_SECONDS", "0.8"))
DELAY_SECONDS = float(os.environ.get("BENCH_DELAY_SECONDS", "2"))
DELAY_US = int(os.environ.get("BENCH_DELAY_US", "500"))
RT_TXNS = int(os.environ.get("BENCH_RT_TXNS", "100"))

SUITES = {
    "django": {
        "title": "Django ORM: psycopg vs pgatomic.django",
        "script": os.path.join(BENCH, "python", "orm-django.py"),
        "clients": {"django-psycopg": {"DJANGO_BENCH_ENGINE": "django.db.backends.postgresql"},
                    "django-pgatomic": {"DJANGO_BENCH_ENGINE": "pgatomic.django"}},
        "baseline": "django-psycopg",
        "candidate": "django-pgatomic",
        "shapes": {
            "seed000": ("seed 000: `OrderCreateSerializer.save()` — get_or_create (new "
                        "customer: SELECT, savepoint INSERT), `Order.objects.create`, "
                        "`select_related` cart items, `bulk_create` of 2 items", 5),
            "seed001": ("seed 001: `CreateChargeView.post()` — `user.save()` in atomic", 1),
            "seed002": ("seed 002: `my_view()` — `obj1.save(); obj2.save()` in atomic", 2),
            "nested": ("`atomic { create; atomic { create } }`", 2),
        },
        "target_ratio": 1.3,
        "ratio_shapes": ("seed000", "seed001", "seed002"),
        "issue": 12,
        "about": ("Django %(django)s, psycopg %(psycopg)s. The same code (`examples/django`, "
                  "the seeds' Django code) runs on both; only "
                  "`DATABASES['default']['ENGINE']` differs."),
    },
    "sqlalchemy": {
        "title": "SQLAlchemy ORM: psycopg vs postgresql+pgatomic",
        "script": os.path.join(BENCH, "python", "orm-sqlalchemy.py"),
        "clients": {"sqlalchemy-psycopg": {"SA_BENCH_DRIVER": "psycopg"},
                    "sqlalchemy-pgatomic": {"SA_BENCH_DRIVER": "pgatomic"}},
        "baseline": "sqlalchemy-psycopg",
        "candidate": "sqlalchemy-pgatomic",
        "shapes": {
            "insert": ("`Session` + `s.begin()`: `s.add(Item(v=i))` (INSERT … RETURNING)", 1),
            "transfer": ("two ORM-enabled `update(Account)`: debit, credit", 2),
            "nested": ("INSERT; `with s.begin_nested():` INSERT", 2),
            "nested_fail": ("INSERT; `with s.begin_nested():` an INSERT of an existing key, "
                            "its IntegrityError caught; the outer transaction commits", 2),
            "empty": ("`with Session() as s, s.begin(): pass`", 0),
        },
        "target_ratio": 1.3,
        "ratio_shapes": ("transfer",),
        "issue": 11,
        "about": ("SQLAlchemy %(sqlalchemy)s, psycopg %(psycopg)s. The same program "
                  "(`bench/python/orm-sqlalchemy.py`: declarative models, `Session`, "
                  "`begin_nested()`) runs on both; only the URL's driver differs "
                  "(`postgresql+psycopg` / `postgresql+pgatomic`)."),
    },
}


def run(script, env_extra, args, timeout):
    env = dict(os.environ, **env_extra)
    proc = subprocess.run([PY, script] + args, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=os.path.dirname(script))
    if proc.returncode != 0:
        return {"error": "exit %d: %s" % (proc.returncode, last_line(proc.stderr))}
    try:
        return json.loads(last_line(proc.stdout))
    except ValueError:
        return {"error": "no result line: " + last_line(proc.stdout + proc.stderr)}


def measure(suite):
    host, port = os.environ["PGHOST"], os.environ.get("PGPORT", "5432")
    upstream = "unix:%s/.s.PGSQL.%s" % (host, port)
    plain, slow = Proxy(upstream, 0), Proxy(upstream, DELAY_US)
    cells = []
    try:
        for shape in suite["shapes"]:
            runs = {c: {"delay": [], "socket": []} for c in suite["clients"]}
            for _ in range(REPEAT):
                for client, env in suite["clients"].items():
                    runs[client]["delay"].append(run(suite["script"], env, [
                        "--shape", shape, "--host", "127.0.0.1", "--port", str(slow.port),
                        "--seconds", str(DELAY_SECONDS), "--warmup", "10"],
                        timeout=int(DELAY_SECONDS * 5 + 120)))
                    runs[client]["socket"].append(run(suite["script"], env, [
                        "--shape", shape, "--host", host, "--port", port,
                        "--seconds", str(SECONDS), "--warmup", "50"],
                        timeout=int(SECONDS * 5 + 120)))
            for client, env in suite["clients"].items():
                cell = {"client": client, "shape": shape,
                        "delay": median_run(runs[client]["delay"]),
                        "socket": median_run(runs[client]["socket"]),
                        "rt": run(suite["script"], env, [
                            "--shape", shape, "--host", "127.0.0.1", "--port", str(plain.port),
                            "--txns", str(RT_TXNS), "--warmup", "10",
                            "--control", str(plain.control)], timeout=300)}
                cells.append(cell)
                log("%-16s %-8s rt/txn %6s  tps@%dus %8s  tps %8s" % (
                    client, shape, cell["rt"].get("rt_per_txn", "ERR"), DELAY_US,
                    cell["delay"].get("tps", "ERR"), cell["socket"].get("tps", "ERR")))
                for mode in ("rt", "delay", "socket"):
                    if "error" in cell[mode]:
                        log("  %s %s %s: %s" % (client, shape, mode, cell[mode]["error"]))
    finally:
        plain.stop()
        slow.stop()
    return cells


def num(cell, mode, key):
    v = (cell or {}).get(mode, {}).get(key)
    return v if isinstance(v, (int, float)) else None


def spread(runs):
    """(fastest - slowest) / median of a cell's runs, or None."""
    ok = sorted(v for v in runs or () if isinstance(v, (int, float)))
    if len(ok) < 2 or ok[len(ok) // 2] == 0:
        return None
    return (ok[-1] - ok[0]) / ok[len(ok) // 2]


def fmt(v, pattern="{:,.0f}"):
    return "n/a" if v is None else pattern.format(v)


def section(name, suite, results):
    """The markdown of this ORM's section of docs/benchmarks.md."""
    cells = {(c["client"], c["shape"]): c for c in results["cells"]}
    base, cand = suite["baseline"], suite["candidate"]
    m, cfg = results["machine"], results["config"]
    delay_us = cfg["delay_us"]
    L = ["<!-- orm:%s begin -->" % name, "## %s" % suite["title"], "",
         "Written by `bash bench/run.sh %s` (`bench/orm.py`) on %s: %s; %s Round trips are "
         "counted on the wire by "
         "the proxy (%d transactions after a warm-up); transactions per second go through "
         "the proxy with %d µs added each way (%.1f s per run) and over the unix socket "
         "(%.1f s per run), the median of %d runs with the two backends taking turns. "
         "The machine is shared (load average %s at the start, %s at the end)."
         % (name, m["date"], m["cpu"] or "unknown CPU",
            suite["about"] % {k: m["python_peers"].get(k, "?")
                              for k in ("django", "psycopg", "sqlalchemy")},
            cfg["rt_txns"], delay_us,
            cfg["delay_seconds"], cfg["seconds"], cfg["repeat"],
            m["loadavg_start"].split()[0], m["loadavg_end"].split()[0]), "",
         "| shape | ORM statements k | round trips: psycopg | pgatomic | tps @ %d µs: psycopg "
         "| pgatomic | × | tps (socket): psycopg | pgatomic | × |" % delay_us,
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for shape, (text, k) in suite["shapes"].items():
        b, c = cells.get((base, shape)), cells.get((cand, shape))
        brt, crt = num(b, "rt", "rt_per_txn"), num(c, "rt", "rt_per_txn")
        bd, cd = num(b, "delay", "tps"), num(c, "delay", "tps")
        bs, cs = num(b, "socket", "tps"), num(c, "socket", "tps")
        rd = cd / bd if bd and cd else None
        rs = cs / bs if bs and cs else None
        L.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            text, k, fmt(brt, "{:g}"), fmt(crt, "{:g}"), fmt(bd), fmt(cd),
            fmt(rd, "{:.2f}×"), fmt(bs), fmt(cs), fmt(rs, "{:.2f}×")))
        want = k + 1 if k else 0        # an empty transaction sends nothing
        ok_rt = crt is not None and abs(crt - want) < 0.005
        verdicts.append("- %s: %s round trips for k = %d ORM statements (target %s = %d): %s."
                        % (shape, fmt(crt, "{:g}"), k, "k+1" if k else "none", want,
                           "**met**" if ok_rt else "**NOT met**"))
        if shape in suite["ratio_shapes"]:
            ok = rd is not None and rd >= suite["target_ratio"]
            verdicts.append("- %s at %d µs each way: %s psycopg (target ≥ %.1f×): %s."
                            % (shape, delay_us, fmt(rd, "{:.2f}×"), suite["target_ratio"],
                               "**met**" if ok else "**NOT met**"))
    spreads = sorted(spread(c[mode].get("tps_runs")) for c in results["cells"]
                     for mode in ("delay", "socket") if spread(c[mode].get("tps_runs")) is not None)
    if spreads:
        L += ["", "How much to trust the tps figures: across the %d runs of each cell, the "
              "spread (fastest − slowest) / median was %.0f%% for the median cell and %.0f%% "
              "at worst; client, proxy and server share the machine's cores with whatever "
              "else runs, so a verdict within that margin of its threshold could go either "
              "way on another run. The round-trip counts are exact." % (
                  cfg["repeat"], 100 * spreads[len(spreads) // 2], 100 * spreads[-1])]
    errors = ["- %s %s %s: %s" % (c["client"], c["shape"], mode, c[mode]["error"])
              for c in results["cells"] for mode in ("rt", "delay", "socket")
              if "error" in c[mode]]
    L += ["", "Targets of issue %d:" % suite["issue"], ""] + verdicts
    if errors:
        L += ["", "Errors:", ""] + errors
    L += ["<!-- orm:%s end -->" % name]
    return "\n".join(L) + "\n"


def write_section(name, text):
    """Replace this ORM's section of docs/benchmarks.md (or append it)."""
    begin, end = "<!-- orm:%s begin -->" % name, "<!-- orm:%s end -->" % name
    doc = open(DOC).read() if os.path.exists(DOC) else "# Benchmarks\n"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        doc = head + text + ("\n" + tail if tail else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(DOC, "w") as f:
        f.write(doc)


def main(name, report_only=False):
    suite = SUITES[name]
    path = os.path.join(RESULTS, "orm-%s.json" % name)
    if report_only:
        with open(path) as f:
            write_section(name, section(name, suite, json.load(f)))
        return
    db = psycopg.connect("host=%s port=%s" % (os.environ["PGHOST"],
                                              os.environ.get("PGPORT", "5432")), autocommit=True)
    info = machine(db)
    db.close()
    started = time.time()
    cells = measure(suite)
    info["loadavg_end"] = open("/proc/loadavg").read().strip()
    results = {"machine": info, "cells": cells,
               "config": {"repeat": REPEAT, "seconds": SECONDS, "delay_seconds": DELAY_SECONDS,
                          "delay_us": DELAY_US, "rt_txns": RT_TXNS,
                          "elapsed_s": round(time.time() - started, 1)}}
    os.makedirs(RESULTS, exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    write_section(name, section(name, suite, results))
    log("wrote %s and the '%s' section of docs/benchmarks.md (%.0f s)"
        % (os.path.relpath(path, ROOT), suite["title"], time.time() - started))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(next((a for a in args if not a.startswith("-")), "django"), "--report" in args)
