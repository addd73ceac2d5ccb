"""API.md 1.1 connections: aliases, DATABASE_URL, one per thread, the proxy,
reopening, and losing the server's session."""

import os
import threading

import pytest

import pgatomic
from pgatomic import transaction


def terminate(conn):
    pid = conn.execute("SELECT pg_backend_pid()").scalar()
    with pgatomic.connect() as killer:
        killer.execute("SELECT pg_terminate_backend($1)", [pid])


def test_default_alias_uses_database_url(monkeypatch):
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("needs DATABASE_URL")
    monkeypatch.setenv("DATABASE_URL", url + "&application_name=from_database_url")
    conn = pgatomic.connections["default"]
    assert conn.execute("SHOW application_name").scalar() == "from_database_url"


def test_configure_names_aliases_and_retires_old_connections():
    base = os.environ.get("DATABASE_URL") or ""
    sep = "&" if "?" in base else "?"
    pgatomic.configure(default=base + sep + "application_name=one",
                       other=base + sep + "application_name=two")
    first = pgatomic.connections["default"]
    assert first.execute("SHOW application_name").scalar() == "one"
    assert pgatomic.connections["other"].execute("SHOW application_name").scalar() == "two"
    pgatomic.configure(default=base + sep + "application_name=three")
    second = pgatomic.connections["default"]
    assert second is not first and first.closed
    assert second.execute("SHOW application_name").scalar() == "three"
    with pytest.raises(KeyError):
        pgatomic.connections["other"]


def test_connection_proxy_follows_the_thread():
    main_conn = pgatomic.connections["default"]
    assert pgatomic.connection.execute("SELECT 1").scalar() == 1
    assert pgatomic.connection.round_trips == main_conn.round_trips
    other = {}

    def worker():
        other["conn"] = pgatomic.connections["default"]
        other["pid"] = pgatomic.connection.execute("SELECT pg_backend_pid()").scalar()
        other["conn"].close()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert other["conn"] is not main_conn
    assert other["pid"] != main_conn.execute("SELECT pg_backend_pid()").scalar()


def test_lost_session_in_autocommit_reopens_on_next_use():
    conn = pgatomic.connections["default"]
    terminate(conn)
    with pytest.raises(pgatomic.OperationalError) as info:
        conn.execute("SELECT 1")
    assert info.value.sqlstate == "57P01"
    assert conn.closed
    assert pgatomic.connection.execute("SELECT 2").scalar() == 2   # reopened
    assert pgatomic.connections["default"] is conn


def test_lost_session_inside_block_breaks_it_and_leaving_is_quiet(table, rows):
    conn = pgatomic.connections["default"]
    with transaction.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1, 'lost')")
        terminate(conn)
        with pytest.raises(pgatomic.OperationalError) as info:
            conn.execute(f"INSERT INTO {table} VALUES (2, 'lost')")
        lost = info.value
        with pytest.raises(transaction.TransactionManagementError) as info:
            conn.execute("SELECT 1")
        assert info.value.__cause__ is lost
    assert rows(table) == []
    with transaction.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (3, 'after')")
    assert rows(table) == [(3, "after")]


def test_explicit_connect_and_reconnect(conn):
    assert not conn.closed
    conn.close()
    assert conn.closed
    conn.connect()
    assert conn.execute("SELECT 1").scalar() == 1


def test_connect_with_dsn_and_repr():
    url = os.environ.get("DATABASE_URL")
    with pgatomic.connect(url) as c:
        assert repr(c).startswith("<pgatomic.Connection host=")
        assert "open" in repr(c)
    assert repr(c).endswith("closed>")


def test_connect_failure_is_operational_error():
    with pytest.raises(pgatomic.OperationalError):
        pgatomic.connect("host=/nonexistent/socket/dir port=1")
    with pytest.raises(TypeError):
        pgatomic.connect(b"host=x")


