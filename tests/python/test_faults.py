"""Faults that really happen, injected at chosen protocol moments.

The thread's "default" alias connects through tests/proxy/pgproxy, which can
cut the connection before or after a chosen statement reaches the server.
Every check of what the database holds goes through an independent direct
connection (the `rows` fixture), never through the proxy.  Every test runs
under a deadline (faultlib.deadline) and every DSN has a connect_timeout.

Statements carry /*sN*/ markers so a fault can pick one exactly (the proxy
matches a case-insensitive substring of the SQL text)."""

import os
import threading
import time

import pytest

import pgatomic
from pgatomic import CommitOutcomeUnknown, OperationalError, TransactionManagementError
from pgatomic.errors import BROKEN_MESSAGE
from pgatomic.transaction import atomic, on_commit

from faultlib import (Proxy, deadline, direct, direct_dsn, have_pgtmp_cluster, pg_ctl,
                      wait_until)


@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.fixture
def via_proxy(proxy):
    """The thread's default alias goes through the proxy, nothing armed."""
    proxy.disarm()
    pgatomic.configure(default=proxy.dsn())
    yield proxy
    proxy.disarm()


def _block(table, hooks):
    """Two statements, a savepoint with two, one more: the fault lands
    somewhere in here (or on COMMIT when the block exits)."""
    c = pgatomic.connection
    with atomic():
        c.execute(f"INSERT INTO {table} VALUES (1, 'a') /*s1*/")
        on_commit(lambda: hooks.append("outer"))
        c.execute(f"INSERT INTO {table} VALUES (2, 'b') /*s2*/")
        with atomic():
            c.execute(f"INSERT INTO {table} VALUES (3, 'c') /*in_sp*/")
            on_commit(lambda: hooks.append("inner"))
            c.execute(f"INSERT INTO {table} VALUES (4, 'd') /*s4*/")
        c.execute(f"INSERT INTO {table} VALUES (5, 'e') /*s5*/")


ALL_ROWS = [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]

# (name, when, pattern, exception class, committed?)
FAULTS = [
    # The first statement of the block carries BEGIN: it reached the server.
    ("after_begin", "after", "^BEGIN", OperationalError, False),
    # The first statement (with its BEGIN) never reached the server.
    ("before_begin", "before", "^BEGIN", OperationalError, False),
    ("between_statements_after", "after", "/*s2*/", OperationalError, False),
    ("between_statements_before", "before", "/*s2*/", OperationalError, False),
    # The statement inside the savepoint (it carries the SAVEPOINT).
    ("inside_savepoint_after", "after", "/*in_sp*/", OperationalError, False),
    ("inside_savepoint_before", "before", "/*in_sp*/", OperationalError, False),
    ("savepoint_released_then_lost", "after", "/*s5*/", OperationalError, False),
    # COMMIT reached the server, the answer never came back: committed, and
    # the caller is told the outcome is unknown.
    ("commit_in_flight", "after", "^COMMIT", CommitOutcomeUnknown, True),
    # COMMIT left the client but was dropped on the way: not committed, and
    # the client cannot know that (the write succeeded): outcome unknown.
    ("commit_dropped_on_the_way", "before", "^COMMIT", CommitOutcomeUnknown, False),
]


