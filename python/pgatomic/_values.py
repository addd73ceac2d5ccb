"""Values read from PostgreSQL that Python's types cannot hold exactly, kept
exact for the way back: each is an ordinary ``date``, ``datetime`` or
``timedelta`` (compare, format and compute with it as usual) that remembers
what PostgreSQL sent, so writing it back unchanged sends that again.  Any
arithmetic gives a plain value, sent as what it is.

- ``'infinity'`` / ``'-infinity'`` dates and timestamps read as ``date.max`` /
  ``date.min`` (``datetime.max`` / ``min``; UTC for timestamptz), the mapping
  psycopg's documentation suggests, and are written back as infinity: a
  read-modify-write never turns infinity into 9999-12-31.  A ``date.max``
  you make yourself is the finite 9999-12-31.
- An interval reads as a ``timedelta``, counting a month as 30 days and a
  year as 365 (psycopg's rule).  PostgreSQL keeps months, days and time
  apart, and they differ in meaning ('1 mon' added to January 31st, '1 day'
  across a daylight-saving change); when a timedelta cannot say which was
  which (a months part, a negative time, a time of 24 hours or more) the
  value is an ``Interval``, written back with the three fields as read:
  ``'1 mon'`` stays ``'1 mon'``, never ``'30 days'``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = ["InfiniteDate", "InfiniteDatetime", "Interval"]


class InfiniteDate(_dt.date):
    """``date.max`` or ``date.min`` read from PostgreSQL's infinity."""

    __module__ = "pgatomic"
    __slots__ = ()

    def __repr__(self) -> str:
        return f"pgatomic.InfiniteDate({'infinity' if self == _dt.date.max else '-infinity'})"


class InfiniteDatetime(_dt.datetime):
    """``datetime.max`` or ``datetime.min`` read from PostgreSQL's infinity."""

    __module__ = "pgatomic"
    __slots__ = ()

    def __repr__(self) -> str:
        positive = self.replace(tzinfo=None) == _dt.datetime.max
        return f"pgatomic.InfiniteDatetime({'infinity' if positive else '-infinity'})"


class Interval(_dt.timedelta):
    """A ``timedelta`` read from an interval whose fields it cannot show;
    ``months``, ``interval_days`` and ``interval_microseconds`` are
    PostgreSQL's three fields, sent back as they are."""

    __module__ = "pgatomic"
    __slots__ = ("months", "interval_days", "interval_microseconds")

    def __new__(cls, months: int, days: int, microseconds: int) -> "Interval":
        years, rest = divmod(abs(months), 12)
        folded = (365 * years + 30 * rest) * (1 if months >= 0 else -1)
        self = super().__new__(cls, days=folded + days, microseconds=microseconds)
        self.months = months
        self.interval_days = days
        self.interval_microseconds = microseconds
        return self

    def __reduce__(self) -> Any:
        return (Interval, (self.months, self.interval_days, self.interval_microseconds))

    def __repr__(self) -> str:
        return (f"pgatomic.Interval(months={self.months}, days={self.interval_days},"
                f" microseconds={self.interval_microseconds})")
