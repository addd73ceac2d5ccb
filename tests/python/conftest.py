"""Shared fixtures on pgatomic's own pytest plugin (pgatomic.pytest_plugin):
its pgatomic_dsn names the database, the one in PG* / DATABASE_URL that the
test command starts and exports (a throwaway server of the plugin's when
none is given), and pgatomic_db runs a test in a transaction rolled back
afterwards.  Tests that need committed data see it from a second
connection: they get their own tables, dropped afterwards.  Every test
leaves no per-thread connection behind."""

import os
import signal
import threading
import uuid

import pytest

import pgatomic
from pgatomic import _connections


@pytest.fixture
def observer(pgatomic_dsn):
    """A separate connection that sees only committed data."""
    conn = pgatomic.connect(pgatomic_dsn)
    yield conn
    conn.close()


@pytest.fixture
def ctrl_c():
    """Ctrl-C raises KeyboardInterrupt for the test's duration, even when
    the suite was started in the background, where a shell leaves SIGINT
    ignored (and the interrupt would never come)."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def conn(pgatomic_dsn):
    """An independent connection for the test."""
    c = pgatomic.connect(pgatomic_dsn)
    yield c
    c.close()


class Tables:
    """Makes uniquely named tables and drops them at the end."""

    def __init__(self, admin):
        self.admin = admin
        self.names = []

    def make(self, columns="id int PRIMARY KEY, v text", prefix="t"):
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE TABLE {name} ({columns})")
        self.names.append(name)
        return name

    def drop_all(self):
        for name in reversed(self.names):
            self.admin.execute(f"DROP TABLE IF EXISTS {name} CASCADE")


@pytest.fixture
def tables(pgatomic_dsn):
    admin = pgatomic.connect(pgatomic_dsn)
    t = Tables(admin)
    yield t
    t.drop_all()
    admin.close()


@pytest.fixture
def table(tables):
    """One table (id int primary key, v text)."""
    return tables.make()


@pytest.fixture
def rows(observer):
    """rows(table) -> the committed rows, ordered by the first column."""
    def read(name):
        return observer.execute(f"SELECT * FROM {name} ORDER BY 1").rows
    return read


@pytest.fixture(autouse=True)
def fresh_thread_connections():
    """Every test starts and ends without this thread's alias connections,
    so a test failing inside a block cannot leak it into the next."""
    pgatomic.configure()
    yield
    for c in _connections.connections.all():
        try:
            c.close()
        except Exception:
            pass
    _connections._thread_connections().clear()
    pgatomic.configure()


# -- through PgBouncer in transaction mode (scripts/suite-pgbouncer.sh) ------
#
# A transaction-mode pooler hands each transaction (each statement, outside
# one) whatever server session is free.  The tests below need ONE server
# session for their whole length, so they are marked needs_session and, when
# PGA_VIA_PGBOUNCER is set, reported as skipped with their reason; never
# counted as passed.  The key is the test's node id without parameters.
NEEDS_SESSION = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_session(reason): needs one server session for its whole length; "
        "skipped through a transaction-mode pooler")


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = NEEDS_SESSION.get(item.nodeid.split("[")[0])
        if reason is not None:
            item.add_marker(pytest.mark.needs_session(reason))
        marker = item.get_closest_marker("needs_session")
        if marker is not None and os.environ.get("PGA_VIA_PGBOUNCER"):
            item.add_marker(pytest.mark.skip(
                reason=f"needs one server session: {marker.args[0] if marker.args else ''}"))
