"""Busy polling (pgatomic.h "Busy polling"): ``busy_poll_us`` reaches the
core from every Python entry point, bad values raise the class the other
settings raise, and a thread that polls for the server's answer leaves the
GIL to the others.  Never timed: what it gains is measured by the
benchmarks (docs/benchmarks.md)."""

import asyncio
import threading

import pytest

import pgatomic
from pgatomic import dbapi

from faultlib import cancel_when_sleeping, deadline, wait_until

# PGA_BUSY_POLL_MAX_US: the largest budget, a second, within which every
# answer of these tests comes (a loaded machine cannot spend it first).
MAX_US = 1000000


def test_busy_poll_option_reaches_the_core(conn, pgatomic_dsn):
    assert isinstance(conn.busy_poll_us, int) and conn.busy_poll_us >= 0
    conn.busy_poll_us = 150
    assert conn.busy_poll_us == 150
    c = pgatomic.connect(pgatomic_dsn, busy_poll_us=90)
    try:
        assert c.busy_poll_us == 90
        assert c.execute("SELECT 1").scalar() == 1
        # A setting of the connection, as the timeout: kept across close().
        c.close()
        c.connect()
        assert c.busy_poll_us == 90
        assert c.execute("SELECT 2").scalar() == 2
    finally:
        c.close()


def test_busy_poll_off_never_spins(conn):
    # Nothing to observe but that statements run as ever.
    conn.busy_poll_us = 0
    assert conn.busy_poll_us == 0
    with pgatomic.atomic(conn):
        assert conn.execute("SELECT $1::int + 1", [41]).scalar() == 42
    assert conn.busy_poll_us == 0


@pytest.mark.parametrize("value, error", [
    ("150", TypeError), (1.5, TypeError), (True, TypeError), (None, TypeError),
    (-1, ValueError), (MAX_US + 1, ValueError), (2**31, ValueError), (2**70, ValueError),
])
def test_busy_poll_invalid_budget_is_misuse(conn, pgatomic_dsn, value, error):
    before = conn.busy_poll_us
    message = "busy_poll_us must be " + ("an int" if error is TypeError else "between 0 and")
    with pytest.raises(error, match=message):
        conn.busy_poll_us = value
    assert conn.busy_poll_us == before
    if value is not None:           # None: the keyword's "the core's default"
        with pytest.raises(error, match=message):
            pgatomic.connect(pgatomic_dsn, busy_poll_us=value)
        with pytest.raises(error, match=message):
            dbapi.connect(pgatomic_dsn, busy_poll_us=value)
    conn.busy_poll_us = MAX_US
    assert conn.busy_poll_us == MAX_US


def test_busy_poll_default_and_environment(pgatomic_dsn, monkeypatch):
    monkeypatch.delenv("PGA_BUSY_POLL_US", raising=False)
    with pgatomic.connect(pgatomic_dsn) as c:
        assert c.busy_poll_us == 150        # PGA_BUSY_POLL_DEFAULT_US
    monkeypatch.setenv("PGA_BUSY_POLL_US", "0")
    with pgatomic.connect(pgatomic_dsn) as c:
        assert c.busy_poll_us == 0
    # The keyword wins over the environment.
    with pgatomic.connect(pgatomic_dsn, busy_poll_us=40) as c:
        assert c.busy_poll_us == 40


def test_dbapi_connect_takes_busy_poll_us_out_of_the_conninfo(pgatomic_dsn):
    # libpq refuses a key it does not know ("invalid connection option"):
    # connecting at all shows the keyword never reached the connection string.
    c = dbapi.connect(pgatomic_dsn, busy_poll_us=70)
    try:
        assert c.busy_poll_us == 70
        assert c.cursor().execute("SELECT 3").fetchone() == (3,)
    finally:
        c.close()
    with pytest.raises(TypeError):
        dbapi.connect(pgatomic_dsn, busy_poll_us="70")
    # Beside libpq's own keywords, merged as psycopg merges them.
    c = dbapi.connect(pgatomic_dsn, busy_poll_us=0, application_name="busy_poll_test")
    try:
        assert c.busy_poll_us == 0
        assert c.info.parameter_status("application_name") == "busy_poll_test"
    finally:
        c.close()