def test_transaction_api_as_methods_of_an_independent_connection(conn, table, rows):
    seen = []
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        conn.on_commit(lambda: seen.append("committed"))
        sid = conn.savepoint()
        conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
        conn.savepoint_rollback(sid)
        with conn.atomic(savepoint=False):
            assert conn.get_rollback() is False
        try:
            with conn.mark_for_rollback_on_error():
                raise ValueError()
        except ValueError:
            pass
        assert conn.needs_rollback
        conn.set_rollback(False)
        conn.clean_savepoints()
        with pytest.raises(transaction.TransactionManagementError):
            conn.commit()
        # The alias connection is a different session, untouched.
        assert not pgatomic.connection.in_atomic_block
    assert seen == ["committed"] and rows(table) == [(1, "a")]
    conn.set_autocommit(False)
    conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    conn.rollback()
    conn.execute(f"INSERT INTO {table} VALUES (4, 'd')")
    conn.commit()
    conn.set_autocommit(True)
    assert conn.get_autocommit() is True
    assert rows(table) == [(1, "a"), (4, "d")]


def test_garbage_collected_connection_closes_its_session(observer):
    import gc
    import time
    c = pgatomic.connect()
    c._atomic_enter(0)                       # even with a block open
    # Read inside the block: through a transaction-mode pooler only an open
    # transaction pins the server session (a pid read before it may name an
    # idle pooled session, which lives on).
    pid = c.execute("SELECT pg_backend_pid()").scalar()
    del c
    gc.collect()
    # The backend's exit is asynchronous: wait for it, bounded only so that a
    # session left open fails the test instead of hanging it.
    deadline = time.monotonic() + 10
    while observer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                           [pid]).scalar():
        assert time.monotonic() < deadline, "the collected connection's session lives on"
        time.sleep(0.05)


def test_parameter_status_and_server_version_without_a_round_trip(conn):
    """What the server reported at connect and after a SET (ParameterStatus),
    read from libpq: Django's backend compares TimeZone with its own."""
    before = conn.round_trips
    assert conn.server_version >= 150000
    assert conn.parameter_status("server_version").split(".")[0] == str(conn.server_version // 10000)
    assert conn.parameter_status("no_such_parameter") is None
    assert conn.round_trips == before
    conn.execute("SET TIME ZONE 'Europe/Paris'")
    assert conn.parameter_status("TimeZone") == "Europe/Paris"
    with pytest.raises(TypeError):
        conn.parameter_status(b"TimeZone")
    conn.close()
    assert conn.server_version == 0


@pytest.mark.parametrize("hold", ["on_commit_lambda", "on_commit_bound_method", "savepoint_hook"])
def test_connection_dropped_inside_block_with_hooks_is_closed_by_gc(observer, table, hold):
    """A connection the program drops inside an open block, with on_commit
    hooks that refer to it (a cycle through the core), is freed by the
    collector: its session ends and its locks are released."""
    import gc
    import time
    import weakref

    def open_and_drop():
        c = pgatomic.connect()
        block = c.atomic()
        block.__enter__()
        c.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        c.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        if hold == "on_commit_lambda":
            c.on_commit(lambda: c.execute("SELECT 1"))
        elif hold == "on_commit_bound_method":
            c.on_commit(c.close)
        else:
            inner = c.atomic()
            inner.__enter__()
            c.execute("SELECT 1")
            c.on_commit(lambda: c.execute("SELECT 2"))
        return c.execute("SELECT pg_backend_pid()").scalar(), weakref.ref(c)

    pid, ref = open_and_drop()
    gc.collect()
    leaked = ref()
    if leaked is not None:
        leaked.close()              # let the table be dropped, then fail
        pytest.fail("the dropped connection was never freed")
    deadline = time.monotonic() + 10
    while observer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                           [pid]).scalar():
        assert time.monotonic() < deadline, "the dropped connection's session lives on"
        time.sleep(0.05)
    with observer.atomic():
        observer.execute("SET LOCAL lock_timeout = '5s'")
        observer.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 0
