"""Throwaway servers for the deployment tests (issue 13), through
tests/servers/cluster.sh: a primary on a free TCP port, a streaming
standby of it, PgBouncer in front of a server, and freezing a server whole
(SIGSTOP on every process).  Every context manager thaws and stops what it
started, on failure too, so no hung server outlives a test."""

from __future__ import annotations

import contextlib
import os
import subprocess

from faultlib import REPO

CLUSTER = os.path.join(REPO, "tests", "servers", "cluster.sh")


def cluster(*args: str) -> str:
    out = subprocess.run(["bash", CLUSTER, *args], check=True, capture_output=True,
                         text=True, timeout=120)
    return out.stdout.strip()


class Server:
    def __init__(self, directory: str, port: int):
        self.dir, self.port = directory, port

    def dsn(self, **extra: object) -> str:
        parts = [f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres sslmode=disable"]
        parts += [f"{k}={v}" for k, v in extra.items()]
        return " ".join(parts)

    def freeze(self) -> None:
        cluster("freeze", self.dir)

    def thaw(self) -> None:
        cluster("thaw", self.dir)


@contextlib.contextmanager
def primary():
    directory, port = cluster("primary").split()
    try:
        yield Server(directory, int(port))
    finally:
        cluster("stop", directory)


@contextlib.contextmanager
def standby_of(server: Server):
    directory, port = cluster("standby", server.dir).split()
    try:
        yield Server(directory, int(port))
    finally:
        cluster("stop", directory)


@contextlib.contextmanager
def frozen(server: Server):
    """The server hangs (every process stopped) inside the block."""
    server.freeze()
    try:
        yield
    finally:
        server.thaw()


def have_pgbouncer() -> bool:
    return any(os.access(os.path.join(d, "pgbouncer"), os.X_OK)
               for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin"])


@contextlib.contextmanager
def bouncer(mode: str, host: str | None = None, port: str | int | None = None):
    """PgBouncer with its stock settings in pool mode `mode`, in front of
    the suite's server (or host/port).  Yields its DSN prefix."""
    host = host or os.environ.get("PGA_DIRECT_HOST") or os.environ.get("PGHOST") or "/tmp"
    port = port or os.environ.get("PGA_DIRECT_PORT") or os.environ.get("PGPORT") or "5432"
    directory, bport = cluster("bouncer", mode, str(host), str(port)).split()
    try:
        yield f"host=127.0.0.1 port={bport} sslmode=disable"
    finally:
        cluster("bouncer-stop", directory)