def test_dbapi_connect_async_accepts_busy_poll_us(pgatomic_dsn):
    # Accepted (one SQLAlchemy URL serves both engines) and kept, although
    # the event loop waits for the socket itself and never busy-polls.
    async def main():
        c = await dbapi.connect_async(pgatomic_dsn, busy_poll_us=60)
        try:
            assert c._c.busy_poll_us == 60
            cur = c.cursor()
            await cur.execute("SELECT 4")
            assert await cur.fetchone() == (4,)
        finally:
            await c.close()
        with pytest.raises(ValueError, match="busy_poll_us must be between 0 and"):
            await dbapi.connect_async(pgatomic_dsn, busy_poll_us=-1)
    asyncio.run(main())


def test_busy_poll_never_stops_another_thread(pgatomic_dsn, observer):
    """A thread waits, with the largest budget, for an
    answer only this thread can release: the waiting thread must have left
    the GIL, or this thread could not run to release it."""
    holder = pgatomic.connect(pgatomic_dsn)
    key = 0x62757379            # pg_advisory_xact_lock's key for this test
    outcome = []

    def wait_for_the_lock():
        try:
            # A connection belongs to the thread that made it.
            with pgatomic.connect(pgatomic_dsn) as waiter:
                waiter.busy_poll_us = MAX_US
                with pgatomic.atomic(waiter):
                    # Were the GIL held while polling, this thread would wait
                    # alone: the lock's timeout turns that hang into a failure.
                    waiter.execute("SET LOCAL lock_timeout = '20s'")
                    waiter.execute("SELECT pg_advisory_xact_lock($1)", [key])
                    outcome.append(waiter.execute("SELECT 'got it'").scalar())
        except BaseException as e:      # pragma: no cover - reported below
            outcome.append(e)

    try:
        with deadline(30):
            # Transaction-level locks: through a transaction-mode pooler a
            # block keeps its server session, a session-level lock would not.
            with pgatomic.atomic(holder):
                holder.execute("SELECT pg_advisory_xact_lock($1)", [key])
                t = threading.Thread(target=wait_for_the_lock)
                t.start()
                wait_until(lambda: observer.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND objid = $1", [key]).rows, timeout=20, what="the waiter to block")
            t.join(20)
        assert not t.is_alive()
        assert outcome == ["got it"]
    finally:
        holder.close()


def test_cancel_from_another_thread_while_busy_polling(conn):
    # test_cancel.py's scenario with the largest budget: the watcher runs
    # (and cancels) while the owner polls, and the session survives.
    conn.busy_poll_us = MAX_US
    fired = []
    with deadline(20):
        with pgatomic.atomic(conn):
            # Read inside the block: through a pooler only a transaction
            # pins the server session the watcher looks for.
            pid = conn.execute("SELECT pg_backend_pid()").scalar()
            t = threading.Thread(target=cancel_when_sleeping, args=(conn, pid, fired))
            t.start()
            with pytest.raises(pgatomic.QueryCanceled):
                conn.execute("SELECT pg_sleep(30)")
            pgatomic.set_rollback(True, using=conn)
        t.join(10)
    assert fired == [True]
    assert conn.execute("SELECT 5").scalar() == 5


def test_statements_are_answered_alike_with_busy_polling_on_and_off(conn, table, rows):
    """The same work with no budget, a small one and the largest: the same
    answers (whether a wait polled or slept changes no outcome)."""
    for n, budget in enumerate((0, 150, MAX_US)):
        conn.busy_poll_us = budget
        with pgatomic.atomic(conn):
            for i in range(5):
                conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", [n * 10 + i, str(budget)])
            with pytest.raises(pgatomic.IntegrityError):
                with pgatomic.atomic(conn):
                    conn.execute(f"INSERT INTO {table} VALUES ($1, 'dup')", [n * 10])
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE v = $1",
                            [str(budget)]).scalar() == 5
    assert len(rows(table)) == 15

