"""bench/harness.py -- runs every (client x shape) and writes
bench/results/results.json.  Started by bench/run.sh inside `scripts/pgtmp
run`, so PGHOST/PGPORT/PGUSER/PGDATABASE name a throwaway server.

Per (client, shape), each a fresh client process that prints one JSON line:
  socket  tps over the unix socket for BENCH_SECONDS, BENCH_REPEAT times
          (the clients of a shape take turns; the median counts), and the
          peak RSS;
  rt      round trips per transaction: through the counting proxy with no
          delay, `reset` after the warm-up, BENCH_RT_TXNS transactions,
          `stats` (connection setup is excluded);
  delay   tps through the proxy adding BENCH_DELAY_US each way, for
          BENCH_DELAY_SECONDS.
Then pgatomic's memory per idle connection, per open transaction and over
many blocks (bench/python/mem-pgatomic.py, bench/node/mem-pgatomic.js).

The tables are made here and emptied before every run, so every client
starts from the same data.  Nothing is asserted: a client that fails is
recorded with its error and the run goes on.
"""

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

import psycopg

ROOT = os.environ.get("BENCH_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PEERS = os.path.join(BENCH, ".peers")
BIN = os.path.join(PEERS, "bin")
PY = os.path.join(PEERS, "venv", "bin", "python")
RESULTS = os.path.join(BENCH, "results")

SHAPES = ["insert", "transfer", "nested", "empty", "ten", "select"]
CLIENTS = [
    "c-naive", "c-pipelined", "c-pgatomic",
    "py-pgatomic", "py-psycopg", "py-django", "py-sqlalchemy",
    "node-pgatomic", "node-pg", "node-pg-native", "node-pg-promise", "node-knex", "node-sequelize",
    "node-postgres-js", "aio-asyncpg",
    # Pipelined transactions (docs/pipeline.md) and psycopg's pipeline mode.
    "c-pgatomic-pipe", "py-pgatomic-pipe", "node-pgatomic-pipe", "py-psycopg-pipe",
    "py-dbapi-pipe",
]
# Clients that implement only some shapes (the others are not run for them).
CLIENT_SHAPES = {"aio-asyncpg": ("insert", "transfer", "nested", "empty"),
                 # A manual transaction stays open after a read: no "select".
                 "py-dbapi-pipe": ("insert", "transfer", "nested", "empty", "ten")}

SECONDS = float(os.environ.get("BENCH_SECONDS", "0.8"))
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
DELAY_SECONDS = float(os.environ.get("BENCH_DELAY_SECONDS", "0.8"))
DELAY_US = int(os.environ.get("BENCH_DELAY_US", "500"))
# Rounds of the delayed runs, each running every client once in turn (the
# median counts), as the socket runs; 1 keeps the full table's cost.
DELAY_REPEAT = max(1, int(os.environ.get("BENCH_DELAY_REPEAT", "1")))
RT_TXNS = int(os.environ.get("BENCH_RT_TXNS", "100"))
MEM_BLOCKS = int(os.environ.get("BENCH_MEM_BLOCKS", "100000"))
SOCKET_WARMUP = int(os.environ.get("BENCH_WARMUP", "100"))


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def command(client):
    if client.startswith("c-"):
        return [os.path.join(BIN, client)]
    if client.startswith(("py-", "aio-")):
        return [PY, os.path.join(BENCH, "python", client + ".py")]
    return ["node", os.path.join(BENCH, "node", client + ".js")]


def available(client):
    """None when the client can run, else why not."""
    if client.startswith("c-"):
        return None if os.access(command(client)[0], os.X_OK) else "not built"
    if client in ("py-pgatomic", "aio-pgatomic", "py-pgatomic-pipe", "py-dbapi-pipe"):
        r = subprocess.run([PY, "-c", "import pgatomic, pgatomic._pgatomic"],
                           capture_output=True, text=True, cwd=BENCH)
        return None if r.returncode == 0 else "pgatomic does not import: " + last_line(r.stderr)
    if client in ("node-pgatomic", "node-pgatomic-pipe"):
        r = subprocess.run(["node", "-e", "require(%r)" % ROOT], capture_output=True, text=True)
        return None if r.returncode == 0 else "pgatomic does not load: " + last_line(r.stderr)
    if client == "node-pg-native":
        # pg.native is null when pg-native (built by node-gyp) did not install.
        pg = os.path.join(PEERS, "node", "node_modules", "pg")
        r = subprocess.run(["node", "-e", "if (!require(%r).native) process.exit(1)" % pg],
                           capture_output=True, text=True)
        return None if r.returncode == 0 else "pg-native is not installed in bench/.peers/node"
    if client == "aio-asyncpg":
        r = subprocess.run([PY, "-c", "import asyncpg"], capture_output=True, text=True)
        return None if r.returncode == 0 else "asyncpg does not import: " + last_line(r.stderr)
    return None


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""


def median_run(runs):
    """The run with the median tps, with every run's tps and the highest
    peak RSS of them all; an error if no run succeeded."""
    ok = sorted((r for r in runs if "tps" in r), key=lambda r: r["tps"])
    if not ok:
        return runs[-1] if runs else {"error": "not run"}
    best = dict(ok[(len(ok) - 1) // 2])
    best["tps_runs"] = [r["tps"] if "tps" in r else None for r in runs]
    best["maxrss_kb"] = max(r["maxrss_kb"] for r in ok)
    return best


def run_client(client, args, timeout):
    """Run one client process; its JSON line, or {"error": ...}."""
    proc = subprocess.Popen(command(client) + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"error": "timed out after %ds" % timeout}
    if proc.returncode != 0:
        return {"error": "exit %d: %s" % (proc.returncode, last_line(err))}
    try:
        return json.loads(last_line(out))
    except ValueError:
        return {"error": "no result line: " + last_line(out + err)}


class Proxy:
    """The counting proxy: tests/proxy/pgproxy.c when it built, else
    bench/proxy.py.  Same command line and control protocol."""

    def __init__(self, upstream, delay_us):
        exe = os.path.join(BIN, "pgproxy")
        if os.access(exe, os.X_OK):
            cmd, self.kind = [exe], "tests/proxy/pgproxy.c"
        else:
            cmd, self.kind = [sys.executable, os.path.join(BENCH, "proxy.py")], "bench/proxy.py"
        cmd += ["--listen", "127.0.0.1:0", "--upstream", upstream, "--control", "127.0.0.1:0"]
        if delay_us:
            cmd += ["--delay-us", str(delay_us)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listen=(\d+)\s+control=(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("proxy did not start: %r" % line)
        self.port, self.control = int(m.group(1)), int(m.group(2))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def delayed(client, shape, port):
    """One run of client through the delaying proxy."""
    return run_client(client, [
        "--shape", shape, "--host", "127.0.0.1", "--port", str(port),
        "--seconds", str(DELAY_SECONDS), "--warmup", "10"],
        timeout=int(DELAY_SECONDS * 5 + 60))


def make_tables(db):
    db.execute("CREATE TABLE IF NOT EXISTS bench_accounts (id int PRIMARY KEY, b bigint NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS bench_items (id bigserial PRIMARY KEY, v int)")


def reset_tables(db):
    db.execute("TRUNCATE bench_items, bench_accounts RESTART IDENTITY")
    db.execute("INSERT INTO bench_accounts SELECT g, 1000000 FROM generate_series(1, 1000) g")
    db.execute("VACUUM ANALYZE bench_accounts")


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip()
    except OSError:
        return ""


def source_version():
    """The commit benchmarked, and whether the tree had changes on top."""
    head = sh("git -C %s rev-parse --short HEAD 2>/dev/null" % ROOT)
    if not head:
        return ""
    dirty = sh("git -C %s status --porcelain --untracked-files=no -- core bindings python node "
               "2>/dev/null" % ROOT)
    return head + (" plus uncommitted changes to core/bindings" if dirty else "")


def machine(db):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = sh("free -g | awk '/^Mem:/ {print $2}'")
    node_versions = {}
    for name in ("pg", "pg-native", "libpq", "pg-promise", "knex", "sequelize", "postgres"):
        try:
            with open(os.path.join(PEERS, "node", "node_modules", name, "package.json")) as f:
                node_versions[name] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            pass
    py_versions = {}
    for name in ("psycopg", "django", "sqlalchemy", "asyncpg"):
        r = subprocess.run([PY, "-c", "import %s; print(%s.__version__)" % (name, name)],
                           capture_output=True, text=True)
        if r.returncode == 0:
            py_versions[name] = r.stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem,
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "pgatomic": source_version(),
        "postgresql": db.execute("SELECT version()").fetchone()[0],
        "server_settings": "fsync=off, synchronous_commit=off, full_page_writes=off (scripts/pgtmp)",
        "libpq": sh("pg_config --version"),
        "python": platform.python_version(),
        "node": sh("node --version"),
        "cc": sh("cc --version | head -n 1"),
        "python_peers": py_versions,
        "node_peers": node_versions,
        "loadavg_start": sh("cat /proc/loadavg"),
    }


def chosen(variable, names):
    """names, narrowed to the comma list in the environment variable if set."""
    only = [n for n in os.environ.get(variable, "").split(",") if n]
    return [n for n in names if not only or n in only]


def open_run():
    """The run's server (PG*, from scripts/pgtmp): host, port, the proxies'
    upstream and an admin connection with the tables made."""
    host, port = os.environ["PGHOST"], os.environ.get("PGPORT", "5432")
    os.makedirs(RESULTS, exist_ok=True)
    db = psycopg.connect("host=%s port=%s" % (host, port), autocommit=True)
    make_tables(db)
    return host, port, "unix:%s/.s.PGSQL.%s" % (host, port), db


def main():
    clients = chosen("BENCH_CLIENTS", CLIENTS)
    shapes = chosen("BENCH_SHAPES", SHAPES)
    host, port, upstream, db = open_run()
    info = machine(db)

    skipped = {}
    for c in clients:
        why = available(c)
        if why:
            skipped[c] = why
            log("skipping %s: %s" % (c, why))
    runnable = [c for c in clients if c not in skipped]

    plain = Proxy(upstream, 0)
    slow = Proxy(upstream, DELAY_US)
    log("proxy: %s (counting on port %d, %d us each way on port %d)"
        % (plain.kind, plain.port, DELAY_US, slow.port))
    started = time.time()
    cells = []
    try:
        for shape in shapes:
            # Unix socket: REPEAT rounds, each running every client once in
            # turn, so that whatever else the machine does falls on all of
            # them alike; the median round counts.
            here = [c for c in runnable if shape in CLIENT_SHAPES.get(c, (shape,))]
            socket_runs = {c: [] for c in here}
            for _ in range(REPEAT):
                for client in here:
                    reset_tables(db)
                    socket_runs[client].append(run_client(client, [
                        "--shape", shape, "--host", host, "--port", port,
                        "--seconds", str(SECONDS), "--warmup", str(SOCKET_WARMUP)],
                        timeout=int(SECONDS * 5 + 60)))
            delay_runs = {c: [] for c in here}
            for _ in range(DELAY_REPEAT - 1):
                for client in here:
                    reset_tables(db)
                    delay_runs[client].append(delayed(client, shape, slow.port))
            for client in here:
                cell = {"client": client, "shape": shape,
                        "socket": median_run(socket_runs[client])}
                reset_tables(db)
                cell["rt"] = run_client(client, [
                    "--shape", shape, "--host", "127.0.0.1", "--port", str(plain.port),
                    "--txns", str(RT_TXNS), "--warmup", "20",
                    "--control", str(plain.control)], timeout=120)
                reset_tables(db)
                delay_runs[client].append(delayed(client, shape, slow.port))
                cell["delay"] = (median_run(delay_runs[client]) if DELAY_REPEAT > 1
                                 else delay_runs[client][0])
                cells.append(cell)
                s, r, d = cell["socket"], cell["rt"], cell["delay"]
                log("%-17s %-8s tps %10s  rt/txn %6s  tps@%dus %8s  rss %s kB" % (
                    client, shape, s.get("tps", "ERR"), r.get("rt_per_txn", "ERR"),
                    DELAY_US, d.get("tps", "ERR"), s.get("maxrss_kb", "-")))
                for mode in ("socket", "rt", "delay"):
                    if "error" in cell[mode]:
                        log("  %s %s %s: %s" % (client, shape, mode, cell[mode]["error"]))
    finally:
        plain.stop()
        slow.stop()

    memory = {}
    if MEM_BLOCKS >= 0:
        reset_tables(db)
        for client, cmd in (("py-pgatomic", [PY, os.path.join(BENCH, "python", "mem-pgatomic.py")]),
                            ("node-pgatomic", ["node", "--expose-gc",
                                               os.path.join(BENCH, "node", "mem-pgatomic.js")])):
            if client in skipped or client not in clients:
                continue
            log("memory: %s" % client)
            r = subprocess.run(cmd + ["--blocks", str(MEM_BLOCKS)], capture_output=True,
                               text=True, timeout=600)
            try:
                memory[client] = json.loads(last_line(r.stdout))
            except ValueError:
                memory[client] = {"error": "exit %d: %s" % (r.returncode, last_line(r.stderr))}
    db.close()

    info["loadavg_end"] = sh("cat /proc/loadavg")
    results = {
        "machine": info,
        "config": {"seconds": SECONDS, "repeat": REPEAT, "delay_seconds": DELAY_SECONDS, "delay_us": DELAY_US,
                   "delay_repeat": DELAY_REPEAT,
                   "rt_txns": RT_TXNS, "socket_warmup": SOCKET_WARMUP,
                   "mem_blocks": MEM_BLOCKS, "proxy": plain.kind,
                   "elapsed_s": round(time.time() - started, 1)},
        "shapes": shapes,
        "clients": clients,
        "skipped": skipped,
        "cells": cells,
        "memory": memory,
    }
    # BENCH_RESULTS_NAME: a narrowed run (bash bench/run.sh pipeline) keeps
    # its cells apart from the full table's results.json.
    name = os.environ.get("BENCH_RESULTS_NAME", "results.json")
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(results, f, indent=1)
    log("wrote bench/results/%s (%.0f s)" % (name, time.time() - started))


if __name__ == "__main__":
    main()