@pytest.mark.parametrize("name,when,pattern,cls,committed", FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_fault_point(via_proxy, table, rows, name, when, pattern, cls, committed):
    hooks = []
    pgatomic.connection.execute("SELECT 1")     # connected before arming
    via_proxy.arm(when, pattern)
    with deadline(30, name):
        with pytest.raises(Exception) as info:
            _block(table, hooks)
    assert type(info.value) is cls, repr(info.value)
    # Nothing half-written: all of it (COMMIT reached the server) or nothing.
    assert rows(table) == (ALL_ROWS if committed else [])
    # No hook runs when the outcome is not a known commit.
    assert hooks == []
    # The block is over; the alias connection reopens by itself.
    c = pgatomic.connection
    assert not c.in_atomic_block
    with deadline(15, "reconnect"):
        assert c.execute("SELECT 42").scalar() == 42
        with atomic():
            c.execute(f"INSERT INTO {table} VALUES (10, 'again')")
    assert (10, "again") in rows(table)


@pytest.mark.parametrize("when", ["before", "after"])
def test_lost_connection_breaks_the_block(via_proxy, table, rows, when):
    """After the loss, the block is broken like after any error: the next
    query raises the verbatim TransactionManagementError with the
    OperationalError as __cause__; leaving the block raises nothing more."""
    c = pgatomic.connection
    c.execute("SELECT 1")
    via_proxy.arm(when, "/*s2*/")
    with deadline(30):
        with atomic():
            c.execute(f"INSERT INTO {table} VALUES (1, 'a') /*s1*/")
            with pytest.raises(OperationalError) as lost:
                c.execute(f"INSERT INTO {table} VALUES (2, 'b') /*s2*/")
            with pytest.raises(TransactionManagementError) as broken:
                c.execute("SELECT 1")
            assert str(broken.value) == BROKEN_MESSAGE
            assert broken.value.__cause__ is lost.value
            assert c.in_atomic_block
    assert rows(table) == []
    assert c.execute("SELECT 1").scalar() == 1


def test_connection_killed_before_commit_is_sent(via_proxy, table, rows):
    """The connection dies while the block is idle (proxy `kill`); the core
    notices before sending COMMIT: a plain OperationalError, nothing written."""
    c = pgatomic.connection
    hooks = []
    with deadline(30):
        with pytest.raises(Exception) as info:
            with atomic():
                c.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                on_commit(lambda: hooks.append(1))
                via_proxy.kill()
                wait_until(lambda: via_proxy.stats()["conns"] == "0", timeout=5,
                           what="the proxy to drop the connection")
    assert type(info.value) is OperationalError
    assert rows(table) == []
    assert hooks == []
    assert c.execute("SELECT 1").scalar() == 1


def test_commit_outcome_unknown_is_never_retried(via_proxy, table, rows, monkeypatch):
    monkeypatch.setattr(pgatomic.transaction.time, "sleep", lambda s: None)
    calls = []

    @atomic(retries=5)
    def work():
        calls.append(1)
        pgatomic.connection.execute(f"INSERT INTO {table} VALUES ($1, 'x')", [len(calls)])

    pgatomic.connection.execute("SELECT 1")
    via_proxy.arm("after", "^COMMIT")
    with deadline(30):
        with pytest.raises(CommitOutcomeUnknown) as info:
            work()
    assert calls == [1]
    assert info.value.attempts == 1
    assert rows(table) == [(1, "x")]        # it did commit: a retry would have doubled it


def test_lost_connection_is_never_retried(via_proxy, table, rows, monkeypatch):
    monkeypatch.setattr(pgatomic.transaction.time, "sleep", lambda s: None)
    calls = []

    @atomic(retries=5)
    def work():
        calls.append(1)
        pgatomic.connection.execute(f"INSERT INTO {table} VALUES (1, 'x') /*s1*/")

    pgatomic.connection.execute("SELECT 1")
    via_proxy.arm("after", "/*s1*/")
    with deadline(30):
        with pytest.raises(OperationalError):
            work()
    assert calls == [1]
    assert rows(table) == []


def test_terminate_backend_inside_a_block(table, rows):
    c = pgatomic.connection
    admin = direct()
    try:
        with deadline(30):
            with pytest.raises(OperationalError) as info:
                with atomic():
                    c.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                    # Inside the block: through a transaction-mode pooler only
                    # an open transaction pins the server session.
                    pid = c.execute("SELECT pg_backend_pid()").scalar()
                    assert admin.execute("SELECT pg_terminate_backend($1)", [pid]).scalar()
                    wait_until(lambda: not admin.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).rows,
                        what="the backend to exit")
                    c.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    finally:
        admin.close()
    assert type(info.value) is OperationalError
    assert info.value.sqlstate in ("57P01", None)   # the FATAL, if libpq read it first
    assert rows(table) == []
    assert c.execute("SELECT pg_backend_pid()").scalar() != pid


