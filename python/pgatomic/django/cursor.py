"""The cursor Django gets: pgatomic.dbapi's, plus what Django's PostgreSQL
backend adds to psycopg's cursor (``callproc``), and timestamptz values in
the connection's time zone (``DatabaseWrapper.timezone``), naive when it is
None (``USE_TZ = False``), as Django's time-zone loader gives them on
psycopg.  Only those columns are touched, and only when needed: with
``USE_TZ = True`` the engine's values already carry UTC.  (json and jsonb
come back as text through the connection's ``json_loads``.)
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, List, Optional, Sequence, Tuple

from .. import dbapi

__all__ = ["Cursor", "ServerSideCursor"]

TIMESTAMPTZ_OID = 1184

Row = Tuple[Any, ...]
Converter = Callable[[Any], Any]


class Cursor(dbapi.Cursor):
    """A pgatomic.dbapi cursor for Django's DatabaseWrapper."""

    # The connection's time zone (set by the DatabaseWrapper), and the
    # converters of the current result's columns (None: not worked out yet).
    _timezone: Optional[datetime.tzinfo] = datetime.timezone.utc
    _converters: Optional[List[Tuple[int, Converter]]] = None

    def callproc(self, procname: str, args: Optional[Sequence[Any]] = None) -> Any:
        """``SELECT * FROM procname(args)`` with the arguments as parameters
        (psycopg 3 has no callproc; Django's PostgreSQL backend adds one)."""
        name = '"%s"' % procname.replace('"', '""')
        placeholders = ", ".join(["%s"] * len(args)) if args else ""
        self.execute(f"SELECT * FROM {name}({placeholders})", list(args) if args else None)
        return args

    # -- values ---------------------------------------------------------------
    def execute(self, query: Any, params: Any = None) -> "Cursor":
        self._converters = None
        super().execute(query, params)
        return self

    def executemany(self, query: Any, seq_of_params: Any) -> None:
        self._converters = None
        super().executemany(query, seq_of_params)

    def _timestamptz(self) -> Optional[Converter]:
        tz = self._timezone
        if tz is datetime.timezone.utc:
            return None          # the engine's values are already UTC
        if tz is None:
            return lambda v: v if v is None else v.replace(tzinfo=None)
        return lambda v: v if v is None else v.astimezone(tz)

    def _row_converters(self) -> List[Tuple[int, Converter]]:
        if self._converters is None:
            self._converters = []
            convert = self._timestamptz()
            if convert is not None:
                self._converters = [(i, convert) for i, column in enumerate(self.description or ())
                                    if column.type_code == TIMESTAMPTZ_OID]
        return self._converters

    def _convert(self, row: Row) -> Row:
        values = list(row)
        for i, convert in self._converters or ():
            values[i] = convert(values[i])
        return tuple(values)

    def fetchone(self) -> Optional[Row]:
        row = super().fetchone()
        if row is None or not self._row_converters():
            return row
        return self._convert(row)

    def fetchmany(self, size: Optional[int] = None) -> List[Row]:
        rows = super().fetchmany(self.arraysize if size is None else size)
        if not rows or not self._row_converters():
            return rows
        return [self._convert(row) for row in rows]

    def fetchall(self) -> List[Row]:
        rows = super().fetchall()
        if not rows or not self._row_converters():
            return rows
        return [self._convert(row) for row in rows]

    def __iter__(self) -> "Cursor":
        return self

    def __next__(self) -> Row:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class ServerSideCursor(Cursor, dbapi.ServerCursor):
    """The named cursor of ``QuerySet.iterator()`` (Django's
    ``chunked_cursor()``): pgatomic.dbapi's server-side cursor with the
    values of Django's cursor above.  Its rows arrive FETCH FORWARD n at a
    time (n: the iterator's chunk_size, 2000 by default)."""

    def __next__(self) -> Row:
        # Iteration reads itersize rows per round trip, not one.
        row = dbapi.ServerCursor.__next__(self)
        return self._convert(row) if self._row_converters() else row
