"""API.md 1.2, one test per rule: atomic blocks, nesting, savepoint=False,
durable, broken blocks, forbidden calls, raw COMMIT, transaction options.
Each asserts the rows left in the table and the exact exception."""

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError

BROKEN = ("An error occurred in the current transaction. You can't execute "
          "queries until the end of the 'atomic' block.")
FORBIDDEN = "This is forbidden when an 'atomic' block is active."
DURABLE = "A durable atomic block cannot be nested within another atomic block."


def insert(table, id, v="x", using=None):
    pgatomic.connections["default" if using is None else using].execute(
        f"INSERT INTO {table} VALUES ($1, $2)", [id, v])


class Boom(Exception):
    pass


def test_outermost_block_commits_on_normal_exit(table, rows):
    with transaction.atomic():
        insert(table, 1)
        insert(table, 2)
        assert rows(table) == []            # not visible before COMMIT
    assert rows(table) == [(1, "x"), (2, "x")]


def test_outermost_block_rolls_back_and_propagates_the_exception(table, rows):
    err = Boom("fail")
    with pytest.raises(Boom) as info:
        with transaction.atomic():
            insert(table, 1)
            raise err
    assert info.value is err
    assert rows(table) == []
    assert not pgatomic.connection.in_atomic_block


def test_nested_success_releases_savepoint(table, rows):
    with transaction.atomic():
        insert(table, 1)
        with transaction.atomic():
            insert(table, 2)
            assert len(pgatomic.connection.savepoint_ids) == 1
        insert(table, 3)
    assert rows(table) == [(1, "x"), (2, "x"), (3, "x")]