def test_terminate_backend_while_idle_then_commit(table, rows):
    """Terminated while idle in the block, then the block exits.  The server
    said "terminating connection" before COMMIT was sent, but whether the
    core reads that before or after writing COMMIT depends on timing: it
    reports OperationalError, or (conservatively) CommitOutcomeUnknown.
    Either way nothing was written and no success is claimed."""
    c = pgatomic.connection
    admin = direct()
    try:
        with deadline(30):
            with pytest.raises(Exception) as info:
                with atomic():
                    c.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                    pid = c.execute("SELECT pg_backend_pid()").scalar()   # pinned, as above
                    admin.execute("SELECT pg_terminate_backend($1)", [pid])
                    wait_until(lambda: not admin.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).rows,
                        what="the backend to exit")
    finally:
        admin.close()
    assert type(info.value) in (OperationalError, CommitOutcomeUnknown)
    assert rows(table) == []
    assert c.execute("SELECT 1").scalar() == 1


@pytest.mark.skipif(not have_pgtmp_cluster(),
                    reason="needs the suite's own throwaway cluster (PGTMP_DIR) to restart")
def test_server_restart_fails_blocks_in_flight_then_recovers():
    """pg_ctl restart -m fast under load: the blocks in flight (one idle in
    its transaction here, one running a statement in another thread) fail
    with a connection error and write nothing; afterwards every alias
    connection -- those two and one that sat idle outside any block --
    works again on its very first statement, without any user action."""
    pgatomic.configure(default=direct_dsn(), idle=direct_dsn())
    setup = direct()
    table = f"restart_{int(time.time() * 1000)}"
    setup.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v text)")
    setup.close()
    started, restarted = threading.Event(), threading.Event()
    other = {}

    def in_flight():
        c = pgatomic.connection
        try:
            with atomic():
                c.execute(f"INSERT INTO {table} VALUES (100, 'thread')")
                started.set()
                c.execute("SELECT pg_sleep(60)")
        except BaseException as e:
            other["error"] = e
        started.set()
        try:
            assert restarted.wait(60)       # reconnecting mid-restart is another test
            other["after"] = c.execute("SELECT 7").scalar()
        except BaseException as e:
            other["after_error"] = e
        finally:
            pgatomic.connections.close_all()

    c = pgatomic.connection
    idle = pgatomic.connections["idle"]
    assert idle.execute("SELECT 1").scalar() == 1
    t = threading.Thread(target=in_flight)
    with deadline(120, "restart"):
        t.start()
        assert started.wait(30)
        with pytest.raises(OperationalError) as info:
            with atomic():
                c.execute(f"INSERT INTO {table} VALUES (1, 'main')")
                try:
                    pg_ctl("-m", "fast", "-w", "restart")
                finally:
                    restarted.set()
                c.execute(f"INSERT INTO {table} VALUES (2, 'main')")
        t.join(60)
        assert not t.is_alive()
        assert isinstance(info.value, OperationalError)
        assert isinstance(other.get("error"), OperationalError), other
        assert other.get("after") == 7, other
        # Outside a block every alias connection reconnects by itself.
        assert c.execute("SELECT 8").scalar() == 8
        assert pgatomic.connections["idle"].execute("SELECT 9").scalar() == 9
        check = direct()
        try:
            assert check.execute(f"SELECT * FROM {table}").rows == []
            check.execute(f"DROP TABLE {table}")
        finally:
            check.close()


def test_idle_connection_terminated_reconnects_on_next_use():
    """pg_terminate_backend on an idle alias connection (outside any block):
    once the backend has exited (its socket closed), the next statement
    runs on a new session instead of failing once.  (Between the server's
    FATAL and the socket closing, a statement can still fail: the probe
    never waits.)"""
    c = pgatomic.connection
    pid = c.execute("SELECT pg_backend_pid()").scalar()
    admin = direct()
    try:
        with deadline(30):
            admin.execute("SELECT pg_terminate_backend($1)", [pid])
            # The backend is a process on this machine: wait for it to be gone.
            wait_until(lambda: not os.path.exists(f"/proc/{pid}"),
                       what="the backend process to exit")
            assert c.execute("SELECT pg_backend_pid()").scalar() != pid
    finally:
        admin.close()
