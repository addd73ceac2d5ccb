"""API.md 1.2, one test per rule: atomic blocks, nesting, savepoint=False,
durable, broken blocks, forbidden calls, raw COMMIT, transaction options.
Each asserts the rows left in the table and the exact exception.  The
tests taking ``api`` run twice: with the blocking API and with asyncio
(tests/python/flavours.py)."""

import pytest

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import TransactionManagementError

BROKEN = ("An error occurred in the current transaction. You can't execute "
          "queries until the end of the 'atomic' block.")
FORBIDDEN = "This is forbidden when an 'atomic' block is active."
DURABLE = "A durable atomic block cannot be nested within another atomic block."


async def insert(api, table, id, v="x", using=None):
    await api.execute(f"INSERT INTO {table} VALUES ($1, $2)", [id, v], using=using)


class Boom(Exception):
    pass


async def test_outermost_block_commits_on_normal_exit(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        await insert(api, table, 2)
        assert rows(table) == []            # not visible before COMMIT
    assert rows(table) == [(1, "x"), (2, "x")]


async def test_outermost_block_rolls_back_and_propagates_the_exception(api, table, rows):
    err = Boom("fail")
    with pytest.raises(Boom) as info:
        async with api.atomic():
            await insert(api, table, 1)
            raise err
    assert info.value is err
    assert rows(table) == []
    assert not api.connection.in_atomic_block


async def test_nested_success_releases_savepoint(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        async with api.atomic():
            await insert(api, table, 2)
            assert len(api.connection.savepoint_ids) == 1
        await insert(api, table, 3)
    assert rows(table) == [(1, "x"), (2, "x"), (3, "x")]


async def test_nested_failure_rolls_back_to_savepoint(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        try:
            async with api.atomic():
                await insert(api, table, 2)
                raise Boom()
        except Boom:
            pass
        assert not api.connection.needs_rollback
        await insert(api, table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


async def test_nested_database_error_rolls_back_to_savepoint_and_outer_carries_on(
        api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        with pytest.raises(pgatomic.IntegrityError) as info:
            async with api.atomic():
                await insert(api, table, 1)
        assert type(info.value) is pgatomic.UniqueViolation
        await insert(api, table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]


async def test_savepoint_false_marks_enclosing_block_for_rollback(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        try:
            async with api.atomic(savepoint=False):
                await insert(api, table, 2)
                raise Boom()
        except Boom:
            pass
        assert api.connection.needs_rollback
        assert transaction.get_rollback() is True
        with pytest.raises(TransactionManagementError) as info:
            await insert(api, table, 3)
        assert str(info.value) == BROKEN
    assert rows(table) == []


async def test_savepoint_false_rolls_back_to_the_nearest_savepoint(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        async with api.atomic():                     # savepoint; leaving it raises nothing
            await insert(api, table, 2)
            try:
                async with api.atomic(savepoint=False):
                    await insert(api, table, 3)
                    raise Boom()
            except Boom:
                pass
        await insert(api, table, 4)
    assert rows(table) == [(1, "x"), (4, "x")]


async def test_savepoint_false_success_is_part_of_the_enclosing_block(api, table, rows):
    async with api.atomic():
        async with api.atomic(savepoint=False):
            await insert(api, table, 1)
            assert api.connection.savepoint_ids == (None,)
    assert rows(table) == [(1, "x")]


async def test_durable_nested_raises_runtime_error_verbatim(api, table, rows):
    async with api.atomic():
        await insert(api, table, 1)
        with pytest.raises(RuntimeError) as info:
            async with api.atomic(durable=True):
                await insert(api, table, 2)
        assert type(info.value) is RuntimeError
        assert str(info.value) == DURABLE
        assert api.connection.atomic_depth == 1   # stack unchanged
        await insert(api, table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


async def test_durable_outermost_commits(api, table, rows):
    async with api.atomic(durable=True):
        await insert(api, table, 1)
    assert rows(table) == [(1, "x")]


async def test_database_error_breaks_block_until_it_exits(api, table, rows):
    with pytest.raises(TransactionManagementError) as info:
        async with api.atomic():
            await insert(api, table, 1)
            try:
                await insert(api, table, 1)
            except pgatomic.IntegrityError as e:
                original = e
            await insert(api, table, 2)
    assert str(info.value) == BROKEN
    assert info.value.__cause__ is original
    assert type(original) is pgatomic.UniqueViolation
    assert rows(table) == []
    # The connection works again afterwards.
    await insert(api, table, 5)
    assert rows(table) == [(5, "x")]


async def test_broken_block_sends_nothing_further(api, table, rows):
    conn = api.connection
    with pytest.raises(TransactionManagementError):
        async with api.atomic():
            with pytest.raises(pgatomic.ProgrammingError):
                await api.execute("SELECT * FROM no_such_table_at_all")
            before = conn.round_trips
            with pytest.raises(TransactionManagementError):
                await api.execute("SELECT 1")
            assert conn.round_trips == before
            raise TransactionManagementError(BROKEN)
    assert rows(table) == []


@pytest.mark.parametrize("call", ["commit", "rollback", "autocommit off", "autocommit on"])
async def test_commit_rollback_set_autocommit_forbidden_in_block(api, table, rows, call):
    async with api.atomic():
        await insert(api, table, 1)
        with pytest.raises(TransactionManagementError) as info:
            if call == "commit":
                await api.commit()
            elif call == "rollback":
                await api.rollback()
            else:
                await api.set_autocommit(call == "autocommit on")
        assert str(info.value) == FORBIDDEN
        await insert(api, table, 2)
    assert rows(table) == [(1, "x"), (2, "x")]
    assert transaction.get_autocommit() is True


@pytest.mark.parametrize("sql", ["COMMIT", "ROLLBACK"])
async def test_raw_commit_or_rollback_in_block_is_detected(api, table, rows, sql):
    conn = api.connection
    with pytest.raises(TransactionManagementError):
        async with api.atomic():
            await insert(api, table, 1)
            with pytest.raises(TransactionManagementError):
                await api.execute(sql)
            assert conn.needs_rollback
            with pytest.raises(TransactionManagementError) as info:
                await insert(api, table, 2)
            assert str(info.value) == BROKEN
            raise TransactionManagementError("leave")
    assert not conn.in_atomic_block
    # Whatever the raw statement did, the block's own state is consistent
    # and the connection usable: a new block commits normally.
    async with api.atomic():
        await insert(api, table, 3)
    got = [r[0] for r in rows(table)]
    assert 2 not in got and 3 in got
    assert got == ([1, 3] if sql == "COMMIT" else [3])


async def test_isolation_read_only_deferrable_on_outermost_block(api, table):
    async def show(name):
        return (await api.execute(f"SHOW {name}")).scalar()

    async with api.atomic(isolation="serializable", read_only=True, deferrable=True):
        assert await show("transaction_isolation") == "serializable"
        assert await show("transaction_read_only") == "on"
        assert await show("transaction_deferrable") == "on"
        with pytest.raises(pgatomic.InternalError):     # 25006 read-only
            await insert(api, table, 1)
    async with api.atomic(isolation=pgatomic.Isolation.REPEATABLE_READ):
        assert await show("transaction_isolation") == "repeatable read"
    async with api.atomic(isolation=pgatomic.Isolation.READ_COMMITTED, read_only=False):
        assert await show("transaction_isolation") == "read committed"
        await insert(api, table, 2)


@pytest.mark.parametrize("options", [
    {"isolation": "serializable"}, {"read_only": True}, {"deferrable": True},
])
async def test_transaction_options_on_nested_block_raise(api, table, rows, options):
    async with api.atomic():
        await insert(api, table, 1)
        with pytest.raises(TransactionManagementError):
            async with api.atomic(**options):
                await insert(api, table, 2)
        await insert(api, table, 3)
    assert rows(table) == [(1, "x"), (3, "x")]


def test_bad_isolation_name_raises_value_error():
    with pytest.raises(ValueError):
        transaction.atomic(isolation="chaos")


async def test_bare_decorator_called_decorator_and_callable_object(api, table, rows):
    @api.atomic
    async def bare(i):
        await insert(api, table, i)
        return i

    @api.atomic()
    async def called(i):
        await insert(api, table, i)
        raise Boom()

    class Job:
        async def __call__(self, i):
            await insert(api, table, i)
            return "done"

    assert await bare(1) == 1
    assert bare.__name__ == "bare"
    with pytest.raises(Boom):
        await called(2)
    job = api.atomic(Job())
    assert await job(3) == "done"
    assert rows(table) == [(1, "x"), (3, "x")]


async def test_one_instance_reused_and_nested_in_itself(api, table, rows):
    block = api.atomic()
    async with block:
        await insert(api, table, 1)
        async with block:
            await insert(api, table, 2)
        try:
            async with block:
                await insert(api, table, 3)
                raise Boom()
        except Boom:
            pass
    async with block:
        await insert(api, table, 4)

    @block
    async def again():
        await insert(api, table, 5)
        async with block:
            await insert(api, table, 6)
    await again()
    assert rows(table) == [(1, "x"), (2, "x"), (4, "x"), (5, "x"), (6, "x")]


async def test_using_alias_and_connection_methods(api, table, rows):
    pgatomic.configure(default=None, other=None)
    other = api.connections("other")
    assert other is not api.connections("default")
    assert other is api.connections("other")
    async with api.atomic(using="other"):
        await api.execute(f"INSERT INTO {table} VALUES (1, 'other')", using=other)
        assert api.connections("other").in_atomic_block
        assert not api.connection.in_atomic_block
    with pytest.raises(KeyError):
        api.connections("nope")
    c = api.connections("default")
    async with api.atomic(using=c):
        await api.execute(f"INSERT INTO {table} VALUES (2, 'method')", using=c)
    assert rows(table) == [(1, "other"), (2, "method")]


async def test_close_inside_block_then_alias_reopens(api, table, rows):
    conn = api.connection
    async with api.atomic():
        await insert(api, table, 1)
        await api.close()
        with pytest.raises(pgatomic.Error):
            await insert(api, table, 2)
        assert conn.closed
    assert rows(table) == []                 # never committed
    await insert(api, table, 3)              # reopened outside any block
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


async def test_async_connection_context_manager_closes(table):
    async with await pgatomic.connect_async() as c:
        assert not c.closed
        await c.execute("SELECT 1")
    assert c.closed
    with pytest.raises(pgatomic.InterfaceError) as info:
        await c.execute("SELECT 1")
    assert str(info.value) == "the connection is closed"
    await c.connect()
    assert (await c.execute("SELECT 41 + 1")).scalar() == 42
    await c.close()


async def test_properties_and_repr_hide_password(api):
    c = api.connection
    assert c.autocommit is True and c.in_atomic_block is False
    assert c.needs_rollback is False and c.savepoint_ids == ()
    async with api.atomic():
        async with api.atomic():
            async with api.atomic(savepoint=False):
                ids = c.savepoint_ids
    assert len(ids) == 2 and ids[0] and ids[1] is None
    for attr in ("closed", "in_atomic_block", "needs_rollback", "savepoint_ids",
                 "autocommit"):
        with pytest.raises(AttributeError):
            setattr(api.connections("default"), attr, True)
    assert "password" not in repr(c)


def test_wrong_password_message_never_shows_it():
    secret = "s3cr3t-Pa55"
    with pytest.raises(pgatomic.OperationalError) as info:
        pgatomic.connect(f"host=/nonexistent/dir port=1 user=x password={secret}")
    assert secret not in str(info.value)


async def test_wrong_password_message_never_shows_it_async():
    secret = "s3cr3t-Pa55"
    with pytest.raises(pgatomic.OperationalError) as info:
        await pgatomic.connect_async(f"host=/nonexistent/dir port=1 user=x password={secret}")
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


def test_durable_block_inside_raw_begin_is_refused(conn, table, rows):
    """Inside a transaction begun as SQL a block is a savepoint, so a durable
    one could not commit when it exits: refused, as inside a block."""
    conn.execute("BEGIN")
    conn.execute(f"INSERT INTO {table} VALUES (1, 'before')")
    with pytest.raises(RuntimeError) as info:
        with conn.atomic(durable=True):
            conn.execute(f"INSERT INTO {table} VALUES (2, 'never')")
    assert "durable" in str(info.value) and "BEGIN" in str(info.value)
    assert not conn.in_atomic_block
    conn.execute("COMMIT")
    assert rows(table) == [(1, "before")]
    with conn.atomic(durable=True):                  # its own transaction again
        conn.execute(f"INSERT INTO {table} VALUES (3, 'durable')")
    assert rows(table) == [(1, "before"), (3, "durable")]
