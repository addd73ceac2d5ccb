"""Pipelined transactions, atomic(pipeline=True): one round trip when
nothing is read before COMMIT, and what surfaces later than in normal mode
(docs/pipeline.md).  The same scenario names run in
tests/c/test_pipeline.c and tests/node/pipeline.test.js."""

import pytest

import pgatomic
from pgatomic import transaction

from faultlib import Proxy


def trips(conn, body):
    before = conn.round_trips
    body()
    return conn.round_trips - before


@pytest.fixture
def acct(tables):
    name = tables.make("id int PRIMARY KEY, b int")
    pgatomic.connections["default"].execute(f"INSERT INTO {name} VALUES (1, 100), (2, 0)")
    return name


def test_pipeline_transfer_is_one_round_trip(acct, rows):
    conn = pgatomic.connections["default"]
    out = []

    def body():
        with transaction.atomic(pipeline=True):
            out.append(conn.execute(f"UPDATE {acct} SET b = b - $1 WHERE id = 1", [10]))
            out.append(conn.execute(f"UPDATE {acct} SET b = b + $1 WHERE id = 2", [10]))
            assert not out[0].ready
    assert trips(conn, body) == 1
    # Results are there after the block, without another round trip.
    assert out[1].ready and out[1].status == "UPDATE 1" and out[1].rowcount == 1
    assert rows(acct) == [(1, 90), (2, 10)]


