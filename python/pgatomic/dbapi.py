"""``pgatomic.dbapi``: a PEP 249 (DB-API 2.0) driver on the pgatomic core.

For the tools that speak PEP 249 (SQLAlchemy's ``postgresql+pgatomic``
dialect, Django's backend, scripts written for psycopg)::

    from pgatomic import dbapi
    conn = dbapi.connect("postgresql:///app")          # or host=..., dbname=...
    cur = conn.cursor()
    cur.execute("INSERT INTO t (a, b) VALUES (%s, %s)", (1, "x"))
    conn.commit()

What differs from a plain DB-API driver is underneath: the transaction
that the first statement opens rides on that statement's round trip (no
BEGIN of its own), ``executemany()`` inside a transaction is one round
trip, and a COMMIT the server answers with ROLLBACK raises instead of
passing for success.

Placeholders: psycopg's ``%s`` and ``%(name)s`` (``%%`` for a percent
sign), rewritten into PostgreSQL's ``$1, $2, ...`` by the core and never
interpolated; a query already written with ``$n`` is sent as it is.
``paramstyle`` is "pyformat", which by PEP 249's convention (and
psycopg's) also covers "format".  As with psycopg, a query run without
parameters is sent exactly as written (no ``%`` processing).

The cursor is a C type (no Python code runs per statement or per row);
the connection is ``pgatomic.Connection`` with PEP 249's defaults (a new
connection is not in autocommit), so ``pgatomic.atomic(using=conn)`` and
``pgatomic.on_commit(..., using=conn)`` work on it too.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from typing import Any, Dict, FrozenSet, Iterable, Optional

from . import _pgatomic
from ._connections import Connection as _AtomicConnection
from .errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)

__all__ = [
    "apilevel", "threadsafety", "paramstyle", "connect", "Connection", "Cursor",
    "ServerCursor", "Pipeline", "connect_async", "AsyncConnection", "AsyncCursor", "AsyncServerCursor",
    "Column", "ConnectionInfo", "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
    "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
    "NotSupportedError", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "Date",
    "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks",
    "Binary",
]

apilevel = "2.0"
# Threads may share the module, not a connection at the same time; a pool
# may hand a connection from one thread to another.
threadsafety = 1
paramstyle = "pyformat"

logger = logging.getLogger("pgatomic")

Cursor = _pgatomic.Cursor
Column = _pgatomic.Column
from ._server_cursor import ServerCursor  # noqa: E402


class Connection(_AtomicConnection):
    """A PEP 249 connection: ``cursor()``, ``commit()``, ``rollback()``,
    ``close()`` and a settable ``autocommit`` (False when new)."""

    __module__ = "pgatomic.dbapi"

    def __init__(self, dsn: Optional[str] = None, *, autocommit: bool = False,
                 busy_poll_us: Optional[int] = None, _connect: bool = True) -> None:
        super().__init__(dsn, busy_poll_us=busy_poll_us, _connect=_connect)
        # Connection pools (SQLAlchemy's, Django's) move a connection from
        # thread to thread; psycopg allows that, so do we.
        self._any_thread = True
        # BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO and COMMIT given as SQL (as
        # ORMs give them) join the core's round-trip plan instead of each
        # costing a round trip; they answer with the server's command tag.
        self._set_sql_controls(True)
        if not autocommit:
            self.set_autocommit(False)

    # How many times commit() or rollback() ended a transaction: a named
    # cursor without hold remembers it, to know its transaction is gone.
    _txn_mark = 0

    def cursor(self, name: Optional[str] = None, *, scrollable: Optional[bool] = None,
               withhold: bool = False) -> Cursor:
        """A new cursor on this connection; with a name, a server-side cursor
        (psycopg's ``ServerCursor``: DECLARE, then FETCH FORWARD n per fetch)."""
        if name:
            return ServerCursor(self, name, scrollable=scrollable, withhold=withhold)
        return Cursor(self)

    # conn.pipeline() blocks entered and not left yet.
    _pipeline_depth = 0

    def pipeline(self) -> "Pipeline":
        """psycopg's pipeline mode: ``with conn.pipeline():``.  Inside it a
        transaction's statements (autocommit off, or an atomic block) are
        sent without waiting; a cursor's result is read when first touched
        (fetch*, description, rowcount, ...), at ``commit()`` /
        ``rollback()``, at ``Pipeline.sync()`` or when the block ends.
        ``k`` statements then ``commit()`` with nothing read in between
        cost one round trip.  An error raises at the latest at the next of
        these; docs/pipeline.md says exactly where."""
        return Pipeline(self)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._txn_mark += 1

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._txn_mark += 1

    @property
    def info(self) -> "ConnectionInfo":
        """psycopg's ``connection.info``, for the parts that apply."""
        return ConnectionInfo(self)

    def execute(self, query: str, params: Any = None) -> Cursor:  # type: ignore[override]
        """psycopg's shortcut: a new cursor, executed; returns the cursor."""
        return Cursor(self).execute(query, params)

    # -- the next transaction's options (psycopg's attributes) -----------------
    # The core keeps them (pga_conn_set_txn_options) and folds them into the
    # BEGIN that rides with the next transaction's first statement.
    @property
    def isolation_level(self) -> Optional[str]:
        """The isolation level the next transaction begins with, in SQL's
        words ("SERIALIZABLE"), or None for the server's default.  Accepts
        a str in any case, a pgatomic.Isolation, psycopg's IsolationLevel
        (1-4) or None."""
        return _ISO_WORDS.get(self.txn_options & _ISO_MASK)

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._set_txn_options((self.txn_options & ~_ISO_MASK) | _isolation_flag(value))

    @property
    def read_only(self) -> Optional[bool]:
        """True: the next transaction is READ ONLY; False: READ WRITE; None:
        the server's default."""
        return _tristate(self.txn_options, _pgatomic.READ_ONLY, _pgatomic.READ_WRITE)

    @read_only.setter
    def read_only(self, value: Optional[bool]) -> None:
        self._set_txn_options(_with_tristate(self.txn_options, value, _pgatomic.READ_ONLY,
                                             _pgatomic.READ_WRITE))

    @property
    def deferrable(self) -> Optional[bool]:
        """True: DEFERRABLE; False: NOT DEFERRABLE; None: the server's
        default."""
        return _tristate(self.txn_options, _pgatomic.DEFERRABLE, _pgatomic.NOT_DEFERRABLE)

    @deferrable.setter
    def deferrable(self, value: Optional[bool]) -> None:
        self._set_txn_options(_with_tristate(self.txn_options, value, _pgatomic.DEFERRABLE,
                                             _pgatomic.NOT_DEFERRABLE))

    # -- savepoints by name, without SQL (SQLAlchemy's and Django's hooks) ------
    # Deferred like the core's blocks: SAVEPOINT rides with the next
    # statement, RELEASE and ROLLBACK TO with the one after or with COMMIT;
    # PostgreSQL's rules hold (ROLLBACK TO keeps the savepoint, a repeated
    # name shadows the older one).  Outside a transaction they do nothing.
    def savepoint(self, name: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        """Create a savepoint called ``name`` (or one the core names, as
        Django's API does); returns its name, None outside a transaction."""
        return self._savepoint(name)

    def release_savepoint(self, name: str) -> None:
        """RELEASE the newest savepoint called ``name`` (and any newer)."""
        self._savepoint_commit(name)

    def rollback_to_savepoint(self, name: str) -> None:
        """ROLLBACK TO the newest savepoint called ``name``; it stays."""
        self._savepoint_rollback(name)

    @property  # type: ignore[override]
    def autocommit(self) -> bool:
        """False: the first statement opens a transaction (BEGIN rides with
        it) that commit() or rollback() ends.  True: each statement commits
        on its own.  Changing it inside a transaction raises."""
        return self.get_autocommit()

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self.set_autocommit(bool(value))

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:  # type: ignore[override]
        """psycopg's: commit on success, roll back on an exception (a failed
        rollback is logged, never hides the exception), then close."""
        if self.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            try:
                self.rollback()
            except Exception as e:
                logger.warning("error ignored in rollback on %r: %s", self, e)
        self.close()


class Pipeline:
    """``conn.pipeline()`` (psycopg's ``Connection.pipeline()``): the
    connection's pipeline mode while the ``with`` block runs (the core's
    ``pga_conn_set_pipeline``).  Blocks may nest: leaving an inner one is a
    sync point, leaving the outermost turns the mode off.  Leaving a block
    sends what is queued and raises its first error; when the block is
    left by an exception, that exception wins and a sync error is logged
    (the transaction stays failed: ``rollback()`` it)."""

    __module__ = "pgatomic.dbapi"
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def is_supported() -> bool:
        """Always True: the core pipelines over any libpq it builds with."""
        return True

    def sync(self) -> None:
        """Send what is queued and wait: the results already given out are
        then read; raises the first error among them."""
        self._conn._pipeline_sync()

    def __enter__(self) -> "Pipeline":
        conn = self._conn
        if conn._pipeline_depth == 0:
            conn._set_pipeline(True)
        conn._pipeline_depth += 1
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self._conn
        try:
            if not conn.closed:
                self.sync()
        except Exception as e:
            if exc_type is None:
                raise
            logger.warning("error ignored syncing %r: %s", self, e)
        finally:
            conn._pipeline_depth -= 1
            if conn._pipeline_depth == 0:
                # Closed too: a reconnected session starts without the mode.
                conn._set_pipeline(False)

    def __repr__(self) -> str:
        return f"<pgatomic.dbapi.Pipeline on {self._conn!r}>"


_ISO_MASK = (_pgatomic.ISO_READ_COMMITTED | _pgatomic.ISO_REPEATABLE_READ
             | _pgatomic.ISO_SERIALIZABLE | _pgatomic.ISO_READ_UNCOMMITTED)
_ISO_WORDS = {
    _pgatomic.ISO_READ_UNCOMMITTED: "READ UNCOMMITTED",
    _pgatomic.ISO_READ_COMMITTED: "READ COMMITTED",
    _pgatomic.ISO_REPEATABLE_READ: "REPEATABLE READ",
    _pgatomic.ISO_SERIALIZABLE: "SERIALIZABLE",
}
_ISO_BY_WORDS = {words: flag for flag, words in _ISO_WORDS.items()}
# psycopg.IsolationLevel's values.
_ISO_BY_NUMBER = {1: _pgatomic.ISO_READ_UNCOMMITTED, 2: _pgatomic.ISO_READ_COMMITTED,
                  3: _pgatomic.ISO_REPEATABLE_READ, 4: _pgatomic.ISO_SERIALIZABLE}


def _isolation_flag(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value in _ISO_BY_NUMBER:
        return _ISO_BY_NUMBER[value]
    words = getattr(value, "value", value)      # pgatomic.Isolation
    if isinstance(words, str):
        flag = _ISO_BY_WORDS.get(" ".join(words.upper().replace("_", " ").split()))
        if flag is not None:
            return flag
    raise ValueError(
        "isolation_level must be None, 'READ UNCOMMITTED', 'READ COMMITTED', "
        f"'REPEATABLE READ', 'SERIALIZABLE' or a pgatomic.Isolation, not {value!r}")


def _tristate(modes: int, yes: int, no: int) -> Optional[bool]:
    return True if modes & yes else False if modes & no else None


def _with_tristate(modes: int, value: Optional[bool], yes: int, no: int) -> int:
    modes &= ~(yes | no)
    if value is None:
        return modes
    return modes | (yes if value else no)


class ConnectionInfo:
    """The part of psycopg's ``ConnectionInfo`` code written for psycopg
    reads (Django's PostgreSQL backend does): what the server reported,
    read from libpq without a round trip."""

    __module__ = "pgatomic.dbapi"
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def parameter_status(self, name: str) -> Optional[str]:
        """A parameter the server reported (TimeZone, DateStyle, ...)."""
        return self._conn.parameter_status(name)

    @property
    def server_version(self) -> int:
        """PostgreSQL's version as one number (150018 for 15.18)."""
        return self._conn.server_version

    @property
    def encoding(self) -> str:
        """The Python codec of the client encoding: the core always uses UTF8."""
        return "utf-8"


_CONNINFO_VALUE = re.compile(r"[\\']")


def _quote(value: Any) -> str:
    return "'" + _CONNINFO_VALUE.sub(lambda m: "\\" + m.group(0), str(value)) + "'"


def make_conninfo(dsn: Optional[str] = None, **kwargs: Any) -> str:
    """psycopg's ``make_conninfo``: a connection string (or URI) merged with
    libpq keywords (``host=``, ``dbname=``, ``user=``, ...), the keywords
    winning; a keyword set to None is left out."""
    extra = {k: v for k, v in kwargs.items() if v is not None}
    if not extra:
        return dsn or ""
    params: Dict[str, str] = {}
    if dsn:
        parsed, message = _pgatomic.conninfo_parse(dsn)
        if parsed is None:
            # libpq quotes the offending part, which may be a password.
            raise ProgrammingError(
                "the connection string cannot be parsed: "
                + re.sub(r'"[^"]*"', '"..."', message or "").strip())
        params.update(parsed)
    params.update((k, str(v)) for k, v in extra.items())
    return " ".join(f"{k}={_quote(v)}" for k, v in params.items())


# psycopg's prepare_threshold=None means "never": "not given" needs a mark
# of its own.
_THRESHOLD_DEFAULT: Any = object()


def connect(dsn: Optional[str] = None, *, autocommit: bool = False,
            busy_poll_us: Optional[int] = None,
            prepare_threshold: Any = _THRESHOLD_DEFAULT, **kwargs: Any) -> Connection:
    """Open a connection.  ``dsn`` is a libpq connection string or URI
    (None: libpq's defaults, the PG* variables); keywords are libpq's
    (``host``, ``port``, ``dbname``, ``user``, ``password``, ...) and are
    merged into it, as psycopg does.  ``busy_poll_us`` and
    ``prepare_threshold`` are ours, never libpq's: see
    ``pgatomic.Connection.busy_poll_us`` (None: the core's default) and
    ``pgatomic.Connection.prepare_threshold`` (psycopg's keyword and
    meaning: None never prepares; left out: the default)."""
    conn = Connection(make_conninfo(dsn, **kwargs) or None, autocommit=autocommit,
                      busy_poll_us=busy_poll_us)
    if prepare_threshold is not _THRESHOLD_DEFAULT:
        try:
            conn.prepare_threshold = prepare_threshold
        except BaseException:
            conn.close()
            raise
    return conn


# -- type objects and constructors (PEP 249) -----------------------------------

class DBAPITypeObject:
    """Compares equal to the type codes (OIDs) of ``Cursor.description``
    that belong to it: ``description[0].type_code == NUMBER``."""

    __module__ = "pgatomic.dbapi"

    def __init__(self, name: str, type_codes: Iterable[int]) -> None:
        self.name = name
        self.values: FrozenSet[int] = frozenset(type_codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        return other in self.values

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<pgatomic.dbapi.{self.name}>"


# PostgreSQL's built-in OIDs (pg_type.dat), grouped as psycopg groups them.
STRING = DBAPITypeObject("STRING", (18, 19, 25, 1042, 1043))        # char name text bpchar varchar
BINARY = DBAPITypeObject("BINARY", (17,))                            # bytea
NUMBER = DBAPITypeObject("NUMBER", (20, 21, 23, 700, 701, 1700))     # int8 int2 int4 float4/8 numeric
DATETIME = DBAPITypeObject("DATETIME", (1082, 1083, 1114, 1184, 1186, 1266))
ROWID = DBAPITypeObject("ROWID", (26,))                              # oid

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime


def TimestampFromTicks(ticks: float) -> _dt.datetime:
    """The local time at ``ticks`` (seconds since the epoch), with its UTC
    offset, so it is sent as timestamptz (psycopg's choice)."""
    return _dt.datetime.fromtimestamp(ticks, _dt.timezone.utc).astimezone()


def DateFromTicks(ticks: float) -> _dt.date:
    return _dt.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> _dt.time:
    return TimestampFromTicks(ticks).timetz()


def Binary(data: Any) -> bytes:
    """bytes travel as bytea."""
    return bytes(data)


# The asyncio twin: pgatomic.dbapi.connect_async(), AsyncConnection, AsyncCursor.
from ._dbapi_aio import AsyncConnection, AsyncCursor, connect_async  # noqa: E402
from ._server_cursor import AsyncServerCursor  # noqa: E402
