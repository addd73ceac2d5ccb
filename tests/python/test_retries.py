"""Whole-transaction retries: @atomic(retries=N), run_in_transaction() and
its asyncio twin arun_in_transaction(); the tests taking ``api`` run with
the blocking API and with asyncio (flavours.py).

Serialization failures and deadlocks are made deterministic with PL/pgSQL's
RAISE ... USING ERRCODE, which the server reports with that very SQLSTATE.
Concurrent, real serialization failures are in test_concurrency.py; the
unknown-COMMIT case (never retried) is in test_faults.py."""

import asyncio
import logging
import types

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import atomic, on_commit, run_in_transaction

RAISE = "DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{}'; END $$"


@pytest.fixture
def no_sleep(monkeypatch):
    """Record the backoff pauses instead of sleeping them (time.sleep in
    the blocking loop, asyncio.sleep in the asyncio one)."""
    pauses = []

    async def asleep(seconds):
        pauses.append(seconds)

    class Asyncio(types.SimpleNamespace):      # asyncio, but for its sleep
        def __getattr__(self, name):
            return getattr(asyncio, name)

    monkeypatch.setattr(transaction.time, "sleep", pauses.append)
    monkeypatch.setattr(transaction, "asyncio", Asyncio(sleep=asleep))
    return pauses


async def _insert(api, table, i, v="x"):
    await api.execute(f"INSERT INTO {table} VALUES ($1, $2)", [i, v])


@pytest.mark.parametrize("sqlstate,cls", [("40001", pgatomic.SerializationFailure),
                                          ("40P01", pgatomic.DeadlockDetected)],
                         ids=["serialization_failure", "deadlock"])
async def test_decorator_retries_until_success(api, table, rows, no_sleep, sqlstate, cls):
    calls = []

    @api.atomic(retries=3)
    async def work():
        calls.append(1)
        await _insert(api, table, len(calls))
        if len(calls) < 3:
            await api.execute(RAISE.format(sqlstate))
        return "done"

    assert await work() == "done"
    assert len(calls) == 3
    assert transaction.last_attempts() == 3
    # Only the successful attempt's row is there: the failed ones rolled back.
    assert rows(table) == [(3, "x")]
    assert len(no_sleep) == 2


async def test_retries_exhausted_raises_last_error_with_attempts(api, table, rows, no_sleep):
    calls = []

    @api.atomic(retries=2)
    async def work():
        calls.append(1)
        await _insert(api, table, len(calls))
        await api.execute(RAISE.format("40001"))

    with pytest.raises(pgatomic.SerializationFailure) as info:
        await work()
    assert info.value.attempts == 3
    assert len(calls) == 3
    assert transaction.last_attempts() == 3
    assert rows(table) == []
    assert not api.connection.in_atomic_block


@pytest.mark.parametrize("sql,cls", [
    (RAISE.format("23505"), pgatomic.UniqueViolation),
    (RAISE.format("57014"), pgatomic.QueryCanceled),
    ("SELECT 1/0", pgatomic.DataError),
], ids=["unique_violation", "query_canceled", "division_by_zero"])
async def test_other_errors_are_never_retried(api, table, rows, no_sleep, sql, cls):
    calls = []

    @api.atomic(retries=5)
    async def work():
        calls.append(1)
        await _insert(api, table, 1)
        await api.execute(sql)

    with pytest.raises(cls) as info:
        await work()
    assert len(calls) == 1
    assert info.value.attempts == 1
    assert no_sleep == []
    assert rows(table) == []


async def test_python_exception_is_never_retried(api, no_sleep):
    calls = []

    @api.atomic(retries=5)
    async def work():
        calls.append(1)
        raise KeyError("mine")

    with pytest.raises(KeyError):
        await work()
    assert len(calls) == 1
    assert transaction.last_attempts() == 1


async def test_caught_failure_then_broken_block_is_retried(api, table, rows, no_sleep):
    """The body swallows the serialization failure; the next query raises
    the verbatim TransactionManagementError, whose cause is retryable."""
    calls = []

    @api.atomic(retries=1)
    async def work():
        calls.append(1)
        await _insert(api, table, len(calls))
        if len(calls) == 1:
            try:
                await api.execute(RAISE.format("40001"))
            except pgatomic.SerializationFailure:
                pass
            await api.execute("SELECT 1")   # broken: raises

    await work()
    assert len(calls) == 2
    assert rows(table) == [(2, "x")]


async def test_commit_time_failure_is_retried_and_its_hooks_never_run(api, tables, rows, no_sleep):
    """A deferred constraint trigger fails at COMMIT with 40001: the block
    is re-run, and the hooks of the failed attempt are dropped."""
    table = tables.make("id int PRIMARY KEY, v text")
    admin = pgatomic.connect()
    fn = f"{table}_fail"
    admin.execute(f"""CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.v = 'fail' THEN
            RAISE EXCEPTION 'at commit' USING ERRCODE = '40001'; END IF;
        RETURN NULL; END $$""")
    admin.execute(f"""CREATE CONSTRAINT TRIGGER {table}_t AFTER INSERT ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {fn}()""")
    ran, calls = [], []
    try:
        @api.atomic(retries=2)
        async def work():
            calls.append(1)
            n = len(calls)
            await _insert(api, table, n, "fail" if n == 1 else "ok")
            on_commit(lambda: ran.append(n))

        await work()
        assert len(calls) == 2
        assert ran == [2]
        assert rows(table) == [(2, "ok")]
    finally:
        admin.execute(f"DROP TABLE {table}")
        admin.execute(f"DROP FUNCTION {fn}()")
        admin.close()


