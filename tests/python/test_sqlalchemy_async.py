"""SQLAlchemy's asyncio extension on postgresql+pgatomic_async: the dialect
found by its URL, AsyncSession blocks and savepoints, an honest COMMIT, and
the round trips of the synchronous dialect.  SQLAlchemy's compliance suite
runs on it in scripts/suite-sqlalchemy.sh."""

import importlib.metadata
import os

import pytest

import pgatomic

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import URL, Column, Integer, MetaData, String, Table, insert, select, text  # noqa: E402
from sqlalchemy import exc as sa_exc  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402


def _url(**extra):
    env = os.environ
    query = {"host": env["PGHOST"], "port": env.get("PGPORT", "5432")}
    query.update(extra)
    return URL.create("postgresql+pgatomic_async", username=env.get("PGUSER"),
                      database=env.get("PGDATABASE"), query=query)


def _items(table):
    return Table(table, MetaData(), Column("id", Integer, primary_key=True), Column("v", String))


def test_async_dialect_is_registered_by_its_entry_point():
    names = [ep.name for ep in importlib.metadata.entry_points(group="sqlalchemy.dialects")]
    assert "postgresql.pgatomic_async" in names


async def test_async_engine_accepts_busy_poll_us_in_the_url():
    # The sync engine's URL works here too; the event loop does not busy-poll.
    engine = create_async_engine(_url(busy_poll_us="90"))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            raw = await conn.get_raw_connection()
            assert raw.driver_connection._c.busy_poll_us == 90
    finally:
        await engine.dispose()


async def test_async_session_commits_rolls_back_and_nests(table, rows):
    engine = create_async_engine(_url())
    items = _items(table)
    try:
        async with AsyncSession(engine) as s:
            async with s.begin():
                await s.execute(insert(items).values(id=1, v="a"))
                try:
                    async with s.begin_nested():
                        await s.execute(insert(items).values(id=1, v="dup"))
                except sa_exc.IntegrityError:
                    pass
                await s.execute(insert(items).values(id=2, v="b"))
            async with s.begin():
                await s.execute(insert(items).values(id=3, v="never"))
                await s.rollback()
            got = (await s.execute(select(items.c.id).order_by(items.c.id))).scalars().all()
        assert got == [1, 2]
        assert rows(table) == [(1, "a"), (2, "b")]
        assert engine.dialect.driver == "pgatomic_async"
    finally:
        await engine.dispose()


async def test_async_session_commit_answered_with_rollback_raises(table, rows):
    engine = create_async_engine(_url())
    items = _items(table)
    try:
        async with AsyncSession(engine) as s:
            await s.execute(insert(items).values(id=1, v="a"))
            with pytest.raises(sa_exc.DBAPIError):
                await s.execute(text("SELECT 1/0"))
            with pytest.raises(sa_exc.InternalError) as info:
                await s.commit()
        assert isinstance(info.value.orig, pgatomic.InternalError)
        assert rows(table) == []
    finally:
        await engine.dispose()


async def test_async_transfer_costs_one_round_trip_per_statement_plus_commit(table):
    engine = create_async_engine(_url(), pool_size=1)
    items = _items(table)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(items), [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            session = raw.driver_connection
            before = session.round_trips
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE {table} SET v = v || '-' WHERE id = 1"))
            await conn.execute(text(f"UPDATE {table} SET v = v || '+' WHERE id = 2"))
        assert session.round_trips - before == 3       # BEGIN+UPDATE, UPDATE, COMMIT
    finally:
        await engine.dispose()