def test_nested_failure_rolls_back_to_savepoint(table, rows):
    with transaction.atomic():
        insert(table, 1)
        try:
            with transaction.atomic():
                insert(table, 2)
                raise Boom()
        except Boom:
            pass
        assert not pgatomic.connection.needs_rollback
        insert(table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


def test_nested_database_error_rolls_back_to_savepoint_and_outer_carries_on(table, rows):
    with transaction.atomic():
        insert(table, 1)
        with pytest.raises(pgatomic.IntegrityError) as info:
            with transaction.atomic():
                insert(table, 1)
        assert type(info.value) is pgatomic.UniqueViolation
        insert(table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]


def test_savepoint_false_marks_enclosing_block_for_rollback(table, rows):
    with transaction.atomic():
        insert(table, 1)
        try:
            with transaction.atomic(savepoint=False):
                insert(table, 2)
                raise Boom()
        except Boom:
            pass
        assert pgatomic.connection.needs_rollback
        assert transaction.get_rollback() is True
        with pytest.raises(TransactionManagementError) as info:
            insert(table, 3)
        assert str(info.value) == BROKEN
    assert rows(table) == []


def test_savepoint_false_rolls_back_to_the_nearest_savepoint(table, rows):
    with transaction.atomic():
        insert(table, 1)
        try:
            with transaction.atomic():               # savepoint
                insert(table, 2)
                try:
                    with transaction.atomic(savepoint=False):
                        insert(table, 3)
                        raise Boom()
                except Boom:
                    pass
        except Exception:                           # leaving it raises nothing
            raise
        insert(table, 4)
    assert rows(table) == [(1, "x"), (4, "x")]


def test_savepoint_false_success_is_part_of_the_enclosing_block(table, rows):
    with transaction.atomic():
        with transaction.atomic(savepoint=False):
            insert(table, 1)
            assert pgatomic.connection.savepoint_ids == (None,)
    assert rows(table) == [(1, "x")]


def test_durable_nested_raises_runtime_error_verbatim(table, rows):
    with transaction.atomic():
        insert(table, 1)
        with pytest.raises(RuntimeError) as info:
            with transaction.atomic(durable=True):
                insert(table, 2)
        assert type(info.value) is RuntimeError
        assert str(info.value) == DURABLE
        assert pgatomic.connection.atomic_depth == 1   # stack unchanged
        insert(table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


def test_durable_outermost_commits(table, rows):
    with transaction.atomic(durable=True):
        insert(table, 1)
    assert rows(table) == [(1, "x")]


def test_database_error_breaks_block_until_it_exits(table, rows):
    with pytest.raises(TransactionManagementError) as info:
        with transaction.atomic():
            insert(table, 1)
            try:
                insert(table, 1)
            except pgatomic.IntegrityError as e:
                original = e
            insert(table, 2)
    assert str(info.value) == BROKEN
    assert info.value.__cause__ is original
    assert type(original) is pgatomic.UniqueViolation
    assert rows(table) == []
    # The connection works again afterwards.
    insert(table, 5)
    assert rows(table) == [(5, "x")]


def test_broken_block_sends_nothing_further(table, rows):
    conn = pgatomic.connection
    with pytest.raises(TransactionManagementError):
        with transaction.atomic():
            with pytest.raises(pgatomic.ProgrammingError):
                conn.execute("SELECT * FROM no_such_table_at_all")
            before = conn.round_trips
            with pytest.raises(TransactionManagementError):
                conn.execute("SELECT 1")
            assert conn.round_trips == before
            raise TransactionManagementError(BROKEN)
    assert rows(table) == []


@pytest.mark.parametrize("call", [
    lambda: transaction.commit(),
    lambda: transaction.rollback(),
    lambda: transaction.set_autocommit(False),
    lambda: transaction.set_autocommit(True),
])
def test_commit_rollback_set_autocommit_forbidden_in_block(table, rows, call):
    with transaction.atomic():
        insert(table, 1)
        with pytest.raises(TransactionManagementError) as info:
            call()
        assert str(info.value) == FORBIDDEN
        insert(table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]
    assert transaction.get_autocommit() is True


@pytest.mark.parametrize("sql", ["COMMIT", "ROLLBACK"])
def test_raw_commit_or_rollback_in_block_is_detected(table, rows, sql):
    conn = pgatomic.connection
    with pytest.raises(TransactionManagementError):
        with transaction.atomic():
            insert(table, 1)
            with pytest.raises(TransactionManagementError):
                conn.execute(sql)
            assert conn.needs_rollback
            with pytest.raises(TransactionManagementError) as info:
                insert(table, 2)
            assert str(info.value) == BROKEN
            raise TransactionManagementError("leave")
    assert not conn.in_atomic_block
    # Whatever the raw statement did, the block's own state is consistent
    # and the connection usable: a new block commits normally.
    with transaction.atomic():
        insert(table, 3)
    got = [r[0] for r in rows(table)]
    assert 2 not in got and 3 in got
    assert got == ([1, 3] if sql == "COMMIT" else [3])


def test_isolation_read_only_deferrable_on_outermost_block(table):
    conn = pgatomic.connection
    with transaction.atomic(isolation="serializable", read_only=True, deferrable=True):
        assert conn.execute("SHOW transaction_isolation").scalar() == "serializable"
        assert conn.execute("SHOW transaction_read_only").scalar() == "on"
        assert conn.execute("SHOW transaction_deferrable").scalar() == "on"
        with pytest.raises(pgatomic.InternalError):     # 25006 read-only
            insert(table, 1)
    with transaction.atomic(isolation=pgatomic.Isolation.REPEATABLE_READ):
        assert conn.execute("SHOW transaction_isolation").scalar() == "repeatable read"
    with transaction.atomic(isolation=pgatomic.Isolation.READ_COMMITTED, read_only=False):
        assert conn.execute("SHOW transaction_isolation").scalar() == "read committed"
        insert(table, 2)


@pytest.mark.parametrize("options", [
    {"isolation": "serializable"}, {"read_only": True}, {"deferrable": True},
])
def test_transaction_options_on_nested_block_raise(table, rows, options):
    with transaction.atomic():
        insert(table, 1)
        with pytest.raises(TransactionManagementError):
            with transaction.atomic(**options):
                insert(table, 2)
        insert(table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


def test_bad_isolation_name_raises_value_error():
    with pytest.raises(ValueError):
        transaction.atomic(isolation="chaos")


def test_bare_decorator_called_decorator_and_callable_object(table, rows):
    @transaction.atomic
    def bare(i):
        insert(table, i)
        return i

    @transaction.atomic()
    def called(i):
        insert(table, i)
        raise Boom()

    class Job:
        def __call__(self, i):
            insert(table, i)
            return "done"

    assert bare(1) == 1
    assert bare.__name__ == "bare"
    with pytest.raises(Boom):
        called(2)
    job = transaction.atomic(Job())
    assert job(3) == "done"
    assert rows(table) == [(1, "x"), (3, "x")]


def test_one_instance_reused_and_nested_in_itself(table, rows):
    block = transaction.atomic()
    with block:
        insert(table, 1)
        with block:
            insert(table, 2)
        try:
            with block:
                insert(table, 3)
                raise Boom()
        except Boom:
            pass
    with block:
        insert(table, 4)

    @block
    def again():
        insert(table, 5)
        with block:
            insert(table, 6)
    again()
    assert rows(table) == [(1, "x"), (2, "x"), (4, "x"), (5, "x"), (6, "x")]


def test_using_alias_and_connection_methods(table, rows):
    pgatomic.configure(default=None, other=None)
    other = pgatomic.connections["other"]
    assert other is not pgatomic.connections["default"]
    assert other is pgatomic.connections["other"]
    with transaction.atomic(using="other"):
        other.execute(f"INSERT INTO {table} VALUES (1, 'other')")
        assert pgatomic.connections["other"].in_atomic_block
        assert not pgatomic.connection.in_atomic_block
    with pytest.raises(KeyError):
        pgatomic.connections["nope"]
    c = pgatomic.connections["default"]
    with c.atomic():
        c.execute(f"INSERT INTO {table} VALUES (2, 'method')")
    assert rows(table) == [(1, "other"), (2, "method")]


def test_close_inside_block_then_alias_reopens(table, rows):
    conn = pgatomic.connection
    with transaction.atomic():
        insert(table, 1)
        conn.close()
        with pytest.raises(pgatomic.Error):
            insert(table, 2)
        assert conn.closed
    assert rows(table) == []                 # never committed
    insert(table, 3)                         # reopened outside any block
    assert not conn.closed
    assert rows(table) == [(3, "x")]


def test_connection_context_manager_closes(table):
    with pgatomic.connect() as c:
        assert not c.closed
        c.execute("SELECT 1")
    assert c.closed
    with pytest.raises(pgatomic.InterfaceError) as info:
        c.execute("SELECT 1")
    assert str(info.value) == "the connection is closed"
    c.connect()
    assert c.execute("SELECT 41 + 1").scalar() == 42
    c.close()


def test_properties_and_repr_hide_password():
    c = pgatomic.connection
    assert c.autocommit is True and c.in_atomic_block is False
    assert c.needs_rollback is False and c.savepoint_ids == ()
    with transaction.atomic():
        with transaction.atomic():
            with transaction.atomic(savepoint=False):
                ids = c.savepoint_ids
    assert len(ids) == 2 and ids[0] and ids[1] is None
    for attr in ("closed", "in_atomic_block", "needs_rollback", "savepoint_ids",
                 "autocommit"):
        with pytest.raises(AttributeError):
            setattr(c, attr, True)
    assert "password" not in repr(c)


def test_wrong_password_message_never_shows_it():
    secret = "s3cr3t-Pa55"
    with pytest.raises(pgatomic.OperationalError) as info:
        pgatomic.connect(f"host=/nonexistent/dir port=1 user=x password={secret}")
    assert secret not in str(info.value)


def test_raw_begin_then_failing_block_keeps_earlier_work(conn, table, rows):
    """A BEGIN sent as SQL outside any block opens the caller's transaction;
    a block entered then is a savepoint of it (psycopg's choice), so its
    failure never rolls back the work done before it."""
    conn.execute("BEGIN")
    conn.execute(f"INSERT INTO {table} VALUES (1, 'before')")
    with pytest.raises(ZeroDivisionError):
        with conn.atomic():
            conn.execute(f"INSERT INTO {table} VALUES (2, 'failed')")
            1 / 0
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (3, 'released')")
    assert conn.transaction_status == "T"
    assert rows(table) == []                     # nothing committed yet
    conn.execute("COMMIT")
    assert rows(table) == [(1, "before"), (3, "released")]
    with pytest.raises(ZeroDivisionError):       # a transaction of its own again
        with conn.atomic():
            conn.execute(f"INSERT INTO {table} VALUES (4, 'x')")
            1 / 0
    assert rows(table) == [(1, "before"), (3, "released")]
    assert conn.transaction_status == "I"
