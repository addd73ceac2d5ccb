"""The asyncio twin of pgatomic.dbapi (connect_async, AsyncConnection,
AsyncCursor): test_dbapi.py's rules where they differ only in the waiting."""

import os

import pytest

import pgatomic
from pgatomic import dbapi


async def connect(**kwargs):
    return await dbapi.connect_async(os.environ.get("DATABASE_URL"), **kwargs)


# -- the DB-API ---------------------------------------------------------------------

async def test_connect_async_starts_outside_autocommit_and_executes():
    conn = await connect()
    try:
        assert isinstance(conn, dbapi.AsyncConnection) and conn.autocommit is False
        assert conn.info.server_version >= 100000
        assert conn.info.parameter_status("client_encoding") == "UTF8"
        cur = conn.cursor()
        assert await cur.execute("SELECT %s::int + %s AS n", (40, 2)) is cur
        assert [d.name for d in cur.description] == ["n"]
        assert cur.rowcount == 1 and await cur.fetchone() == (42,)
        assert await cur.fetchone() is None
        await cur.execute("SELECT %(a)s::text, %(a)s::text || %(b)s", {"a": "x", "b": "y"})
        assert await cur.fetchall() == [("x", "xy")]
        rows = [r async for r in await conn.execute("SELECT generate_series(1, 3)")]
        assert rows == [(1,), (2,), (3,)]
        await conn.rollback()
    finally:
        await conn.close()


async def test_async_implicit_begin_rides_with_the_first_statement(table, rows):
    conn = await connect()
    try:
        before = conn.round_trips
        cur = conn.cursor()
        await cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "a"))
        await cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)",
                              [(2, "b"), (3, "c"), (4, "d")])
        assert cur.rowcount == 3
        assert rows(table) == []                      # not committed yet
        await conn.commit()
        assert conn.round_trips - before == 3         # BEGIN+INSERT, the batch, COMMIT
        assert [r[0] for r in rows(table)] == [1, 2, 3, 4]
    finally:
        await conn.close()


async def test_async_commit_answered_with_rollback_raises(table, rows):
    conn = await connect()
    try:
        cur = conn.cursor()
        await cur.execute(f"INSERT INTO {table} VALUES (%s, 'a')", (1,))
        with pytest.raises(pgatomic.DataError):
            await cur.execute("SELECT 1/0")
        with pytest.raises(pgatomic.InternalError, match="ROLLBACK"):
            await conn.commit()
        assert rows(table) == []
    finally:
        await conn.close()


async def test_async_context_manager_commits_or_rolls_back(table, rows):
    async with await connect() as conn:
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
    assert conn.closed and rows(table) == [(1, "kept")]
    with pytest.raises(KeyError):
        async with await connect() as conn:
            await conn.execute(f"INSERT INTO {table} VALUES (2, 'gone')")
            raise KeyError("x")
    assert rows(table) == [(1, "kept")]


async def test_async_options_change_through_coroutines():
    conn = await connect(autocommit=True)
    try:
        assert conn.autocommit is True
        with pytest.raises(AttributeError, match="set_autocommit"):
            conn.autocommit = False
        await conn.set_autocommit(False)
        await conn.set_isolation_level("SERIALIZABLE")
        await conn.set_read_only(True)
        assert (conn.autocommit, conn.isolation_level, conn.read_only) == (
            False, "SERIALIZABLE", True)
        cur = await conn.execute("SHOW transaction_isolation")
        assert await cur.fetchone() == ("serializable",)
        await conn.rollback()
    finally:
        await conn.close()


async def test_async_named_savepoints_without_sql(table, rows):
    conn = await connect()
    try:
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        assert conn.savepoint("sp") == "sp"
        await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
        conn.rollback_to_savepoint("sp")
        conn.release_savepoint("sp")
        await conn.commit()
        assert rows(table) == [(1, "a")]
    finally:
        await conn.close()
