"""What only asyncio has (API.md 6): the current task's connection, two
tasks of one thread each in its own block, a pool under load, task
cancellation and timeouts, one operation at a time per connection.  The
rules every block obeys run in both flavours in test_atomic.py,
test_on_commit.py, test_rollback_flag.py and test_retries.py."""

import asyncio
import os
import random
import time

import pytest

import pgatomic
from pgatomic import transaction

BANK_TASKS = int(os.environ.get("PGA_ASYNC_BANK_TASKS") or 1000)


async def backend_pid(conn=None):
    conn = conn or pgatomic.aconnection
    return (await conn.execute("SELECT pg_backend_pid()")).scalar()


# -- the current task's connection ------------------------------------------------

async def test_two_tasks_in_one_thread_each_in_its_own_block_one_failing(table, rows):
    inside = asyncio.Event()
    pids = {}

    async def good():
        async with pgatomic.atomic():
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'good')")
            pids["good"] = await backend_pid()
            inside.set()
            await asyncio.sleep(0.05)       # the other task fails meanwhile
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (2, 'good')")

    async def bad():
        await inside.wait()
        async with pgatomic.atomic():
            assert pgatomic.aconnection.in_atomic_block
            pids["bad"] = await backend_pid()
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (3, 'bad')")
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'dup')")

    results = await asyncio.gather(good(), bad(), return_exceptions=True)
    assert results[0] is None
    assert type(results[1]) is pgatomic.UniqueViolation
    assert pids["good"] != pids["bad"]
    assert rows(table) == [(1, "good"), (2, "good")]


async def test_a_task_started_inside_a_block_gets_a_connection_of_its_own(table, rows):
    async with pgatomic.atomic():
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'parent')")
        outer = pgatomic.aconnection._c

        async def child():
            # The context was copied from inside the parent's block; the
            # task must not share that block (nor its session).
            assert not pgatomic.aconnection.in_atomic_block
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (2, 'child')")
            return pgatomic.aconnections["default"]._c
        inner = await asyncio.create_task(child())
        assert inner is not outer
        assert rows(table) == [(2, "child")]        # committed on its own
    assert rows(table) == [(1, "parent"), (2, "child")]


async def test_aconnections_is_per_task_and_stable_within_one():
    first = pgatomic.aconnections["default"]
    assert pgatomic.aconnections["default"] is first
    pid = await backend_pid()
    assert await backend_pid() == pid

    async def other():
        return pgatomic.aconnections["default"], await backend_pid()
    handle, other_pid = await asyncio.create_task(other())
    assert handle is not first
    assert other_pid != pid                  # this task still holds its session


async def test_a_finished_task_hands_its_session_back_to_the_pool():
    pool = pgatomic.aconnections.pool()

    async def work():
        await pgatomic.aconnection.execute("SELECT 1")
        return await backend_pid()
    pids = [await asyncio.create_task(work()) for _ in range(5)]
    assert len(set(pids)) == 1              # one session, reused task after task
    await asyncio.sleep(0)                  # the last task's done callbacks
    assert pool.size == 1 and pool.idle == 1


async def test_a_session_left_inside_a_transaction_is_not_reused(table):
    pool = pgatomic.aconnections.pool()

    async def leave_manual_transaction_open():
        await pgatomic.aconnection.set_autocommit(False)
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        return await backend_pid()
    pid = await asyncio.create_task(leave_manual_transaction_open())
    await asyncio.sleep(0)
    assert pool.size == 0                   # closed, not handed back
    assert await backend_pid() != pid


async def test_a_session_the_server_ended_while_idle_is_replaced(table, rows):
    pid = await backend_pid()
    killer = await pgatomic.connect_async()
    await killer.execute("SELECT pg_terminate_backend($1)", [pid])
    await killer.close()
    for _ in range(100):                     # until the FATAL has arrived
        if not pgatomic.aconnection._c._alive():
            break
        await asyncio.sleep(0.01)
    async with pgatomic.atomic():            # no error: a new session
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
    assert await backend_pid() != pid
    assert rows(table) == [(1, "x")]


