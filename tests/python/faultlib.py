"""Helpers shared by the reliability tests: bounded waits, the fault-injection
proxy (tests/proxy/pgproxy.c), independent direct connections, and a
throwaway server of a test's own (scripts/pgtmp with opt-in TCP/SSL).

Every wait here is bounded: sockets have timeouts, polls have deadlines, and
`deadline()` both raises inside the test (a signal, so the binding's
100 ms signal checks end a blocked query) and, as a last resort, makes
faulthandler dump every thread's stack and exit the process, so a hang can
never pass silently or stall CI."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pgatomic

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONNECT_TIMEOUT = 5          # seconds, libpq's connect_timeout for every DSN here


class Deadline(BaseException):
    """Raised in the main thread when a deadline() runs out.  A
    BaseException so that no `except Exception` in the code under test
    swallows it."""


@contextlib.contextmanager
def deadline(seconds: float, what: str = "the test"):
    """Bound the body: after `seconds` a Deadline is raised in the main
    thread; after `seconds + 30` the process dumps its threads and exits."""
    in_main = threading.current_thread() is threading.main_thread()
    # sys.__stderr__: pytest's capsys swaps sys.stderr for an object with
    # no file descriptor, which faulthandler needs.
    faulthandler.dump_traceback_later(seconds + 30, exit=True, file=sys.__stderr__)
    old = None
    if in_main:
        def expire(signum, frame):
            raise Deadline(f"{what} did not finish within {seconds} s")
        old = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if in_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01, what: str = "condition"):
    """Poll predicate() until it is true; fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def direct_dsn() -> str | None:
    """The server the suite uses, without the proxy (PG* / DATABASE_URL)."""
    return os.environ.get("DATABASE_URL") or None


def direct() -> pgatomic.Connection:
    return pgatomic.connect(direct_dsn())


def cancel_when_sleeping(conn, pid, fired):
    """From another thread: wait (polling pg_stat_activity on a connection of
    this thread's own) until pid sleeps in pg_sleep, then cancel it.  (It is
    'active' from the Parse on; a cancel that arrives before the Execute is
    read is dropped, and the sleep would run its 30 s.)"""
    watcher = direct()
    try:
        wait_until(lambda: watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
            [pid]).rows, timeout=10, what="the statement to start")
        fired.append(conn.cancel())
    finally:
        watcher.close()


def upstream() -> str:
    host = os.environ.get("PGHOST", "/var/run/postgresql")
    port = os.environ.get("PGPORT", "5432")
    if host.startswith("/"):
        return f"unix:{host}/.s.PGSQL.{port}"
    return f"tcp:{host}:{port}"


def proxy_binary() -> str:
    """out/pgproxy (make out/pgproxy), else built into a temp dir with cc."""
    path = os.environ.get("PGPROXY") or os.path.join(REPO, "out", "pgproxy")
    if os.access(path, os.X_OK):
        return path
    built = os.path.join(tempfile.mkdtemp(prefix="pgproxy."), "pgproxy")
    subprocess.run(["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-o", built,
                    os.path.join(REPO, "tests", "proxy", "pgproxy.c")], check=True)
    return built


class Proxy:
    """One pgproxy in front of the suite's server, with its control socket."""

    def __init__(self, binary: str | None = None, upstream_addr: str | None = None):
        self.proc = subprocess.Popen(
            [binary or proxy_binary(), "--listen", "127.0.0.1:0",
             "--upstream", upstream_addr or upstream(), "--control", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = {}

        def read_first_line():
            ready["line"] = self.proc.stdout.readline()
        t = threading.Thread(target=read_first_line, daemon=True)
        t.start()
        t.join(10)
        line = ready.get("line", "")
        if not line.startswith("listen="):
            self.proc.kill()
            raise RuntimeError(f"pgproxy did not start: {line!r} {self.proc.stderr.read()!r}")
        fields = dict(kv.split("=") for kv in line.split())
        self.port = int(fields["listen"])
        self.control_port = int(fields["control"])
        self._ctl = socket.create_connection(("127.0.0.1", self.control_port), timeout=10)
        self._ctl_file = self._ctl.makefile("r")

    def dsn(self, **extra: str) -> str:
        parts = {
            "host": "127.0.0.1", "port": str(self.port), "sslmode": "disable",
            "gssencmode": "disable", "connect_timeout": str(CONNECT_TIMEOUT),
            "user": os.environ.get("PGUSER", "postgres"),
            "dbname": os.environ.get("PGDATABASE", "postgres"),
        }
        parts.update(extra)
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def command(self, line: str) -> str:
        self._ctl.sendall((line + "\n").encode())
        reply = self._ctl_file.readline().strip()
        if not reply.startswith(("ok", "conns=", "none")) and "=" not in reply:
            raise RuntimeError(f"pgproxy {line!r}: {reply!r}")
        return reply

    def arm(self, when: str, pattern: str, count: int = 0) -> None:
        assert self.command(f"arm {when} {pattern} {count}") == "ok"

    def disarm(self) -> None:
        self.command("disarm")

    def kill(self) -> None:
        assert self.command("kill") == "ok"

    def stats(self) -> dict:
        return dict(kv.split("=") for kv in self.command("stats").split())

    def close(self) -> None:
        try:
            self.command("quit")
        except OSError:
            pass
        with contextlib.suppress(OSError):
            self._ctl.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for f in (self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(Exception):
                f.close()


def pgtmp_start(**env: str) -> dict:
    """Start a throwaway server of the test's own (scripts/pgtmp start) with
    extra environment (PGTMP_TCP=1, PGTMP_SSL=1); returns its variables."""
    out = subprocess.run(["bash", os.path.join(REPO, "scripts", "pgtmp"), "start"],
                         env={**os.environ, **env}, check=True, capture_output=True,
                         text=True, timeout=120).stdout
    found = {}
    for line in out.splitlines():
        if not line.startswith("export "):
            continue
        for item in _split_exports(line[len("export "):]):
            k, _, v = item.partition("=")
            found[k] = v.strip("'")
    return found


def _split_exports(text: str):
    import shlex
    return shlex.split(text)


def pgtmp_stop(directory: str) -> None:
    subprocess.run(["bash", os.path.join(REPO, "scripts", "pgtmp"), "stop", directory],
                   check=False, timeout=120)


def pg_ctl(*args: str) -> None:
    """Run pg_ctl on the suite's throwaway cluster ($PGTMP_DIR), as the
    postgres user when root (initdb refused root, so postgres owns it)."""
    pgbin = os.environ.get("PGBIN") or sorted(
        (os.path.join("/usr/lib/postgresql", v, "bin")
         for v in os.listdir("/usr/lib/postgresql")),
        key=lambda p: [int(x) for x in p.split("/")[-2].split(".") if x.isdigit()])[-1]
    cmd = [os.path.join(pgbin, "pg_ctl"), "-D", os.path.join(os.environ["PGTMP_DIR"], "data"),
           *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, cwd="/", timeout=120, stdout=subprocess.DEVNULL)


def have_pgtmp_cluster() -> bool:
    d = os.environ.get("PGTMP_DIR")
    return bool(d) and os.path.isdir(os.path.join(d, "data")) and shutil.which("runuser") is not None
