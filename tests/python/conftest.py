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

# The api fixture ([sync] and [async]) and the hook running async def tests.
from flavours import api, pytest_pyfunc_call  # noqa: E402,F401


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
# one) whatever server session is free, and keeps none for an idle client.
# The tests below need ONE server session for their whole length, so they
# are marked needs_session and, when PGA_VIA_PGBOUNCER is set, reported as
# skipped with their reason; never counted as passed.  A key is a test's
# node id without parameters, or a file for all of its tests.
_PID = ("identifies its session by pg_backend_pid(); through the pooler each "
        "statement may run on another server session, and two clients on the same one")
_TERMINATE = ("ends its own idle session with pg_terminate_backend(pg_backend_pid() "
              "it read before); an idle client of the pooler holds no server session, so "
              "the client never sees the loss (and the killer may end itself)")
NEEDS_SESSION = {
    "tests/python/test_cancel.py::test_cancel_from_another_thread_interrupts_the_wait": _PID,
    "tests/python/test_cancel.py::test_statement_timeout_raises_query_canceled":
        "SETs statement_timeout for the session (PgBouncer 1.18 does not track it): "
        "the slow statement and the RESET may run on other server sessions, and the "
        "100 ms timeout stays on whichever one ran the SET, for the next client to get it "
        "(test_statement_timeout_in_a_block_breaks_it is the pooled twin, with SET LOCAL)",
    "tests/python/test_connections.py::test_connection_proxy_follows_the_thread": _PID,
    "tests/python/test_connections.py::test_lost_session_in_autocommit_reopens_on_next_use":
        _TERMINATE,
    "tests/python/test_deploy.py::test_fork_child_alias_connection_reopens_its_own_session": _PID,
    "tests/python/test_deploy.py::test_lost_session_is_never_left_busy": _TERMINATE,
    "tests/python/test_faults.py::test_idle_connection_terminated_reconnects_on_next_use":
        _TERMINATE,
    "tests/python/test_sqlalchemy.py::test_ping_sees_a_session_the_server_ended": _TERMINATE,
    "tests/python/test_django_seeds.py":
        "its Django settings (examples/django/shop_settings.py) set search_path with "
        "the options startup parameter, which a stock PgBouncer refuses "
        "(test_deploy.py::test_users_own_options_refused_by_pgbouncer_are_reported)",
    "tests/python/test_asyncio.py::test_aconnections_is_per_task_and_stable_within_one": _PID,
    "tests/python/test_asyncio.py::test_a_finished_task_hands_its_session_back_to_the_pool":
        _PID,
    "tests/python/test_asyncio.py::test_a_session_left_inside_a_transaction_is_not_reused":
        _PID,
    "tests/python/test_asyncio.py::test_a_session_the_server_ended_while_idle_is_replaced":
        _TERMINATE,
    "tests/python/test_asyncio.py::"
    "test_a_session_lost_mid_statement_leaves_no_watch_on_its_descriptor": _PID,
    "tests/python/test_seeds.py":
        "SET search_path for the session: the pooler leaves a session's SET on the "
        "server session for whichever client gets it next, and runs the next "
        "statement wherever a server session is free",
}

# Left out of that pass because it would repeat them unchanged (they are
# reported as skipped there too, with this reason): tests that run on
# servers of their own and never touch the suite's, and the leak meter,
# which measures only the client's memory (100,000 blocks: minutes through
# the pooler on a loaded machine).
_OWN_SERVERS = ("runs on servers of its own (tests/servers/cluster.sh), never on the "
                "suite's server, so the pass through the pooler would repeat it unchanged")
SAME_THROUGH_POOLER = {
    "tests/python/test_deploy.py::test_hung_server_ends_a_block_in_flight_within_the_deadline":
        _OWN_SERVERS,
    "tests/python/test_deploy.py::test_hung_server_commit_in_flight_is_outcome_unknown":
        _OWN_SERVERS,
    "tests/python/test_deploy.py::test_cancel_returns_at_once_on_a_hung_server": _OWN_SERVERS,
    "tests/python/test_deploy.py::"
    "test_keyboard_interrupt_on_a_hung_server_ends_the_block_within_2_s": _OWN_SERVERS,
    "tests/python/test_deploy.py::test_failover_from_a_crashed_primary_to_a_promoted_standby":
        _OWN_SERVERS,
    "tests/python/test_deploy.py::"
    "test_failover_from_a_hung_primary_to_a_promoted_standby_within_the_deadline": _OWN_SERVERS,
    "tests/python/test_asyncio.py::"
    "test_hung_server_ends_an_async_block_in_flight_within_the_deadline": _OWN_SERVERS,
    "tests/python/test_asyncio.py::"
    "test_task_cancel_on_a_hung_server_gives_the_session_up_within_two_seconds": _OWN_SERVERS,
    "tests/python/test_leaks.py":
        "measures the client's own memory over many blocks; the pooler changes nothing "
        "it checks and makes it take minutes",
    "tests/python/test_packaging.py":
        "builds and installs the package in fresh venvs (minutes); only a one-line smoke "
        "test touches the server, and the pooler changes nothing the builds check",
    "tests/python/test_pytest_plugin.py::test_plugin_starts_a_throwaway_server_without_a_dsn":
        "starts a throwaway server of its own and never touches the suite's",
}


def _listed(table, nodeid):
    test_id = nodeid.split("[")[0]
    return table.get(test_id, table.get(test_id.split("::")[0]))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_session(reason): needs one server session for its whole length; "
        "skipped through a transaction-mode pooler")


def pytest_collection_modifyitems(config, items):
    via_pooler = os.environ.get("PGA_VIA_PGBOUNCER")
    for item in items:
        reason = _listed(NEEDS_SESSION, item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.needs_session(reason))
        marker = item.get_closest_marker("needs_session")
        same = _listed(SAME_THROUGH_POOLER, item.nodeid)
        if via_pooler and marker is not None:
            item.add_marker(pytest.mark.skip(
                reason=f"needs one server session: {marker.args[0] if marker.args else ''}"))
        elif via_pooler and same is not None:
            item.add_marker(pytest.mark.skip(reason=f"not run through the pooler: {same}"))
