"""API.md 1.2 on_commit: order, scoping to savepoints, robust hooks and the
pgatomic logger's verbatim messages, propagation, misuse."""

import logging

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError


def insert(table, id, v="x"):
    pgatomic.connection.execute(f"INSERT INTO {table} VALUES ($1, $2)", [id, v])


class Boom(Exception):
    pass


def test_hooks_run_after_outermost_commit_in_order(table, rows):
    seen = []
    with transaction.atomic():
        insert(table, 1)
        transaction.on_commit(lambda: seen.append(("a", rows(table))))
        with transaction.atomic():
            transaction.on_commit(lambda: seen.append("b"))
        transaction.on_commit(lambda: seen.append("c"))
        assert seen == []
    # The first hook saw the committed row: hooks run after COMMIT.
    assert seen == [("a", [(1, "x")]), "b", "c"]


def test_hook_runs_at_once_without_transaction():
    seen = []
    transaction.on_commit(lambda: seen.append(1))
    assert seen == [1]


def test_hooks_dropped_when_transaction_rolls_back(table, rows):
    seen = []
    with pytest.raises(Boom):
        with transaction.atomic():
            insert(table, 1)
            transaction.on_commit(lambda: seen.append("never"))
            raise Boom()
    assert seen == [] and rows(table) == []


def test_hooks_dropped_when_their_savepoint_rolls_back(table, rows):
    seen = []
    with transaction.atomic():
        transaction.on_commit(lambda: seen.append("outer"))
        try:
            with transaction.atomic():
                transaction.on_commit(lambda: seen.append("inner"))
                with transaction.atomic():
                    transaction.on_commit(lambda: seen.append("innermost"))
                raise Boom()
        except Boom:
            pass
        with transaction.atomic():
            transaction.on_commit(lambda: seen.append("kept"))
    assert seen == ["outer", "kept"]


def test_hooks_dropped_with_set_rollback(table, rows):
    seen = []
    with transaction.atomic():
        insert(table, 1)
        transaction.on_commit(lambda: seen.append("never"))
        transaction.set_rollback(True)
    assert seen == [] and rows(table) == []


def test_hook_may_open_its_own_block_and_register_hooks(table, rows):
    seen = []

    def first():
        with transaction.atomic():
            insert(table, 2)
            transaction.on_commit(lambda: seen.append(("inner hook", rows(table))))
        seen.append("first done")

    with transaction.atomic():
        insert(table, 1)
        transaction.on_commit(first)
        transaction.on_commit(lambda: seen.append("second"))
    assert seen == [("inner hook", [(1, "x"), (2, "x")]), "first done", "second"]


def test_robust_hook_failure_is_logged_and_next_runs(table, rows, caplog):
    seen = []

    def failing():
        raise Boom("kaput")

    with caplog.at_level(logging.ERROR, logger="pgatomic"):
        with transaction.atomic():
            insert(table, 1)
            transaction.on_commit(failing, robust=True)
            transaction.on_commit(lambda: seen.append("next"))
    assert seen == ["next"] and rows(table) == [(1, "x")]
    records = [r for r in caplog.records if r.name == "pgatomic"]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert records[0].getMessage() == (
        "Error calling test_robust_hook_failure_is_logged_and_next_runs.<locals>.failing "
        "in on_commit() during transaction (kaput).")
    assert records[0].exc_info[0] is Boom


def test_robust_hook_without_transaction_logs_verbatim(caplog):
    class Failing:
        def __call__(self):
            raise Boom("now")

        def __str__(self):
            return "failing-object"

    with caplog.at_level(logging.ERROR, logger="pgatomic"):
        transaction.on_commit(Failing(), robust=True)
    (record,) = [r for r in caplog.records if r.name == "pgatomic"]
    assert record.getMessage() == "Error calling failing-object in on_commit() (now)."


def test_failing_hook_propagates_after_commit_and_drops_the_rest(table, rows):
    seen = []

    def failing():
        raise Boom("hook")

    with pytest.raises(Boom):
        with transaction.atomic():
            insert(table, 1)
            transaction.on_commit(failing)
            transaction.on_commit(lambda: seen.append("dropped"))
    assert rows(table) == [(1, "x")]        # the data is committed
    assert seen == []
    # The next transaction starts with no leftover hooks.
    with transaction.atomic():
        transaction.on_commit(lambda: seen.append("fresh"))
    assert seen == ["fresh"]


def test_non_callable_raises_type_error_verbatim():
    with pytest.raises(TypeError) as info:
        transaction.on_commit("not a function")
    assert str(info.value) == "on_commit()'s callback must be a callable."


def test_on_commit_in_manual_mode_without_block_raises(table, rows):
    transaction.set_autocommit(False)
    try:
        with pytest.raises(TransactionManagementError) as info:
            transaction.on_commit(lambda: None)
        assert str(info.value) == "on_commit() cannot be used in manual transaction management"
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def test_hooks_in_manual_transaction_run_after_commit(table, rows):
    seen = []
    transaction.set_autocommit(False)
    try:
        insert(table, 1)
        with transaction.atomic():
            insert(table, 2)
            transaction.on_commit(lambda: seen.append("after commit"))
        assert seen == []
        transaction.commit()
        assert seen == ["after commit"]
    finally:
        transaction.set_autocommit(True)
    assert rows(table) == [(1, "x"), (2, "x")]


def test_hooks_on_explicit_using(table, rows):
    pgatomic.configure(default=None, other=None)
    seen = []
    with transaction.atomic(using="other"):
        transaction.on_commit(lambda: seen.append("other"), using="other")
        transaction.on_commit(lambda: seen.append("default-now"))
        assert seen == ["default-now"]
    assert seen == ["default-now", "other"]