def test_pipeline_nested_is_one_round_trip(table, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic(pipeline=True):
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            with transaction.atomic():
                conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    assert trips(conn, body) == 1
    assert rows(table) == [(1, "a"), (2, "b")]


def test_pipeline_read_forces_a_round_trip(acct, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic(pipeline=True):
            conn.execute(f"UPDATE {acct} SET b = b - 10 WHERE id = 1")
            r = conn.execute(f"SELECT b FROM {acct} WHERE id = 1")
            assert r.scalar() == 90          # the flight travels here
            assert conn.round_trips - before == 1
            conn.execute(f"UPDATE {acct} SET b = b + 10 WHERE id = 2")
    before = conn.round_trips
    body()
    assert conn.round_trips - before == 2
    assert rows(acct) == [(1, 90), (2, 10)]


def test_pipeline_error_surfaces_at_commit(acct, table, rows):
    conn = pgatomic.connections["default"]
    conn.execute(f"INSERT INTO {table} VALUES (5, 'x')")
    ran = []
    with pytest.raises(pgatomic.UniqueViolation) as info:
        with transaction.atomic(pipeline=True):
            first = conn.execute(f"UPDATE {acct} SET b = b - 10 WHERE id = 1")
            dup = conn.execute(f"INSERT INTO {table} VALUES (5, 'y')")
            conn.execute(f"UPDATE {acct} SET b = b + 10 WHERE id = 2")
            transaction.on_commit(lambda: ran.append(1))
    assert info.value.sqlstate == "23505"
    assert ran == []
    assert rows(acct) == [(1, 100), (2, 0)]
    # The results not read give the exit's error: nothing was committed.
    with pytest.raises(pgatomic.UniqueViolation):
        dup.rows
    with pytest.raises(pgatomic.UniqueViolation):
        first.rowcount
    assert conn.execute("SELECT 1").scalar() == 1


def test_pipeline_error_surfaces_when_a_result_is_read(acct, table, rows):
    conn = pgatomic.connections["default"]
    conn.execute(f"INSERT INTO {table} VALUES (5, 'x')")
    with transaction.atomic(pipeline=True):
        first = conn.execute(f"UPDATE {acct} SET b = b - 10 WHERE id = 1")
        dup = conn.execute(f"INSERT INTO {table} VALUES (5, 'y')")
        after = conn.execute(f"UPDATE {acct} SET b = b + 10 WHERE id = 2")
        # Reading any result of the flight raises its first failure...
        with pytest.raises(pgatomic.UniqueViolation):
            first.rowcount
        # ...then each result its own outcome.
        assert first.rowcount == 1
        with pytest.raises(pgatomic.UniqueViolation):
            dup.rows
        with pytest.raises(pgatomic.TransactionManagementError) as broken:
            after.rows
        assert isinstance(broken.value.__cause__, pgatomic.UniqueViolation)
        assert transaction.get_rollback()
        with pytest.raises(pgatomic.TransactionManagementError):
            conn.execute("SELECT 1")
    # Caught inside: the block rolls back on exit, as in normal mode.
    assert rows(acct) == [(1, 100), (2, 0)]


def test_pipeline_on_commit_runs_after_commit(table):
    conn = pgatomic.connections["default"]
    seen = []

    def hook():
        # Runs after the real COMMIT: another session sees the row.
        other = pgatomic.connect()
        seen.append(other.execute(f"SELECT count(*) FROM {table}").scalar())
        other.close()
    with transaction.atomic(pipeline=True):
        conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        transaction.on_commit(hook)
        with transaction.atomic():
            conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
            transaction.on_commit(hook)
        assert seen == []
    assert seen == [2, 2]


def test_pipeline_nested_failure_rolls_back_the_transaction(table, rows):
    conn = pgatomic.connections["default"]
    conn.execute(f"INSERT INTO {table} VALUES (5, 'x')")
    ran = []
    with pytest.raises(pgatomic.UniqueViolation):
        with transaction.atomic(pipeline=True):
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            with transaction.atomic():
                conn.execute(f"INSERT INTO {table} VALUES (5, 'y')")
                transaction.on_commit(lambda: ran.append(1))
            # The inner block has exited without knowing: the failure comes
            # with the flight, and takes the whole transaction down.
            conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    assert ran == []
    assert rows(table) == [(5, "x")]


def test_pipeline_nested_failure_read_inside_rolls_back_only_the_savepoint(table, rows):
    conn = pgatomic.connections["default"]
    conn.execute(f"INSERT INTO {table} VALUES (5, 'x')")
    with transaction.atomic(pipeline=True):
        conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        with pytest.raises(pgatomic.UniqueViolation):
            with transaction.atomic():
                conn.execute(f"INSERT INTO {table} VALUES (5, 'y')").rows
        conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    assert rows(table) == [(1, "a"), (3, "c"), (5, "x")]


def test_pipeline_block_left_by_an_exception_rolls_back_in_one_round_trip(table, rows):
    conn = pgatomic.connections["default"]
    ran = []

    def body():
        with pytest.raises(ValueError):
            with transaction.atomic(pipeline=True):
                conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                transaction.on_commit(lambda: ran.append(1))
                raise ValueError("no")
    assert trips(conn, body) == 1
    assert ran == [] and rows(table) == []


def test_pipeline_deferred_constraint_fails_at_commit(tables, rows):
    name = tables.make("id int UNIQUE DEFERRABLE INITIALLY DEFERRED")
    conn = pgatomic.connections["default"]
    with pytest.raises(pgatomic.UniqueViolation):
        with transaction.atomic(pipeline=True):
            conn.execute(f"INSERT INTO {name} VALUES (1)")
            conn.execute(f"INSERT INTO {name} VALUES (1)")
    assert rows(name) == []


def test_pipeline_commit_answered_with_rollback_raises(table, rows):
    conn = pgatomic.connections["default"]
    with pytest.raises(pgatomic.DatabaseError):
        with transaction.atomic(pipeline=True):
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            with pytest.raises(pgatomic.DataError):
                conn.execute("SELECT 1/0").rows
            transaction.set_rollback(False)     # Django allows it
    assert rows(table) == []


def test_pipeline_flag_on_a_nested_block_is_ignored(table):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic():
            with transaction.atomic(pipeline=True):
                r = conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                assert isinstance(r, pgatomic.Result)
    assert trips(conn, body) == 2


def test_pipeline_executemany_joins_the_flight(table, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic(pipeline=True):
            conn.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [(1, "a"), (2, "b")])
    assert trips(conn, body) == 1
    assert rows(table) == [(1, "a"), (2, "b")]


async def test_pipeline_is_refused_in_async_blocks(api):
    if api.name != "async":
        pytest.skip("the asyncio refusal")
    with pytest.raises(pgatomic.NotSupportedError):
        async with pgatomic.atomic(pipeline=True):
            pass


# ---- counted on the wire (the proxy), as tests/c/test_wire_round_trips.c

@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


def wire_count(proxy, body):
    conn = pgatomic.connect(proxy.dsn())
    try:
        conn.execute("SELECT 1")
        assert proxy.command("reset") == "ok"
        body(conn)
        return int(proxy.stats()["round_trips"])
    finally:
        conn.close()


def test_wire_pipeline_transfer(proxy, acct, rows):
    def body(conn):
        with conn.atomic(pipeline=True):
            conn.execute(f"UPDATE {acct} SET b = b - $1 WHERE id = 1", [1])
            conn.execute(f"UPDATE {acct} SET b = b + $1 WHERE id = 2", [1])
    assert wire_count(proxy, body) == 1
    assert rows(acct) == [(1, 99), (2, 1)]


def test_wire_pipeline_nested(proxy, table, rows):
    def body(conn):
        with conn.atomic(pipeline=True):
            conn.execute(f"INSERT INTO {table} VALUES ($1, 'a')", [1])
            with conn.atomic():
                conn.execute(f"INSERT INTO {table} VALUES ($1, 'b')", [2])
    assert wire_count(proxy, body) == 1
    assert rows(table) == [(1, "a"), (2, "b")]


def test_pipeline_keyboard_interrupt_settles_the_flight(conn, ctrl_c):
    """Ctrl-C while a flight is read: the statement is cancelled, every
    result of the flight is settled (none is left pending), the block rolls
    back, and the connection goes on."""
    import os
    import signal
    import threading
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        with conn.atomic(pipeline=True):
            first = conn.execute("SELECT 1")
            slow = conn.execute("SELECT pg_sleep(5)")
            slow.rows
    timer.join()
    assert first.ready and slow.ready
    with pytest.raises(pgatomic.QueryCanceled):
        slow.rows
    assert conn.execute("SELECT 2").scalar() == 2