async def test_module_commit_rollback_set_autocommit_refused_in_a_running_loop():
    for call in (lambda: transaction.commit(), lambda: transaction.rollback(),
                 lambda: transaction.set_autocommit(False)):
        with pytest.raises(pgatomic.SynchronousOnlyOperation, match="await pgatomic.aconnection"):
            call()
    assert pgatomic.connections.all() == []      # no thread connection was opened


def test_the_synchronous_api_refuses_the_wrong_kind_of_connection():
    async def main():
        conn = await pgatomic.connect_async()
        try:
            with pytest.raises(TypeError, match="async with"):
                with pgatomic.atomic(using=conn):
                    pass
        finally:
            await conn.close()
    asyncio.run(main())
    sync = pgatomic.connect()
    try:
        async def refused():
            with pytest.raises(TypeError, match="AsyncConnection or an alias"):
                async with pgatomic.atomic(using=sync):
                    pass
        asyncio.run(refused())
    finally:
        sync.close()


# -- one operation at a time ---------------------------------------------------------

async def test_a_second_task_on_a_busy_connection_gets_interface_error():
    conn = await pgatomic.connect_async()
    try:
        slow = asyncio.create_task(conn.execute("SELECT pg_sleep(0.2), 1"))
        # One turn of the loop: the task has started its statement, and its
        # answer cannot have been read yet, however late the loop runs.
        await asyncio.sleep(0)
        with pytest.raises(pgatomic.InterfaceError,
                           match="another operation is in progress"):
            await conn.execute("SELECT 2")
        assert (await slow).rows[0][1] == 1
        assert (await conn.execute("SELECT 3")).scalar() == 3
    finally:
        await conn.close()


