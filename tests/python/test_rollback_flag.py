"""API.md 1.2: get/set_rollback, the manual savepoint API,
mark_for_rollback_on_error, manual mode (autocommit off); each test runs
with the blocking API and with asyncio (flavours.py)."""

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError

OUTSIDE = "The rollback flag doesn't work outside of an 'atomic' block."


async def insert(api, table, id, v="x"):
    await api.execute(f"INSERT INTO {table} VALUES ($1, $2)", [id, v])


class Boom(Exception):
    pass


async def test_set_rollback_true_rolls_back_the_block(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        assert transaction.get_rollback() is False
        transaction.set_rollback(True)
        assert transaction.get_rollback() is True
    assert rows(table) == []


async def test_set_rollback_false_clears_the_flag(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        transaction.set_rollback(True)
        transaction.set_rollback(False)
        await insert(api, table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]


async def test_set_rollback_in_nested_block_rolls_back_only_the_savepoint(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        async with api.atomic():
            await insert(api, table, 2)
            transaction.set_rollback(True)
        assert transaction.get_rollback() is False
        await insert(api, table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


async def test_rollback_flag_outside_block_raises_verbatim(api):
    with pytest.raises(TransactionManagementError) as info:
        transaction.get_rollback()
    assert str(info.value) == OUTSIDE
    with pytest.raises(TransactionManagementError) as info:
        transaction.set_rollback(True)
    assert str(info.value) == OUTSIDE


async def test_manual_savepoints_inside_block(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        sid = transaction.savepoint()
        assert isinstance(sid, str) and sid
        await insert(api, table, 2)
        transaction.savepoint_rollback(sid)
        sid2 = transaction.savepoint()
        await insert(api, table, 3)
        transaction.savepoint_commit(sid2)
        transaction.clean_savepoints()
    assert rows(table) == [(1, "x"), (3, "x")]


async def test_manual_savepoints_are_noops_in_autocommit(api, table, rows):
    assert transaction.savepoint() is None
    await insert(api, table, 1)
    transaction.savepoint_rollback(None)
    transaction.savepoint_commit(None)
    transaction.clean_savepoints()
    assert rows(table) == [(1, "x")]


async def test_manual_savepoint_rollback_drops_hooks_registered_after_it(api, table, rows):
    seen = []
    async with api.atomic():
        transaction.on_commit(lambda: seen.append("before"))
        sid = transaction.savepoint()
        transaction.on_commit(lambda: seen.append("after"))
        transaction.savepoint_rollback(sid)
    assert seen == ["before"]


async def test_mark_for_rollback_on_error_inside_block(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        try:
            with transaction.mark_for_rollback_on_error():
                raise Boom()
        except Boom:
            pass
        assert transaction.get_rollback() is True
    assert rows(table) == []


async def test_mark_for_rollback_on_error_outside_block_has_no_effect(api, table, rows):
    with pytest.raises(Boom):
        with transaction.mark_for_rollback_on_error():
            await insert(api, table, 1)
            raise Boom()
    assert rows(table) == [(1, "x")]


async def test_manual_mode_commit_and_rollback(api, table, rows):
    assert transaction.get_autocommit() is True
    await api.set_autocommit(False)
    try:
        assert transaction.get_autocommit() is False
        assert api.connection.autocommit is False
        await insert(api, table, 1)
        assert rows(table) == []
        await api.rollback()
        assert rows(table) == []
        await insert(api, table, 2)
        await api.commit()
        assert rows(table) == [(2, "x")]
        # A failed statement: rollback() recovers, as in the SQLAlchemy seed.
        try:
            await insert(api, table, 3)
            await insert(api, table, 2)
            await api.commit()
        except pgatomic.IntegrityError:
            await api.rollback()
        await insert(api, table, 4)
        await api.commit()
    finally:
        await api.set_autocommit(True)
    assert rows(table) == [(2, "x"), (4, "x")]


async def test_atomic_inside_manual_transaction_is_a_savepoint(api, table, rows):
    await api.set_autocommit(False)
    try:
        await insert(api, table, 1)
        try:
            async with api.atomic():
                await insert(api, table, 2)
                raise Boom()
        except Boom:
            pass
        await insert(api, table, 3)
        await api.commit()
    finally:
        await api.set_autocommit(True)
    assert rows(table) == [(1, "x"), (3, "x")]
