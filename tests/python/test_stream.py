"""Connection.stream(): one statement's rows read a batch at a time.  The
scenario names are those of tests/c/test_stream.c."""

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import pgatomic
import pgatomic.errors


def test_stream_reads_rows_in_batches(conn):
    s = conn.stream("SELECT i, 'x' || i AS name, NULL::int AS nothing"
                    " FROM generate_series(1, 2500) i", size=1000)
    assert s.columns == ["i", "name", "nothing"]
    assert s.status is None and s.rowcount == -1 and not s.closed
    rows = list(s)
    assert rows == [(i, f"x{i}", None) for i in range(1, 2501)]
    assert s.status == "SELECT 2500" and s.rowcount == 2500 and s.closed
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_last_batch_has_the_tag_and_row_count(conn):
    s = conn.stream("SELECT 1 AS one WHERE false")
    assert s.columns == ["one"] and list(s) == [] and s.status == "SELECT 0"
    s = conn.stream("SELECT i FROM generate_series(1, 4) i", size=4)
    assert [r[0] for r in s] == [1, 2, 3, 4] and s.rowcount == 4
    s = conn.stream("CREATE TEMP TABLE st_tag (id int)")
    assert list(s) == [] and s.status == "CREATE TABLE"


def test_stream_with_parameters(conn):
    assert [r[0] for r in conn.stream("SELECT i FROM generate_series(1, $1::int) i", [321],
                                      size=100)] == list(range(1, 322))
    with pytest.raises(pgatomic.ProgrammingError):
        conn.stream("SELECT $1, $2", [1])
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_in_block_rides_with_begin(conn, table, rows):
    before = conn.round_trips
    with conn.atomic():
        with conn.atomic():
            s = conn.stream(f"INSERT INTO {table} SELECT i, 'v' FROM generate_series(1, 250) i"
                            " RETURNING id", size=100)
            assert conn.round_trips - before == 1      # BEGIN, SAVEPOINT and the statement
            assert [r[0] for r in s] == list(range(1, 251))
            assert s.status == "INSERT 0 250"
    assert conn.round_trips - before == 2              # RELEASE rides with COMMIT
    assert len(rows(table)) == 250


def test_stream_error_mid_stream_breaks_the_block(conn):
    seen = []
    with pytest.raises(pgatomic.errors.DivisionByZero):
        with conn.atomic():
            with pytest.raises(pgatomic.errors.DivisionByZero):
                for row in conn.stream("SELECT CASE WHEN i < 30000 THEN i ELSE 1 / (i - i) END"
                                       " FROM generate_series(1, 40000) i"):
                    seen.append(row[0])
            assert conn.needs_rollback
            with pytest.raises(pgatomic.TransactionManagementError) as info:
                conn.execute("SELECT 1")
            raise info.value.__cause__
    assert 1000 <= len(seen) < 30000 and seen == list(range(1, len(seen) + 1))
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_error_outside_a_block_leaves_the_connection_usable(conn):
    with pytest.raises(pgatomic.errors.DivisionByZero):
        conn.stream("SELECT 1 / 0")
    with pytest.raises(pgatomic.ProgrammingError):
        conn.stream("SELEC 1")
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_stopped_early_drains_and_keeps_the_block(conn, table, rows):
    conn.execute(f"INSERT INTO {table} SELECT i, 'v' FROM generate_series(1, 5000) i")
    with conn.atomic():
        for row in conn.stream(f"UPDATE {table} SET id = -id RETURNING id", size=10):
            break
        assert not conn.needs_rollback
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE id < 0").scalar() == 5000
    assert len([r for r in rows(table) if r[0] < 0]) == 5000
    # Held, not read to the end: close(), the with block, or the next
    # statement end it the same way.
    s = conn.stream("SELECT i FROM generate_series(1, 100000) i", size=10)
    next(s)
    s.close()
    assert s.closed and list(s) == []
    with conn.stream("SELECT i FROM generate_series(1, 100000) i", size=10) as s:
        next(s)
    assert s.closed
    s = conn.stream("SELECT i FROM generate_series(1, 100000) i", size=10)
    assert next(s) == (1,)
    assert conn.execute("SELECT 2").scalar() == 2
    with pytest.raises(RuntimeError, match="another statement ran"):
        next(s)
    assert list(s) == []


def test_stream_cancelled_then_closed(conn):
    with conn.atomic():
        # 100 million rows, produced as they are sent.
        s = conn.stream("SELECT a * 100000 + b FROM generate_series(0, 999) a,"
                        " generate_series(1, 100000) b", size=100)
        next(s)
        assert conn.cancel()
        with pytest.raises(pgatomic.QueryCanceled):
            s.close()
        assert conn.needs_rollback
        conn.set_rollback(True)
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_refuses_scripts_controls_and_empty_batches(conn):
    for sql in ("SELECT 1; SELECT 2", "BEGIN", "savepoint x"):
        with pytest.raises(pgatomic.InterfaceError):
            conn.stream(sql)
    with pytest.raises(ValueError):
        conn.stream("SELECT 1", size=0)
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_closed_or_freed_while_open(conn):
    s = conn.stream("SELECT i FROM generate_series(1, 100000) i", size=10)
    next(s)
    conn.close()
    with pytest.raises(RuntimeError, match="closed with its connection"):
        next(s)
    conn.connect()
    s = conn.stream("SELECT i FROM generate_series(1, 100000) i", size=10)
    next(s)
    del s                     # dropped unfinished: drained at once
    assert conn.execute("SELECT 1").scalar() == 1


def test_stream_releases_the_gil_while_waiting(conn):
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        assert list(conn.stream("SELECT 1 FROM pg_sleep(0.3)")) == [(1,)]
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 20


MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys, pgatomic
    c = pgatomic.connect(sys.argv[1])
    c.execute("SELECT 1")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = 0
    for row in c.stream("SELECT i, repeat('x', 500) FROM generate_series(1, 200000) i"):
        n += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(n, (peak - base) // 1024)
""")


def test_stream_memory_is_bounded(pgatomic_dsn):
    """100 MB of rows read through a stream: the process grows by a batch,
    never by the result (materialised, these rows take well over 100 MB)."""
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, pgatomic_dsn],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ)).stdout.split()
    assert out[0] == "200000"
    assert int(out[1]) < 30, f"peak RSS grew {out[1]} MiB"


def test_stream_in_asyncio(pgatomic_dsn):
    """AsyncConnection.stream(): the same batches, awaited; aclose() drains
    without blocking the loop; an error raises from the iteration."""
    async def main():
        conn = await pgatomic.connect_async(pgatomic_dsn)
        try:
            ticks = 0

            async def tick():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)

            ticker = asyncio.ensure_future(tick())
            s = conn.stream("SELECT i, 'x' || i FROM generate_series(1, 2500) i", size=1000)
            rows = [row async for row in s]
            assert rows == [(i, f"x{i}") for i in range(1, 2501)]
            assert s.columns == ["i", "?column?"] and s.status == "SELECT 2500"
            async with conn.atomic():
                async with conn.stream("SELECT a * 100000 + b FROM generate_series(0, 9) a,"
                                       " generate_series(1, 100000) b", size=100) as s:
                    async for row in s:
                        break
                assert (await conn.execute("SELECT 1")).scalar() == 1
            assert s.status is None
            with pytest.raises(pgatomic.errors.DivisionByZero):
                async for row in conn.stream("SELECT 1 / 0"):
                    pass
            assert (await conn.execute("SELECT 2")).scalar() == 2
            ticker.cancel()
            assert ticks > 0
        finally:
            await conn.close()

    asyncio.run(main())