async def test_close_from_another_task_ends_the_waiting_operation():
    conn = await pgatomic.connect_async()
    slow = asyncio.create_task(conn.execute("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await conn.close()
    with pytest.raises(pgatomic.InterfaceError, match="closed"):
        await slow
    assert time.monotonic() - started < 2
    await conn.connect()
    assert (await conn.execute("SELECT 1")).scalar() == 1
    await conn.close()


async def test_a_session_lost_mid_statement_leaves_no_watch_on_its_descriptor():
    """libpq closes the socket of a lost session inside a step; the loop's
    reader must go with it, or the next socket given the same number (the
    lowest free one: here the very next connection's) would never be
    reported ready."""
    conn = await pgatomic.connect_async()
    pid = await backend_pid(conn)
    fd = conn._c._socket()
    victim = asyncio.create_task(conn.execute("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    killer = await pgatomic.connect_async()
    await killer.execute("SELECT pg_terminate_backend($1)", [pid])
    await killer.close()
    with pytest.raises(pgatomic.OperationalError):
        await victim
    assert conn._c._socket() == -1
    assert conn._rfd == -1                        # no longer watched
    other = await asyncio.wait_for(pgatomic.connect_async(), 5)
    assert other._c._socket() == fd               # the number was given again
    assert (await asyncio.wait_for(other.execute("SELECT 1"), 5)).scalar() == 1
    await other.close()
    await conn.close()


# -- cancellation -------------------------------------------------------------------

async def sleeping(marker):
    """Until the statement whose text holds marker sleeps in pg_sleep on the
    server.  It is 'active' from its Parse on, but a cancel that arrives
    before its Execute is read is dropped (the sleep would then run its
    30 s): only this says a cancel will find it running."""
    probe = await pgatomic.connect_async()
    try:
        deadline = time.monotonic() + 10
        while not (await probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                "AND query LIKE $1", [f"%{marker}%"])).scalar():
            assert time.monotonic() < deadline, "the statement never started sleeping"
            await asyncio.sleep(0.01)
    finally:
        await probe.close()


async def running_statements(observer_marker):
    probe = await pgatomic.connect_async()
    try:
        return (await probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE $1", [f"%{observer_marker}%"])).scalar()
    finally:
        await probe.close()


async def test_task_cancel_cancels_the_statement_and_rolls_the_block_back(table, rows):
    conn = await pgatomic.connect_async()
    marker = f"cancel_{random.getrandbits(32)}"
    entered = asyncio.Event()

    async def work():
        async with conn.atomic():
            await conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
            entered.set()
            await conn.execute(f"SELECT pg_sleep(30) /* {marker} */")

    task = asyncio.create_task(work())
    await entered.wait()
    await sleeping(marker)
    assert await running_statements(marker) == 1
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5          # not the 30 s of the statement
    assert await running_statements(marker) == 0   # the server stopped it
    assert not conn.in_atomic_block
    assert rows(table) == []                       # the block rolled back
    assert (await conn.execute("SELECT 1")).scalar() == 1   # and the connection works
    await conn.close()


async def test_asyncio_timeout_around_a_block_rolls_it_back(table, rows):
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            async with pgatomic.atomic():
                await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
                await pgatomic.aconnection.execute("SELECT pg_sleep(30)")
    assert not pgatomic.aconnection.in_atomic_block
    assert rows(table) == []
    await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (2, 'y')")
    assert rows(table) == [(2, "y")]


async def test_asyncio_timeout_inside_a_block_breaks_it_like_any_failed_statement(table, rows):
    with pytest.raises(transaction.TransactionManagementError) as info:
        async with pgatomic.atomic():
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await pgatomic.aconnection.execute("SELECT pg_sleep(30)")
            assert pgatomic.aconnection.needs_rollback
            await pgatomic.aconnection.execute("SELECT 1")
    assert "You can't execute queries" in str(info.value)
    assert rows(table) == []


async def test_asyncio_timeout_in_a_savepoint_leaves_the_outer_block_going(table, rows):
    marker = f"timeout_{random.getrandbits(32)}"

    async def expire_once_sleeping(timeout):
        # Only a cancel that finds the statement running keeps the session
        # (one dropped by the server would close it after CANCEL_WAIT, and
        # the outer block with it): a fixed 0.2 s may come too early.
        await sleeping(marker)
        timeout.reschedule(asyncio.get_running_loop().time())

    async with pgatomic.atomic():
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(None) as timeout:
                async with pgatomic.atomic():
                    await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (2, 'gone')")
                    expiry = asyncio.create_task(expire_once_sleeping(timeout))
                    await pgatomic.aconnection.execute(f"SELECT pg_sleep(30) /* {marker} */")
        await expiry
        assert not pgatomic.aconnection.needs_rollback
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (3, 'kept')")
    assert rows(table) == [(1, "kept"), (3, "kept")]


async def test_cancel_method_from_another_task():
    conn = await pgatomic.connect_async()
    marker = f"cancel_method_{random.getrandbits(32)}"
    slow = asyncio.create_task(conn.execute(f"SELECT pg_sleep(30) /* {marker} */"))
    await sleeping(marker)
    assert await conn.cancel() is True
    with pytest.raises(pgatomic.QueryCanceled):
        await slow
    assert (await conn.execute("SELECT 1")).scalar() == 1
    await conn.close()


# -- deadlines (the core's, on the event loop's timers) --------------------------

@pytest.fixture(scope="module")
def server():
    """A primary of its own on TCP, to freeze (deploylib)."""
    from deploylib import primary
    with primary() as s:
        yield s


async def test_connect_async_honours_connect_timeout():
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)                 # accepts, never answers
    port = listener.getsockname()[1]
    t0 = time.monotonic()
    try:
        with pytest.raises(pgatomic.OperationalError, match="timed out"):
            await asyncio.wait_for(pgatomic.connect_async(
                f"host=127.0.0.1 port={port} connect_timeout=1 sslmode=disable"), 20)
    finally:
        listener.close()
    assert 0.95 <= time.monotonic() - t0 < 2.5


async def test_statement_timeout_in_asyncio_cancels_and_keeps_the_session():
    # 1 s on a warmed session, as in test_deploy.py's twin (a cancel that
    # comes before the server runs the statement is dropped).
    conn = await pgatomic.connect_async(timeout=1.0)
    assert conn.timeout == 1.0
    await conn.execute("SELECT 1")
    t0 = time.monotonic()
    with pytest.raises(pgatomic.QueryCanceled):
        await conn.execute("SELECT pg_sleep(30)")
    assert 0.99 <= time.monotonic() - t0 < 10
    assert (await conn.execute("SELECT 1")).scalar() == 1
    conn.timeout = None
    assert conn.timeout is None
    await conn.close()


async def test_hung_server_ends_an_async_block_in_flight_within_the_deadline(server):
    conn = await pgatomic.connect_async(server.dsn(connect_timeout=2), timeout=0.5)
    await conn.execute("CREATE TABLE IF NOT EXISTS hung_t (x int)")
    took = None
    with pytest.raises(pgatomic.OperationalError):
        async with conn.atomic():
            await conn.execute("INSERT INTO hung_t VALUES (1)")
            server.freeze()
            t0 = time.monotonic()
            try:
                await conn.execute("INSERT INTO hung_t VALUES (2)")
            finally:
                took = time.monotonic() - t0
                server.thaw()
    assert 0.95 <= took < 2.5, took      # 0.5 s deadline + 0.5 s grace
    assert not conn.in_atomic_block
    check = await pgatomic.connect_async(server.dsn())
    assert (await check.execute("SELECT count(*) FROM hung_t")).scalar() == 0
    await check.close()
    await conn.close()


async def test_task_cancel_on_a_hung_server_gives_the_session_up_within_two_seconds(server):
    conn = await pgatomic.connect_async(server.dsn(connect_timeout=2))
    entered = asyncio.Event()

    async def work():
        async with conn.atomic():
            await conn.execute("SELECT 1")
            entered.set()
            await conn.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(work())
    await entered.wait()
    server.freeze()
    try:
        await asyncio.sleep(0.1)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - t0
    finally:
        server.thaw()
    assert took < 3.5, took                 # not the 30 s, not forever
    assert conn.closed and not conn.in_atomic_block
    await conn.connect()
    assert (await conn.execute("SELECT 1")).scalar() == 1
    await conn.close()


# -- the pool --------------------------------------------------------------------------

async def test_pool_size_limit_and_acquire_timeout():
    pool = pgatomic.AsyncPool(os.environ.get("DATABASE_URL"), max_size=2, acquire_timeout=0.3)
    try:
        a = await pool.acquire()
        b = await pool.acquire()
        assert pool.size == 2
        started = time.monotonic()
        with pytest.raises(pgatomic.PoolTimeout):
            await pool.acquire()
        assert 0.25 <= time.monotonic() - started < 3
        waiting = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0.05)
        pool.release(a)
        c = await waiting                       # handed over, not reopened
        assert pool.size == 2
        assert (await c.execute("SELECT 1")).scalar() == 1
        pool.release(b)
        pool.release(c)
        assert pool.idle == 2
    finally:
        await pool.close()
    with pytest.raises(pgatomic.InterfaceError):
        await pool.acquire()


async def test_pool_connection_context_and_blocks(table, rows):
    pool = pgatomic.AsyncPool(os.environ.get("DATABASE_URL"), max_size=1)
    try:
        async with pool.connection() as conn:
            async with conn.atomic():
                await conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        async with pool.connection() as conn:
            async with conn.atomic():
                await conn.execute(f"INSERT INTO {table} VALUES (2, 'y')")
                conn.set_rollback(True)
        assert rows(table) == [(1, "x")]
        assert pool.size == 1 and pool.idle == 1
    finally:
        await pool.close()


async def test_a_cancelled_acquire_loses_no_session():
    pool = pgatomic.AsyncPool(os.environ.get("DATABASE_URL"), max_size=1, acquire_timeout=5)
    try:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0.05)
        pool.release(held)          # handed to the waiter...
        waiter.cancel()             # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiter
        again = await asyncio.wait_for(pool.acquire(), 2)
        assert pool.size == 1
        pool.release(again)
    finally:
        await pool.close()


# -- a bank under load ---------------------------------------------------------------

async def test_thousand_tasks_on_a_pool_of_ten_keep_the_bank_total(tables, capsys):
    """BANK_TASKS concurrent tasks, one transfer each, SERIALIZABLE with
    retries, on the default alias limited to 10 sessions: the total is
    unchanged and every balance is its start plus the recorded transfers."""
    accounts = tables.make("id int PRIMARY KEY, balance bigint NOT NULL", prefix="acct")
    transfers = tables.make("id bigint PRIMARY KEY, src int, dst int, amount bigint",
                            prefix="xfer")
    n_accounts, start = 20, 10_000
    tables.admin.executemany(f"INSERT INTO {accounts} VALUES ($1, $2)",
                             [(i, start) for i in range(n_accounts)])
    pgatomic.aconnections.configure(max_size=10, acquire_timeout=120)
    try:
        pool = pgatomic.aconnections.pool()
        high_water = 0

        async def transfer(tid, src, dst, amount):
            nonlocal high_water
            high_water = max(high_water, pool.size)
            c = pgatomic.aconnection
            a = (await c.execute(f"SELECT balance FROM {accounts} WHERE id = $1", [src])).scalar()
            b = (await c.execute(f"SELECT balance FROM {accounts} WHERE id = $1", [dst])).scalar()
            await c.execute(f"UPDATE {accounts} SET balance = $1 WHERE id = $2", [a - amount, src])
            await c.execute(f"UPDATE {accounts} SET balance = $1 WHERE id = $2", [b + amount, dst])
            await c.execute(f"INSERT INTO {transfers} VALUES ($1, $2, $3, $4)",
                            [tid, src, dst, amount])

        async def one(tid):
            rng = random.Random(tid)
            src, dst = rng.sample(range(n_accounts), 2)
            try:
                await transaction.arun_in_transaction(
                    transfer, tid, src, dst, rng.randint(1, 100),
                    retries=50, isolation="serializable")
            except (pgatomic.SerializationFailure, pgatomic.DeadlockDetected):
                return "gave up", transaction.last_attempts()
            return "done", transaction.last_attempts()

        started = time.monotonic()
        outcomes = await asyncio.gather(*(one(t) for t in range(BANK_TASKS)))
        elapsed = time.monotonic() - started
    finally:
        await pgatomic.aconnections.close_all()
        pgatomic.aconnections.configure()

    admin = tables.admin
    done = sum(1 for o, _ in outcomes if o == "done")
    retries = sum(n - 1 for _, n in outcomes)
    total = admin.execute(f"SELECT sum(balance) FROM {accounts}").scalar()
    assert total == n_accounts * start
    moved = dict(admin.execute(
        f"SELECT a.id, a.balance - {start} - COALESCE((SELECT sum(amount) FROM {transfers} "
        f"WHERE dst = a.id), 0) + COALESCE((SELECT sum(amount) FROM {transfers} "
        f"WHERE src = a.id), 0) FROM {accounts} a").rows)
    assert set(moved.values()) == {0}            # no lost update
    recorded = admin.execute(f"SELECT count(*) FROM {transfers}").scalar()
    assert recorded == done
    assert done >= BANK_TASKS * 0.95
    assert high_water <= 10
    assert retries > 0                           # there was contention to retry
    with capsys.disabled():
        print(f"\nasyncio bank: {BANK_TASKS} tasks on a pool of 10 in {elapsed:.1f} s: "
              f"{done} committed, {retries} retries, {BANK_TASKS - done} gave up; "
              f"at most {high_water} sessions")
