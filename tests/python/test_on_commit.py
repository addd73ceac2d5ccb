"""API.md 1.2 on_commit: order, scoping to savepoints, robust hooks and the
pgatomic logger's verbatim messages, propagation, misuse.  The tests taking
``api`` run with the blocking API and with asyncio (flavours.py); the
coroutine hooks of API.md 6 are at the end."""

import asyncio
import logging

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError


async def insert(api, table, id, v="x"):
    await api.execute(f"INSERT INTO {table} VALUES ($1, $2)", [id, v])


class Boom(Exception):
    pass


async def test_hooks_run_after_outermost_commit_in_order(api, table, rows):
    seen = []
    async with api.atomic():
        await insert(api, table, 1)
        transaction.on_commit(lambda: seen.append(("a", rows(table))))
        async with api.atomic():
            transaction.on_commit(lambda: seen.append("b"))
        transaction.on_commit(lambda: seen.append("c"))
        assert seen == []
    # The first hook saw the committed row: hooks run after COMMIT.
    assert seen == [("a", [(1, "x")]), "b", "c"]


async def test_hook_runs_at_once_without_transaction(api):
    seen = []
    transaction.on_commit(lambda: seen.append(1))
    assert seen == [1]


async def test_hooks_dropped_when_transaction_rolls_back(api, table, rows):
    seen = []
    with pytest.raises(Boom):
        async with api.atomic():
            await insert(api, table, 1)
            transaction.on_commit(lambda: seen.append("never"))
            raise Boom()
    assert seen == [] and rows(table) == []


async def test_hooks_dropped_when_their_savepoint_rolls_back(api, table, rows):
    seen = []
    async with api.atomic():
        transaction.on_commit(lambda: seen.append("outer"))
        try:
            async with api.atomic():
                transaction.on_commit(lambda: seen.append("inner"))
                async with api.atomic():
                    transaction.on_commit(lambda: seen.append("innermost"))
                raise Boom()
        except Boom:
            pass
        async with api.atomic():
            transaction.on_commit(lambda: seen.append("kept"))
    assert seen == ["outer", "kept"]


async def test_hooks_dropped_with_set_rollback(api, table, rows):
    seen = []
    async with api.atomic():
        await insert(api, table, 1)
        transaction.on_commit(lambda: seen.append("never"))
        transaction.set_rollback(True)
    assert seen == [] and rows(table) == []


async def test_hook_may_open_its_own_block_and_register_hooks(api, table, rows):
    seen = []

    @api.atomic
    async def second_block():
        await insert(api, table, 2)
        transaction.on_commit(lambda: seen.append(("inner hook", rows(table))))

    async def first():
        await second_block()
        seen.append("first done")

    # A plain function in the blocking API; a coroutine function in asyncio.
    hook = first if api.name == "async" else lambda: api.run(first())
    async with api.atomic():
        await insert(api, table, 1)
        transaction.on_commit(hook)
        transaction.on_commit(lambda: seen.append("second"))
    assert seen == [("inner hook", [(1, "x"), (2, "x")]), "first done", "second"]


async def test_robust_hook_failure_is_logged_and_next_runs(api, table, rows, caplog):
    seen = []

    def failing():
        raise Boom("kaput")

    with caplog.at_level(logging.ERROR, logger="pgatomic"):
        async with api.atomic():
            await insert(api, table, 1)
            transaction.on_commit(failing, robust=True)
            transaction.on_commit(lambda: seen.append("next"))
    assert seen == ["next"] and rows(table) == [(1, "x")]
    records = [r for r in caplog.records if r.name == "pgatomic"]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert records[0].getMessage() == (
        "Error calling test_robust_hook_failure_is_logged_and_next_runs.<locals>.failing "
        "in on_commit() during transaction (kaput).")
    assert records[0].exc_info[0] is Boom


async def test_robust_hook_without_transaction_logs_verbatim(api, caplog):
    class Failing:
        def __call__(self):
            raise Boom("now")

        def __str__(self):
            return "failing-object"

    with caplog.at_level(logging.ERROR, logger="pgatomic"):
        transaction.on_commit(Failing(), robust=True)
    (record,) = [r for r in caplog.records if r.name == "pgatomic"]
    assert record.getMessage() == "Error calling failing-object in on_commit() (now)."


async def test_failing_hook_propagates_after_commit_and_drops_the_rest(api, table, rows):
    seen = []

    def failing():
        raise Boom("hook")

    with pytest.raises(Boom):
        async with api.atomic():
            await insert(api, table, 1)
            transaction.on_commit(failing)
            transaction.on_commit(lambda: seen.append("dropped"))
    assert rows(table) == [(1, "x")]        # the data is committed
    assert seen == []
    # The next transaction starts with no leftover hooks.
    async with api.atomic():
        transaction.on_commit(lambda: seen.append("fresh"))
    assert seen == ["fresh"]


async def test_non_callable_raises_type_error_verbatim(api):
    with pytest.raises(TypeError) as info:
        transaction.on_commit("not a function")
    assert str(info.value) == "on_commit()'s callback must be a callable."


async def test_on_commit_in_manual_mode_without_block_raises(api, table, rows):
    await api.set_autocommit(False)
    try:
        with pytest.raises(TransactionManagementError) as info:
            transaction.on_commit(lambda: None)
        assert str(info.value) == "on_commit() cannot be used in manual transaction management"
    finally:
        await api.rollback()
        await api.set_autocommit(True)


