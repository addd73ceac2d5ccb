"""SQL literals for the few places Django must inline values into SQL text.

Parameters always travel separately from the SQL (the extended protocol);
these literals are only for what PostgreSQL cannot take as a parameter:
DDL (a column DEFAULT, a CHECK or index condition, a COMMENT), ``SET ROLE``,
and the text of ``last_executed_query()`` shown in debug logs.  Django's
stock backend asks psycopg for the same thing (``sql.quote``,
``ClientCursor.mogrify``); the literals here are written so the server reads
them back as the same value and type the parameter would have had.
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from typing import Any, Mapping, Sequence, Union

from ..errors import DataError, ProgrammingError
from .._json import Json

__all__ = ["quote", "compose"]


def _text(value: str) -> str:
    if "\x00" in value:
        raise DataError("PostgreSQL text cannot contain NUL (0x00) bytes")
    quoted = value.replace("'", "''")
    if "\\" in quoted:
        # Correct whatever standard_conforming_strings says.
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def _typed(text: str, type_name: str) -> str:
    return f"{_text(text)}::{type_name}"


def _array_element(value: Any) -> str:
    """An element inside ARRAY[...]: a nested list stays a bracket list."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_array_element(v) for v in value) + "]"
    return quote(value)


def quote(value: Any) -> str:
    """``value`` as a SQL literal of the type its parameter would have."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # A leading space keeps "- -1" from becoming a comment.
        return str(value) if value >= 0 else f" {value}"
    if isinstance(value, float):
        # repr() round-trips, and float8 input reads 'inf' and 'nan' too.
        return _typed(repr(value), "float8")
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return _typed("NaN" if value.is_nan() else
                          ("Infinity" if value > 0 else "-Infinity"), "numeric")
        return _typed(str(value), "numeric")
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _typed("\\x" + bytes(value).hex(), "bytea")
    if isinstance(value, datetime.datetime):
        return _typed(value.isoformat(),
                      "timestamptz" if value.tzinfo is not None else "timestamp")
    if isinstance(value, datetime.date):
        return _typed(value.isoformat(), "date")
    if isinstance(value, datetime.time):
        return _typed(value.isoformat(), "timetz" if value.tzinfo is not None else "time")
    if isinstance(value, datetime.timedelta):
        return _typed(f"{value.days} days {value.seconds} seconds "
                      f"{value.microseconds} microseconds", "interval")
    if isinstance(value, uuid.UUID):
        return _typed(str(value), "uuid")
    if isinstance(value, Json):
        return _typed((value.dumps or json.dumps)(value.obj), "jsonb")
    if isinstance(value, dict):
        return _typed(json.dumps(value), "jsonb")
    if isinstance(value, (list, tuple)):
        if not value:
            return "'{}'"
        return "ARRAY[" + ", ".join(_array_element(v) for v in value) + "]"
    raise ProgrammingError(f"cannot adapt type '{type(value).__name__}'")


_PLACEHOLDER = re.compile(r"%(?:\(([^)]*)\))?(.)", re.S)
_END = object()


def compose(sql: str, params: Union[Sequence[Any], Mapping[str, Any], None]) -> str:
    """``sql`` with its ``%s`` / ``%(name)s`` placeholders replaced by
    literals and ``%%`` by ``%``, the way psycopg's mogrify() reads them."""
    if params is None:
        return sql
    named = isinstance(params, Mapping)
    values = iter(()) if named else iter(params)

    def literal(match: "re.Match[str]") -> str:
        name, kind = match.group(1), match.group(2)
        if name is None and kind == "%":
            return "%"
        if kind != "s":
            raise ProgrammingError(
                f"only '%s', '%(name)s' and '%%' are placeholders, not '%{kind}'")
        if named:
            if name is None:
                raise ProgrammingError("a mapping of parameters needs %(name)s placeholders")
            try:
                return quote(params[name])   # type: ignore[index]
            except KeyError:
                raise ProgrammingError(f"no parameter named {name!r}") from None
        if name is not None:
            raise ProgrammingError("%(name)s placeholders need a mapping of parameters")
        try:
            return quote(next(values))
        except StopIteration:
            raise ProgrammingError("the query has more placeholders than parameters") from None

    text = _PLACEHOLDER.sub(literal, sql)
    if not named and next(values, _END) is not _END:
        raise ProgrammingError("the query has fewer placeholders than parameters")
    return text