async def test_nested_block_with_retries_raises_unchanged(api, table, rows, no_sleep):
    calls = []

    @api.atomic(retries=3)
    async def inner():
        calls.append(1)
        await api.execute(RAISE.format("40001"))

    with pytest.raises(pgatomic.SerializationFailure):
        async with api.atomic():
            await _insert(api, table, 1)
            await inner()
    assert len(calls) == 1
    assert no_sleep == []
    assert rows(table) == []


async def test_nested_retrying_function_inside_retrying_function(api, table, rows, no_sleep):
    """Only the outermost decorated function re-runs; the inner one does not
    retry on its own (it is a savepoint) but is re-run with the outer."""
    outer_calls, inner_calls = [], []

    @api.atomic(retries=3)
    async def inner():
        inner_calls.append(1)
        if len(inner_calls) == 1:
            await api.execute(RAISE.format("40P01"))

    @api.atomic(retries=3)
    async def outer():
        outer_calls.append(1)
        await _insert(api, table, len(outer_calls))
        await inner()

    await outer()
    assert (len(outer_calls), len(inner_calls)) == (2, 2)
    assert rows(table) == [(2, "x")]


async def test_with_statement_with_retries_is_refused(api):
    """A 'with' body cannot be re-run: refused at __enter__, nothing opened."""
    block = api.atomic(retries=2)
    with pytest.raises(pgatomic.TransactionManagementError,
                       match=r"cannot be used as a 'with' block"):
        async with block:
            pytest.fail("the body must not run")
    assert not api.connection.in_atomic_block
    assert (await api.execute("SELECT 1")).scalar() == 1
    # retries=0 is refused the same way: the rule does not depend on N.
    with pytest.raises(pgatomic.TransactionManagementError):
        async with api.atomic(retries=0):
            pass


def test_retries_argument_is_checked():
    with pytest.raises(ValueError):
        atomic(retries=-1)
    with pytest.raises(TypeError):
        atomic(retries="3")
    with pytest.raises(TypeError):
        atomic(retries=True)


async def test_run_in_transaction(api, table, rows, no_sleep):
    calls = []

    async def transfer(a, b):
        calls.append(1)
        assert api.connection.in_atomic_block
        await _insert(api, table, a + b)
        if len(calls) == 1:
            await api.execute(RAISE.format("40001"))
        return (await api.execute("SHOW transaction_isolation")).scalar()

    assert transaction.run_in_transaction is pgatomic.run_in_transaction
    assert transaction.arun_in_transaction is pgatomic.arun_in_transaction
    assert await api.run_in_transaction(transfer, 1, 2, retries=2,
                                        isolation="serializable") == "serializable"
    assert len(calls) == 2
    assert transaction.last_attempts() == 2
    assert rows(table) == [(3, "x")]


async def test_run_in_transaction_without_retries_runs_once(api, no_sleep):
    async def fail(sql):
        await api.execute(sql)

    with pytest.raises(pgatomic.SerializationFailure) as info:
        await api.run_in_transaction(fail, RAISE.format("40001"))
    assert info.value.attempts == 1
    with pytest.raises(TypeError):
        run_in_transaction(42)
    with pytest.raises(TypeError):
        await transaction.arun_in_transaction(42)


async def test_backoff_uses_the_core_with_jitter_and_cap(api, monkeypatch, no_sleep):
    monkeypatch.setattr(transaction, "RETRY_BASE_MS", 8)
    monkeypatch.setattr(transaction, "RETRY_CAP_MS", 20)

    @api.atomic(retries=6)
    async def work():
        await api.execute(RAISE.format("40001"))

    with pytest.raises(pgatomic.SerializationFailure):
        await work()
    assert len(no_sleep) == 6
    for n, pause in enumerate(no_sleep, start=1):
        assert 0 <= pause * 1000 <= min(20, 8 * 2 ** (n - 1)) + 1e-9
    # The core's function itself: full jitter in [0, min(cap, base*2^(n-1))].
    from pgatomic import _pgatomic
    assert _pgatomic.retry_delay_ms(1, 10, 1000, 0) == 0
    assert _pgatomic.retry_delay_ms(1, 10, 1000, 10) == 10
    assert _pgatomic.retry_delay_ms(4, 10, 1000, 2**32 - 1) <= 80
    assert _pgatomic.retry_delay_ms(30, 10, 1000, 2**32 - 1) <= 1000
    assert _pgatomic.retryable(-3, "40001") is False    # ECOMMITUNKNOWN


async def test_retry_is_logged_at_debug(api, caplog, no_sleep):
    calls = []

    @api.atomic(retries=1)
    async def work():
        calls.append(1)
        if len(calls) == 1:
            await api.execute(RAISE.format("40P01"))

    with caplog.at_level(logging.DEBUG, logger="pgatomic"):
        await work()
    lines = [r.getMessage() for r in caplog.records if r.name == "pgatomic"]
    assert any("retrying" in m and "40P01" in m and "attempt 2 of 2" in m for m in lines), lines
