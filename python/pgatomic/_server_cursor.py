"""Server-side (named) cursors of ``pgatomic.dbapi``, as psycopg has them:
``conn.cursor("name")`` declares a cursor on the server (``DECLARE name
CURSOR FOR query``) and every fetch asks it for that many rows (``FETCH
FORWARD n``), so a result larger than memory can be read in pieces; closing
it sends ``CLOSE name``.  Nothing else is streamed: each FETCH answer is an
ordinary result of n rows, so memory is bounded by the fetch size.

What psycopg users can rely on, and the choices made where psycopg is
unclear (docs/sqlalchemy.md, "Server-side cursors"):

- ``execute()`` sends the DECLARE alone (1 round trip; in manual mode the
  transaction's BEGIN rides with it).  A DECLARE without ``withhold`` outside
  a transaction (autocommit) is refused by the server, as with psycopg:
  "DECLARE CURSOR can only be used in transaction blocks".
- ``fetchone()`` is ``FETCH FORWARD 1``, ``fetchmany(n)`` ``FETCH FORWARD
  n``, ``fetchall()`` ``FETCH FORWARD ALL``; iteration fetches ``itersize``
  rows at a time (100, psycopg's default).  Rows already fetched by
  iteration are handed out first by the fetch methods (psycopg would skip
  them).
- ``description`` is known after the first fetch.  The blocking cursor
  asked for it earlier sends ``FETCH FORWARD 0`` once (no row moves);
  psycopg spends that round trip (a Describe) on every execute.  The
  asyncio cursor's ``description`` cannot wait, so its ``execute()`` does
  that describe at once (2 round trips, as psycopg's).
- ``rowcount`` is the number of rows fetched so far (-1 before any),
  ``rownumber`` the index of the next row.
- A cursor without ``withhold`` dies with its transaction.  Once the
  connection's ``commit()`` or ``rollback()`` has run, fetching from it raises
  ``InvalidCursorName`` without sending anything (psycopg sends the FETCH and
  the server raises the same class; sending it would abort the next
  transaction), and ``close()`` sends nothing.
- ``close()`` sends ``CLOSE`` only when the server may still hold the
  cursor: never in a failed transaction, never for a cursor without
  ``withhold`` outside a transaction (psycopg's rules).
- ``executemany()`` raises NotSupportedError, as psycopg's.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from . import _pgatomic
from ._connections import Connection as _AtomicConnection
from ._dbapi_aio import AsyncCursor
from ._pipeline import PipelinedResult
from .errors import InterfaceError, InvalidCursorName, NotSupportedError

Row = Tuple[Any, ...]

# psycopg's DEFAULT_ITERSIZE.
DEFAULT_ITERSIZE = 100

_Cursor = _pgatomic.Cursor


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _declare_prefix(name: str, scrollable: Optional[bool], withhold: bool) -> str:
    """psycopg's DECLARE: SCROLL / NO SCROLL only when asked (None leaves it
    to the server), WITH HOLD for withhold."""
    parts = ["DECLARE", _ident(name)]
    if scrollable is not None:
        parts.append("SCROLL" if scrollable else "NO SCROLL")
    parts.append("CURSOR")
    if withhold:
        parts.append("WITH HOLD")
    parts.append("FOR ")
    return " ".join(parts)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a server-side cursor needs a non-empty str name, not {name!r}")
    return name


def _txn_mark(conn: Any) -> int:
    return getattr(conn, "_txn_mark", 0)


class _State:
    """What both cursors (blocking and asyncio) keep between round trips:
    the cursor's options, whether it is declared on the server (and in which
    transaction), the rows of the current iteration page."""

    __slots__ = ("name", "scrollable", "withhold", "itersize", "declared", "mark",
                 "described", "pos", "fetched", "page", "page_pos", "exhausted")

    def __init__(self, name: str, scrollable: Optional[bool], withhold: bool) -> None:
        self.name = _check_name(name)
        self.scrollable = scrollable
        self.withhold = bool(withhold)
        self.itersize = DEFAULT_ITERSIZE
        self.declared = False
        self.mark = 0
        self.reset()

    def reset(self) -> None:
        self.described = False      # a FETCH answered since the DECLARE
        self.pos = 0                # rows handed out
        self.fetched = -1           # rows received (-1: none yet)
        self.page: List[Row] = []   # rows received and not handed out yet
        self.page_pos = 0
        self.exhausted = False      # iteration got a short page: no more rows

    # -- statements -------------------------------------------------------------
    def declare(self, sql: str) -> str:
        return _declare_prefix(self.name, self.scrollable, self.withhold) + sql

    def fetch_sql(self, n: Optional[int]) -> str:
        return f"FETCH FORWARD {'ALL' if n is None else int(n)} FROM {_ident(self.name)}"

    def close_sql(self) -> str:
        return f"CLOSE {_ident(self.name)}"

    def move_sql(self, value: int, mode: str) -> str:
        if mode not in ("relative", "absolute"):
            raise ValueError(f"bad mode: {mode}. It should be 'relative' or 'absolute'")
        if mode == "relative":
            # The server is ahead of us by the rows of the page not handed out.
            value -= len(self.page) - self.page_pos
        self.page, self.page_pos, self.exhausted = [], 0, False
        return f"MOVE{' ABSOLUTE' if mode == 'absolute' else ''} {int(value)} FROM {_ident(self.name)}"

    # -- the rules --------------------------------------------------------------
    def check_alive(self, conn: Any) -> None:
        """Before a FETCH or MOVE: the cursor must still exist."""
        if not self.declared:
            raise InterfaceError(f"the cursor {self.name!r} has not been executed yet")
        if not self.withhold and _txn_mark(conn) != self.mark:
            raise InvalidCursorName(
                f'cursor "{self.name}" does not exist: it ended with its transaction '
                "(declare it with withhold=True to keep it after commit)")

    def wants_close(self, conn: Any) -> bool:
        """Whether CLOSE should be sent: psycopg's rules, plus the
        transaction a cursor without hold was declared in must be current."""
        if not self.declared or conn.closed:
            return False
        status = conn.transaction_status
        if status not in ("I", "T"):
            return False
        if not self.withhold:
            return status == "T" and _txn_mark(conn) == self.mark
        return True

    def declared_in(self, conn: Any) -> None:
        self.declared = True
        self.mark = _txn_mark(conn)

    # -- the rows ---------------------------------------------------------------
    def from_page(self, n: Optional[int]) -> List[Row]:
        """Up to n rows (None: all) of the page, handed out."""
        if self.page_pos >= len(self.page):
            return []
        end = len(self.page) if n is None else min(len(self.page), self.page_pos + n)
        rows = self.page[self.page_pos:end]
        self.page_pos = end
        if self.page_pos >= len(self.page):
            self.page, self.page_pos = [], 0
        self.pos += len(rows)
        return rows

    def received(self, n: Optional[int], rows: List[Row]) -> None:
        self.described = True
        if n != 0:                  # FETCH FORWARD 0 only describes
            self.fetched = max(self.fetched, 0) + len(rows)

    def handed(self, rows: List[Row]) -> List[Row]:
        self.pos += len(rows)
        return rows

    def next_page(self, rows: List[Row]) -> None:
        """Iteration's page of itersize rows arrived (psycopg fetches the
        next page only after a full one)."""
        self.page, self.page_pos = rows, 0
        self.exhausted = len(rows) < self.itersize


def _fetchmany_size(cursor: Any, size: Optional[int]) -> int:
    if size is None or size == 0:      # psycopg: 0 means arraysize too
        return cursor.arraysize
    if size < 0:
        raise ValueError("fetchmany() size must not be negative")
    return size


class ServerCursor(_Cursor):
    """A named cursor, ``conn.cursor(name, scrollable=None, withhold=False)``
    (psycopg's ``ServerCursor``): the query is declared on the server and
    read ``FETCH FORWARD n`` at a time."""

    __module__ = "pgatomic.dbapi"

    def __new__(cls, connection: Any, name: str, *, scrollable: Optional[bool] = None,
                withhold: bool = False) -> "ServerCursor":
        return super().__new__(cls, connection)

    def __init__(self, connection: Any, name: str, *, scrollable: Optional[bool] = None,
                 withhold: bool = False) -> None:
        super().__init__()
        self._ss = _State(name, scrollable, withhold)

    def __repr__(self) -> str:
        return f"<pgatomic.dbapi.ServerCursor {self._ss.name!r} at {id(self):#x}>"

    name = property(lambda self: self._ss.name, doc="The cursor's name on the server.")
    scrollable = property(lambda self: self._ss.scrollable,
                          doc="SCROLL (True), NO SCROLL (False) or the server's choice (None).")
    withhold = property(lambda self: self._ss.withhold,
                        doc="WITH HOLD: the cursor outlives the transaction's COMMIT.")

    @property
    def itersize(self) -> int:
        """Rows fetched per round trip while iterating (psycopg's 100)."""
        return self._ss.itersize

    @itersize.setter
    def itersize(self, value: int) -> None:
        if int(value) < 1:
            raise ValueError("itersize must be at least 1")
        self._ss.itersize = int(value)

    # -- one round trip ---------------------------------------------------------
    def _send(self, sql: str, values: Any = None) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        # The connection's own execute (hooks of a raw COMMIT included);
        # pgatomic.dbapi.Connection.execute returns a cursor instead.
        result = _AtomicConnection.execute(self.connection, sql, values)
        if isinstance(result, PipelinedResult):
            # In conn.pipeline(): a named cursor reads each answer at once.
            result = result._get()
        self._adopt(result)

    def _fetch(self, n: Optional[int]) -> List[Row]:
        ss = self._ss
        ss.check_alive(self.connection)
        self._send(ss.fetch_sql(n))
        rows = _Cursor.fetchall(self)
        ss.received(n, rows)
        return rows

    # -- PEP 249 ----------------------------------------------------------------
    def execute(self, query: Any, params: Any = None) -> "ServerCursor":  # type: ignore[override]
        """DECLARE the cursor for query (psycopg's placeholders, or $n); a
        cursor executed before is closed first."""
        if self.closed:
            raise InterfaceError("the cursor is closed")
        ss = self._ss
        if ss.declared:
            self._close_on_server()
        ss.reset()
        sql, values = self._prepare(query, params)
        self._send(ss.declare(sql), values)
        ss.declared_in(self.connection)
        return self

    def executemany(self, query: Any, params_seq: Any) -> None:  # type: ignore[override]
        raise NotSupportedError("executemany not supported on server-side cursors")

    def fetchone(self) -> Optional[Row]:  # type: ignore[override]
        rows = self._ss.from_page(1) or self._ss.handed(self._fetch(1))
        return rows[0] if rows else None

    def fetchmany(self, size: Optional[int] = None) -> List[Row]:  # type: ignore[override]
        size = _fetchmany_size(self, size)
        rows = self._ss.from_page(size)
        if len(rows) < size:
            rows += self._ss.handed(self._fetch(size - len(rows)))
        return rows

    def fetchall(self) -> List[Row]:  # type: ignore[override]
        rows = self._ss.from_page(None)
        return rows + self._ss.handed(self._fetch(None))

    def __iter__(self) -> "ServerCursor":
        return self

    def __next__(self) -> Row:
        ss = self._ss
        rows = ss.from_page(1)
        if not rows and not ss.exhausted:
            ss.next_page(self._fetch(ss.itersize))
            rows = ss.from_page(1)
        if not rows:
            raise StopIteration
        return rows[0]

    def nextset(self) -> None:  # type: ignore[override]
        return None

    def scroll(self, value: int, mode: str = "relative") -> None:
        """psycopg's: MOVE the cursor (relative to the next row, or to an
        absolute 0-based position); declare it scrollable=True to go back."""
        ss = self._ss
        ss.check_alive(self.connection)
        sql = ss.move_sql(value, mode)
        self._send(sql)
        ss.pos = ss.pos + value if mode == "relative" else value

    def close(self) -> None:  # type: ignore[override]
        """CLOSE the cursor on the server (when it may still be there), then
        close this object."""
        if self.closed:
            return
        try:
            self._close_on_server()
        finally:
            _Cursor.close(self)

    def __exit__(self, *exc: Any) -> None:  # type: ignore[override]
        self.close()

    def _close_on_server(self) -> None:
        ss = self._ss
        wants = ss.wants_close(self.connection)
        ss.declared = False
        ss.reset()
        if wants:
            self._send(ss.close_sql())

    @property
    def description(self) -> Any:  # type: ignore[override]
        ss = self._ss
        if ss.declared and not ss.described and not self.closed:
            # The first fetch tells; asked before it: FETCH FORWARD 0 moves
            # no row and answers with the columns.
            self._fetch(0)
        return _Cursor.description.__get__(self)

    @property
    def rowcount(self) -> int:  # type: ignore[override]
        return self._ss.fetched

    @property
    def rownumber(self) -> Optional[int]:  # type: ignore[override]
        return self._ss.pos if self._ss.declared else None


class AsyncServerCursor(AsyncCursor):
    """The asyncio twin (psycopg's ``AsyncServerCursor``):
    ``conn.cursor(name, scrollable=None, withhold=False)`` on a
    ``pgatomic.dbapi.AsyncConnection``; every method that reaches the server
    is a coroutine.  ``execute()`` also asks for the columns (``FETCH FORWARD
    0``), so ``description`` is there at once, as psycopg's."""

    __module__ = "pgatomic.dbapi"
    __slots__ = ("_ss",)

    def __init__(self, connection: Any, name: str, *, scrollable: Optional[bool] = None,
                 withhold: bool = False) -> None:
        super().__init__(connection)
        self._ss = _State(name, scrollable, withhold)

    def __repr__(self) -> str:
        return f"<pgatomic.dbapi.AsyncServerCursor {self._ss.name!r} at {id(self):#x}>"

    name = property(lambda self: self._ss.name)
    scrollable = property(lambda self: self._ss.scrollable)
    withhold = property(lambda self: self._ss.withhold)
    itersize = property(lambda self: self._ss.itersize, ServerCursor.itersize.fset)

    async def _send(self, sql: str, values: Any = None) -> None:
        from ._aio import _run
        if self._cur.closed:
            raise InterfaceError("the cursor is closed")
        conn = self._conn
        c = conn._c
        self._cur._adopt(await _run(conn, c, c._execute_start, sql, values))

    async def _fetch(self, n: Optional[int]) -> List[Row]:
        ss = self._ss
        ss.check_alive(self._conn._c)
        await self._send(ss.fetch_sql(n))
        rows = self._cur.fetchall()
        ss.received(n, rows)
        return rows

    async def execute(self, query: Any, params: Any = None) -> "AsyncServerCursor":  # type: ignore[override]
        if self._cur.closed:
            raise InterfaceError("the cursor is closed")
        ss = self._ss
        if ss.declared:
            await self._close_on_server()
        ss.reset()
        sql, values = self._cur._prepare(query, params)
        await self._send(ss.declare(sql), values)
        ss.declared_in(self._conn._c)
        await self._fetch(0)
        return self

    async def executemany(self, query: Any, params_seq: Any) -> None:
        raise NotSupportedError("executemany not supported on server-side cursors")

    async def fetchone(self) -> Optional[Row]:
        rows = self._ss.from_page(1) or self._ss.handed(await self._fetch(1))
        return rows[0] if rows else None

    async def fetchmany(self, size: Optional[int] = None) -> List[Row]:
        size = _fetchmany_size(self._cur, size)
        rows = self._ss.from_page(size)
        if len(rows) < size:
            rows += self._ss.handed(await self._fetch(size - len(rows)))
        return rows

    async def fetchall(self) -> List[Row]:
        rows = self._ss.from_page(None)
        return rows + self._ss.handed(await self._fetch(None))

    def __aiter__(self) -> "AsyncServerCursor":
        return self

    async def __anext__(self) -> Row:
        ss = self._ss
        rows = ss.from_page(1)
        if not rows and not ss.exhausted:
            ss.next_page(await self._fetch(ss.itersize))
            rows = ss.from_page(1)
        if not rows:
            raise StopAsyncIteration
        return rows[0]

    async def nextset(self) -> None:  # type: ignore[override]
        return None

    async def scroll(self, value: int, mode: str = "relative") -> None:
        ss = self._ss
        ss.check_alive(self._conn._c)
        await self._send(ss.move_sql(value, mode))
        ss.pos = ss.pos + value if mode == "relative" else value

    async def close(self) -> None:
        if self._cur.closed:
            return
        try:
            await self._close_on_server()
        finally:
            self._cur.close()

    async def _close_on_server(self) -> None:
        ss = self._ss
        wants = ss.wants_close(self._conn._c)
        ss.declared = False
        ss.reset()
        if wants:
            await self._send(ss.close_sql())

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # Server-side meanings; statusmessage, closed, arraysize... are AsyncCursor's.
    description = property(lambda self: self._cur.description if self._ss.declared else None)
    rowcount = property(lambda self: self._ss.fetched)
    rownumber = property(lambda self: self._ss.pos if self._ss.declared else None)
