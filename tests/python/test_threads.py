"""One connection per thread per alias; the GIL is released while a query
waits, so a slow query on one thread does not stop another."""

import threading
import time

import pgatomic
from pgatomic import transaction


def test_each_thread_sees_its_own_connection_in_its_own_block(table, rows):
    barrier = threading.Barrier(2)
    seen = {}
    errors = []

    def worker(i):
        try:
            with transaction.atomic():
                conn = pgatomic.connections["default"]
                conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", [i, f"t{i}"])
                barrier.wait(timeout=10)
                # Inside both blocks at once: each sees only its own row.
                seen[i] = (id(conn), pgatomic.connection.atomic_depth,
                           conn.execute(f"SELECT id FROM {table} ORDER BY id").rows,
                           conn.execute("SELECT pg_backend_pid()").scalar())
                barrier.wait(timeout=10)
        except Exception as e:      # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen[1][0] != seen[2][0]                 # distinct Connection objects
    assert seen[1][3] != seen[2][3]                 # distinct server sessions
    assert seen[1][1] == seen[2][1] == 1
    assert seen[1][2] == [(1,)] and seen[2][2] == [(2,)]
    assert rows(table) == [(1, "t1"), (2, "t2")]
    assert not pgatomic.connection.in_atomic_block  # main thread untouched


def test_sleep_on_one_thread_does_not_stop_another(table):
    started = threading.Event()
    done = {}

    def sleeper():
        with transaction.atomic():
            c = pgatomic.connections["default"]
            c.execute("SELECT 1")
            started.set()
            t0 = time.monotonic()
            c.execute("SELECT pg_sleep(0.5)")
            done["sleep"] = time.monotonic() - t0

    t = threading.Thread(target=sleeper)
    t.start()
    assert started.wait(10)
    count = 0
    t0 = time.monotonic()
    conn = pgatomic.connections["default"]
    while t.is_alive() and time.monotonic() - t0 < 5:
        with transaction.atomic():
            conn.execute("SELECT $1::int", [count])
        count += 1
    t.join()
    assert done["sleep"] >= 0.45
    # Dozens of transactions ran on the main thread during the sleep.
    assert count >= 20, count


def test_cancel_from_another_thread(conn):
    timer = threading.Timer(0.2, conn.cancel)
    timer.start()
    t0 = time.monotonic()
    try:
        conn.execute("SELECT pg_sleep(5)")
    except pgatomic.QueryCanceled as e:
        assert e.sqlstate == "57014"
        assert isinstance(e, pgatomic.OperationalError)
    else:
        raise AssertionError("not cancelled")
    finally:
        timer.join()
    assert time.monotonic() - t0 < 4
    assert conn.execute("SELECT 1").scalar() == 1
