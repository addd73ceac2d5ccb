"""The asyncio twin of ``pgatomic.dbapi`` (psycopg's ``AsyncConnection``
and ``AsyncCursor`` shape), re-exported there::

    from pgatomic import dbapi
    conn = await dbapi.connect_async("postgresql:///app")
    cur = conn.cursor()
    await cur.execute("INSERT INTO t (a) VALUES (%s)", (1,))
    await conn.commit()

Everything but the waiting is the synchronous driver's: the session is a
``pgatomic.dbapi.Connection`` (autocommit off, the SQL control mode on, the
next transaction's options), and the cursor is its C cursor, whose
placeholder rewriting, description and fetching run as they are; only the
statement itself runs on the event loop, through pgatomic's asyncio driver.
What needs the server is a coroutine (execute, executemany, commit,
rollback, close, set_autocommit, set_isolation_level, set_read_only,
set_deferrable); fetching is too, as psycopg's, though the rows are already
here.  SQLAlchemy's ``postgresql+pgatomic_async`` stands on it.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterable, List, Optional, Tuple

from . import _aio
from ._aio import _run


class AsyncCursor:
    """A PEP 249 cursor whose statements run on the event loop."""

    __module__ = "pgatomic.dbapi"
    __slots__ = ("_conn", "_cur")

    def __init__(self, connection: "AsyncConnection") -> None:
        from .dbapi import Cursor
        self._conn = connection
        self._cur = Cursor(connection._c)

    async def execute(self, query: str, params: Any = None) -> "AsyncCursor":
        """Run one statement (psycopg's placeholders, or $n); returns the
        cursor.  Without params the text goes as written (a script of
        several statements included, walked with nextset())."""
        sql, values = self._cur._prepare(query, params)
        conn = self._conn
        c = conn._c
        self._cur._adopt(await _run(conn, c, c._execute_start, sql, values))
        return self

    async def executemany(self, query: str, params_seq: Iterable[Any]) -> None:
        """The statement once per item, in one round trip inside a
        transaction; rowcount is the rows affected in all."""
        sql, items = self._cur._prepare_many(query, params_seq)
        conn = self._conn
        c = conn._c
        self._cur._adopt_rowcount(await _run(conn, c, c._executemany_start, sql, items))

    async def fetchone(self) -> Optional[Tuple[Any, ...]]:
        return self._cur.fetchone()

    async def fetchmany(self, size: Optional[int] = None) -> List[Tuple[Any, ...]]:
        return self._cur.fetchmany(size) if size is not None else self._cur.fetchmany()

    async def fetchall(self) -> List[Tuple[Any, ...]]:
        return self._cur.fetchall()

    async def nextset(self) -> Optional[bool]:
        return self._cur.nextset()

    async def close(self) -> None:
        self._cur.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        """Does nothing: parameters carry their own types."""

    def setoutputsize(self, *args: Any) -> None:
        """Does nothing: every value is fetched whole."""

    async def __aenter__(self) -> "AsyncCursor":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._cur.close()

    def __aiter__(self) -> AsyncIterator[Tuple[Any, ...]]:
        return self

    async def __anext__(self) -> Tuple[Any, ...]:
        row = self._cur.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    description = property(lambda self: self._cur.description)
    rowcount = property(lambda self: self._cur.rowcount)
    rownumber = property(lambda self: self._cur.rownumber)
    statusmessage = property(lambda self: self._cur.statusmessage)
    lastrowid = property(lambda self: None)
    closed = property(lambda self: self._cur.closed)
    connection = property(lambda self: self._conn)

    @property
    def arraysize(self) -> int:
        return self._cur.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cur.arraysize = value


def _read_only_on_async(name: str) -> property:
    def get(self: "AsyncConnection") -> Any:
        return getattr(self._c, name)

    def set_(self: "AsyncConnection", value: Any) -> None:
        # psycopg's rule: on an async connection these change through a
        # coroutine (the core sends nothing, but a coroutine keeps the API
        # one with psycopg's).
        raise AttributeError(f"{name!r} is read-only on an async connection: "
                             f"use 'await conn.set_{name}(...)'")
    return property(get, set_)


class AsyncConnection(_aio.AsyncConnection):
    """A PEP 249 connection for asyncio: ``cursor()``, ``await commit()``,
    ``await rollback()``, ``await close()``; autocommit off when new."""

    __module__ = "pgatomic.dbapi"
    __slots__ = ()

    def cursor(self, name: Optional[str] = None, *, scrollable: Optional[bool] = None,
               withhold: bool = False) -> Any:
        """A new cursor on this connection; with a name, a server-side cursor
        (psycopg's ``AsyncServerCursor``)."""
        if name:
            from ._server_cursor import AsyncServerCursor
            return AsyncServerCursor(self, name, scrollable=scrollable, withhold=withhold)
        return AsyncCursor(self)

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:
            self._mark_txn_end()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._mark_txn_end()

    def _mark_txn_end(self) -> None:
        # Named cursors without hold die with the transaction (dbapi.Connection._txn_mark).
        c = self._c
        if c is not None:
            c._txn_mark += 1

    async def execute(self, query: str, params: Any = None) -> AsyncCursor:  # type: ignore[override]
        """psycopg's shortcut: a new cursor, executed; returns the cursor."""
        return await AsyncCursor(self).execute(query, params)

    autocommit = _read_only_on_async("autocommit")
    isolation_level = _read_only_on_async("isolation_level")
    read_only = _read_only_on_async("read_only")
    deferrable = _read_only_on_async("deferrable")

    async def set_isolation_level(self, value: Any) -> None:
        self._c.isolation_level = value

    async def set_read_only(self, value: Optional[bool]) -> None:
        self._c.read_only = value

    async def set_deferrable(self, value: Optional[bool]) -> None:
        self._c.deferrable = value

    @property
    def info(self) -> Any:
        """psycopg's ``connection.info``: what the server reported, read
        from libpq without a round trip."""
        from .dbapi import ConnectionInfo
        return ConnectionInfo(self._c)

    @property
    def json_loads(self) -> Any:
        return self._c.json_loads

    @json_loads.setter
    def json_loads(self, value: Any) -> None:
        self._c.json_loads = value

    def savepoint(self, name: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        """A deferred savepoint called ``name`` (or one the core names)."""
        return self._c.savepoint(name)

    def release_savepoint(self, name: str) -> None:
        self._c.release_savepoint(name)

    def rollback_to_savepoint(self, name: str) -> None:
        self._c.rollback_to_savepoint(name)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:  # type: ignore[override]
        """psycopg's: commit on success, roll back on an exception (a failed
        rollback is logged, never hides the exception), then close."""
        if self.closed:
            return
        if exc_type is None:
            await self.commit()
        else:
            try:
                await self.rollback()
            except Exception as e:
                _aio.logger.warning("error ignored in rollback on %r: %s", self, e)
        await self.close()


async def connect_async(dsn: Optional[str] = None, *, autocommit: bool = False,
                        busy_poll_us: Optional[int] = None, **kwargs: Any) -> AsyncConnection:
    """``pgatomic.dbapi.connect()`` without blocking the event loop: the
    same connection string and keywords.  ``busy_poll_us`` is checked and
    kept but changes nothing here: the event loop waits for the socket,
    never the blocking driver that polls (docs/python-asyncio.md)."""
    from .dbapi import Connection, make_conninfo
    conninfo = make_conninfo(dsn, **kwargs) or None
    conn = AsyncConnection(Connection(conninfo, autocommit=autocommit,
                                      busy_poll_us=busy_poll_us, _connect=False))
    await conn.connect(conninfo)
    return conn
