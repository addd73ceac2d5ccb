"""pytest fixtures for code that uses pgatomic (registered by ``pip install``
as the ``pytest11`` entry point ``pgatomic``; nothing to import).

- ``pgatomic_dsn`` (session): a connection string to a database of the test
  run's own.  Given a server (``--pgatomic-dsn``, the ``pgatomic_dsn`` ini
  option, or the ``PGATOMIC_TEST_DSN`` / ``DATABASE_URL`` environment
  variables), the fixture uses that database; with ``--pgatomic-fresh-db``
  it creates a throwaway database there instead.  Given none, it starts a
  throwaway PostgreSQL, as pytest-postgresql does: ``initdb`` and
  ``pg_ctl`` from the server binaries (``--pgatomic-bin``, ``PGBIN``,
  ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``), owned by the
  ``postgres`` user when the tests run as root, on a unix socket in a
  temporary directory, with fsync off; it is stopped and removed at the end.
- ``pgatomic_db`` (function): the ``"default"`` alias configured on that
  database, and the test run inside a transaction that is rolled back
  afterwards, as pytest-django's ``db`` does: what the test writes is never
  seen by the next.  Blocks inside the test are savepoints; ``on_commit``
  hooks never run.  Yields the connection.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from typing import Any, Iterator, List, Optional

import pytest

import pgatomic
from pgatomic import _connections

__all__ = ["pgatomic_dsn", "pgatomic_db"]


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("pgatomic", "pgatomic test database")
    group.addoption("--pgatomic-dsn", default=None,
                    help="use this server's database instead of a throwaway server")
    group.addoption("--pgatomic-fresh-db", action="store_true", default=False,
                    help="with a given server, create a throwaway database on it")
    group.addoption("--pgatomic-bin", default=None,
                    help="directory of initdb and pg_ctl for the throwaway server")
    parser.addini("pgatomic_dsn", "the server to test against (else a throwaway one)")


def _given_dsn(config: Any) -> Optional[str]:
    return (config.getoption("pgatomic_dsn") or config.getini("pgatomic_dsn")
            or os.environ.get("PGATOMIC_TEST_DSN") or os.environ.get("DATABASE_URL") or None)


def _server_bin(config: Any) -> str:
    candidates: List[str] = []
    for given in (config.getoption("pgatomic_bin"), os.environ.get("PGBIN")):
        if given:
            candidates.append(given)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if os.path.exists(os.path.join(directory, "initdb")):
            return directory
    raise pytest.UsageError(
        "pgatomic: no PostgreSQL server binaries (initdb, pg_ctl) found; pass "
        "--pgatomic-bin, set PGBIN, or give a server with --pgatomic-dsn")


class _Server:
    """A throwaway PostgreSQL on a unix socket in a directory of its own."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="pgatomic-pytest.")
        self.data = os.path.join(self.dir, "data")
        self.as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        os.chmod(self.dir, 0o755)
        if self.as_root:
            # initdb refuses root: the cluster belongs to postgres.
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if out.returncode != 0:
            raise RuntimeError(f"pgatomic: {args[0]} failed:\n{out.stdout}{out.stderr}")

    def start(self) -> str:
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-c listen_addresses='' -k {self.dir} -p 5432 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"),
                  "-o", options, "start")
        return f"host={self.dir} port=5432 user=postgres dbname=postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _with_dbname(dsn: str, dbname: str) -> str:
    # A key=value string may name the database once more: the last wins.
    # A URI takes it as a query parameter, which libpq reads after the path.
    if "://" in dsn:
        return dsn + ("&" if "?" in dsn else "?") + f"dbname={dbname}"
    return f"{dsn} dbname={dbname}"


@pytest.fixture(scope="session")
def pgatomic_dsn(request: Any) -> Iterator[str]:
    """The connection string of the test run's database (see the module)."""
    config = request.config
    given = _given_dsn(config)
    server = None
    if given is None:
        server = _Server(_server_bin(config))
        given = server.start()
        fresh = True
    else:
        fresh = config.getoption("pgatomic_fresh_db")
    dbname = f"pgatomic_test_{uuid.uuid4().hex[:12]}"
    try:
        if fresh:
            with pgatomic.connect(given) as admin:
                admin.execute(f"CREATE DATABASE {dbname}")
            yield _with_dbname(given, dbname)
            with pgatomic.connect(given) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        else:
            yield given
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def pgatomic_db(pgatomic_dsn: str) -> Iterator[pgatomic.Connection]:
    """The "default" alias on the test database, inside a transaction that
    is rolled back after the test (pytest-django's ``db``)."""
    pgatomic.configure(default=pgatomic_dsn)
    conn = pgatomic.connections["default"]
    pgatomic.atomic().__enter__()
    try:
        yield conn
    finally:
        # Leave every block the test left open, each as failed, so the
        # outermost one rolls back; its hooks are dropped with it.
        while conn.in_atomic_block:
            conn._atomic_exit(True)
        conn._take_hooks()
        for c in _connections.connections.all():
            c.close()
        _connections._thread_connections().clear()
        pgatomic.configure()
