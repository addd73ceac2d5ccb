"""pgatomic.django.literals: the values Django must inline into DDL read
back, on the server, as the same value and type the parameter carries."""

import datetime
import decimal
import uuid

import pytest

import pgatomic
from pgatomic.django import literals

VALUES = [
    None, True, False, 0, 7, -7, 2**40, -2**40, 1.5, -0.25, 1e300, float("inf"),
    float("-inf"), decimal.Decimal("12.50"), decimal.Decimal("-0.001"),
    decimal.Decimal("NaN"), "", "plain", "it's", "back\\slash", "ünïcode ✓", "-- not a comment",
    "%s %% %(x)s", b"", b"\x00\xffbytes", bytearray(b"ab"), memoryview(b"cd"),
    datetime.date(2024, 2, 29), datetime.time(23, 59, 58, 123456),
    datetime.datetime(2024, 2, 29, 12, 30, 1, 5),
    datetime.datetime(2024, 2, 29, 12, 30, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.timedelta(days=-3, seconds=5, microseconds=7),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    pgatomic.Json({"a": [1, "x"]}), {"k": None}, [1, 2, 3], ["a", "b'c"], [[1, 2], [3, 4]],
]


def same(a, b):
    if isinstance(a, decimal.Decimal) and a.is_nan():
        return isinstance(b, decimal.Decimal) and b.is_nan()
    return a == b


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_literal_reads_back_as_the_parameter(conn, value):
    literal = literals.quote(value)
    got, got_type = conn.execute(f"SELECT {literal}, pg_typeof({literal})::text").fetchone()
    if value is None:
        assert got is None
        return
    if isinstance(value, str):
        # Both untyped: the context gives them their type (text here).
        assert got_type == "unknown"
        assert conn.execute(f"SELECT {literal}::text = $1::text", [value]).scalar() is True
        return
    want, want_type = conn.execute("SELECT $1, pg_typeof($1)::text", [value]).fetchone()
    assert same(got, want)
    if type(value) is int or (isinstance(value, list) and isinstance(value[0], (int, list))):
        # A bare integer, as psycopg writes it; the parameter is typed by
        # its value (smallint here).  Either fits any integer context.
        assert got_type.rstrip("[]") in ("integer", "bigint")
        return
    assert got_type == want_type


def test_text_with_a_nul_is_refused():
    with pytest.raises(pgatomic.DataError):
        literals.quote("a\x00b")


def test_unknown_type_is_refused():
    with pytest.raises(pgatomic.ProgrammingError, match="cannot adapt type 'object'"):
        literals.quote(object())


def test_compose_replaces_placeholders_as_psycopg_reads_them(conn):
    sql = literals.compose("SELECT %s, %s, '100%%'", ["it's", 3])
    assert sql == "SELECT 'it''s', 3, '100%'"
    assert conn.execute(sql).fetchone() == ("it's", 3, "100%")
    assert literals.compose("SELECT %(a)s || %(a)s", {"a": "x"}) == "SELECT 'x' || 'x'"
    assert literals.compose("SELECT '%s'", None) == "SELECT '%s'"     # no params: as is


@pytest.mark.parametrize("sql,params", [
    ("SELECT %s", []), ("SELECT 1", [1]), ("SELECT %(a)s", [1]), ("SELECT %s", {"a": 1}),
    ("SELECT %(b)s", {"a": 1}), ("SELECT %d", [1]),
])
def test_compose_refuses_a_mismatch(sql, params):
    with pytest.raises(pgatomic.ProgrammingError):
        literals.compose(sql, params)
