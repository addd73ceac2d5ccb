"""API.md 1.2: get/set_rollback, the manual savepoint API,
mark_for_rollback_on_error, manual mode (autocommit off)."""

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError

OUTSIDE = "The rollback flag doesn't work outside of an 'atomic' block."


def insert(table, id, v="x"):
    pgatomic.connection.execute(f"INSERT INTO {table} VALUES ($1, $2)", [id, v])


class Boom(Exception):
    pass


def test_set_rollback_true_rolls_back_the_block(table, rows):
    with transaction.atomic():
        insert(table, 1)
        assert transaction.get_rollback() is False
        transaction.set_rollback(True)
        assert transaction.get_rollback() is True
    assert rows(table) == []


def test_set_rollback_false_clears_the_flag(table, rows):
    with transaction.atomic():
        insert(table, 1)
        transaction.set_rollback(True)
        transaction.set_rollback(False)
        insert(table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]


def test_set_rollback_in_nested_block_rolls_back_only_the_savepoint(table, rows):
    with transaction.atomic():
        insert(table, 1)
        with transaction.atomic():
            insert(table, 2)
            transaction.set_rollback(True)
        assert transaction.get_rollback() is False
        insert(table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


def test_rollback_flag_outside_block_raises_verbatim():
    with pytest.raises(TransactionManagementError) as info:
        transaction.get_rollback()
    assert str(info.value) == OUTSIDE
    with pytest.raises(TransactionManagementError) as info:
        transaction.set_rollback(True)
    assert str(info.value) == OUTSIDE


def test_manual_savepoints_inside_block(table, rows):
    with transaction.atomic():
        insert(table, 1)
        sid = transaction.savepoint()
        assert isinstance(sid, str) and sid
        insert(table, 2)
        transaction.savepoint_rollback(sid)
        sid2 = transaction.savepoint()
        insert(table, 3)
        transaction.savepoint_commit(sid2)
        transaction.clean_savepoints()
    assert rows(table) == [(1, "x"), (3, "x")]


def test_manual_savepoints_are_noops_in_autocommit(table, rows):
    assert transaction.savepoint() is None
    insert(table, 1)
    transaction.savepoint_rollback(None)
    transaction.savepoint_commit(None)
    transaction.clean_savepoints()
    assert rows(table) == [(1, "x")]


def test_manual_savepoint_rollback_drops_hooks_registered_after_it(table, rows):
    seen = []
    with transaction.atomic():
        transaction.on_commit(lambda: seen.append("before"))
        sid = transaction.savepoint()
        transaction.on_commit(lambda: seen.append("after"))
        transaction.savepoint_rollback(sid)
    assert seen == ["before"]


def test_mark_for_rollback_on_error_inside_block(table, rows):
    with transaction.atomic():
        insert(table, 1)
        try:
            with transaction.mark_for_rollback_on_error():
                raise Boom()
        except Boom:
            pass
        assert transaction.get_rollback() is True
    assert rows(table) == []


def test_mark_for_rollback_on_error_outside_block_has_no_effect(table, rows):
    with pytest.raises(Boom):
        with transaction.mark_for_rollback_on_error():
            insert(table, 1)
            raise Boom()
    assert rows(table) == [(1, "x")]


def test_manual_mode_commit_and_rollback(table, rows):
    assert transaction.get_autocommit() is True
    transaction.set_autocommit(False)
    try:
        assert transaction.get_autocommit() is False
        assert pgatomic.connection.autocommit is False
        insert(table, 1)
        assert rows(table) == []
        transaction.rollback()
        assert rows(table) == []
        insert(table, 2)
        transaction.commit()
        assert rows(table) == [(2, "x")]
        # A failed statement: rollback() recovers, as in the SQLAlchemy seed.
        try:
            insert(table, 3)
            insert(table, 2)
            transaction.commit()
        except pgatomic.IntegrityError:
            transaction.rollback()
        insert(table, 4)
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    assert rows(table) == [(2, "x"), (4, "x")]


def test_atomic_inside_manual_transaction_is_a_savepoint(table, rows):
    transaction.set_autocommit(False)
    try:
        insert(table, 1)
        try:
            with transaction.atomic():
                insert(table, 2)
                raise Boom()
        except Boom:
            pass
        insert(table, 3)
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    assert rows(table) == [(1, "x"), (3, "x")]