async def test_hooks_in_manual_transaction_run_after_commit(api, table, rows):
    seen = []
    await api.set_autocommit(False)
    try:
        await insert(api, table, 1)
        async with api.atomic():
            await insert(api, table, 2)
            transaction.on_commit(lambda: seen.append("after commit"))
        assert seen == []
        await api.commit()
        assert seen == ["after commit"]
    finally:
        await api.set_autocommit(True)
    assert rows(table) == [(1, "x"), (2, "x")]


async def test_hooks_on_explicit_using(api, table, rows):
    pgatomic.configure(default=None, other=None)
    seen = []
    async with api.atomic(using="other"):
        transaction.on_commit(lambda: seen.append("other"), using="other")
        transaction.on_commit(lambda: seen.append("default-now"))
        assert seen == ["default-now"]
    assert seen == ["default-now", "other"]


# -- coroutine hooks (API.md 6) ------------------------------------------------

async def test_coroutine_hooks_are_awaited_in_order_after_commit(table, rows):
    seen = []

    async def slow(tag):
        await asyncio.sleep(0.01)
        seen.append((tag, rows(table)))

    async with pgatomic.atomic():
        await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        transaction.on_commit(lambda: slow("first"))        # returns an awaitable
        transaction.on_commit(lambda: seen.append("plain"))
        pgatomic.on_commit(lambda: slow("third"))
        assert seen == []
    assert seen == [("first", [(1, "x")]), "plain", ("third", [(1, "x")])]


async def test_coroutine_hook_robust_failure_is_logged(table, caplog):
    seen = []

    async def failing():
        raise Boom("async kaput")

    async def later():
        seen.append("later")

    with caplog.at_level(logging.ERROR, logger="pgatomic"):
        async with pgatomic.atomic():
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
            transaction.on_commit(failing, robust=True)
            transaction.on_commit(later)
    assert seen == ["later"]
    (record,) = [r for r in caplog.records if r.name == "pgatomic"]
    assert record.getMessage() == (
        "Error calling test_coroutine_hook_robust_failure_is_logged.<locals>.failing "
        "in on_commit() during transaction (async kaput).")


async def test_coroutine_hook_failure_propagates_after_commit(table, rows):
    async def failing():
        raise Boom("after")

    with pytest.raises(Boom):
        async with pgatomic.atomic():
            await pgatomic.aconnection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
            transaction.on_commit(failing)
    assert rows(table) == [(1, "x")]


async def test_coroutine_hook_without_transaction_starts_at_once(caplog):
    seen = []
    done = asyncio.Event()

    async def hook():
        seen.append("ran")
        done.set()

    transaction.on_commit(hook)
    await asyncio.wait_for(done.wait(), 5)
    assert seen == ["ran"]


def test_coroutine_hook_in_a_synchronous_block_is_refused(table):
    async def hook():
        pass

    with transaction.atomic():
        with pytest.raises(TypeError) as info:
            transaction.on_commit(hook)
    assert "coroutine function" in str(info.value)
    assert "async with pgatomic.atomic()" in str(info.value)


# -- raw BEGIN / COMMIT / ROLLBACK as SQL (the blocking API) --------------------

@pytest.mark.parametrize("how", ["rollback", "commit_of_failed", "rollback_and_chain"])
def test_hooks_of_raw_begin_follow_raw_commit_or_rollback(conn, table, rows, how):
    """A transaction begun as SQL ends as SQL: a COMMIT runs the hooks of its
    blocks before execute() returns; a ROLLBACK (or the ROLLBACK the server
    answers a failed transaction's COMMIT with) drops them, and they never
    run later, in another transaction."""
    seen = []
    conn.execute("BEGIN")
    with pytest.raises(TransactionManagementError):
        conn.on_commit(lambda: seen.append("outside any block"))
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        conn.on_commit(lambda: seen.append("rolled back"))
    if how == "commit_of_failed":
        with pytest.raises(pgatomic.DataError):
            conn.execute("SELECT 1/0")
        assert conn.execute("COMMIT").status == "ROLLBACK"
    else:
        conn.execute("ROLLBACK AND CHAIN" if how == "rollback_and_chain" else "ROLLBACK")
    assert seen == []
    if how != "rollback_and_chain":
        conn.execute("BEGIN")
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (2, 'x')")
        conn.on_commit(lambda: seen.append("committed"))
    with conn.atomic():
        pass
    assert seen == []
    conn.execute("COMMIT")
    assert seen == ["committed"]
    assert rows(table) == [(2, "x")]
    with conn.atomic():
        pass
    assert seen == ["committed"]


def test_hooks_in_manual_mode_follow_raw_rollback(table, rows):
    seen = []
    transaction.set_autocommit(False)
    try:
        with transaction.atomic():
            pgatomic.connection.execute(f"INSERT INTO {table} VALUES (1, 'x')")
            transaction.on_commit(lambda: seen.append("rolled back"))
        pgatomic.connection.execute("ROLLBACK")
        with transaction.atomic():
            pgatomic.connection.execute(f"INSERT INTO {table} VALUES (2, 'x')")
            transaction.on_commit(lambda: seen.append("committed"))
        pgatomic.connection.execute("COMMIT")
        assert seen == ["committed"]
    finally:
        transaction.set_autocommit(True)
    assert rows(table) == [(2, "x")]
