"""API.md 1.1: every type both ways, NULLs, arrays, unicode, and the
Result object."""

import datetime as dt
import decimal
import math
import uuid

import pytest

import pgatomic
from pgatomic import Json

UTC = dt.timezone.utc
PLUS_5_30 = dt.timezone(dt.timedelta(hours=5, minutes=30))


def roundtrip(conn, value, pgtype):
    return conn.execute(f"SELECT $1::{pgtype}", [value]).scalar()


@pytest.mark.parametrize("value,pgtype", [
    (True, "bool"), (False, "bool"),
    (0, "int2"), (-32768, "int2"), (2**31 - 1, "int4"), (-(2**63), "int8"),
    (2**63 - 1, "int8"),
    (1.5, "float8"), (-0.0, "float8"), (1e300, "float8"), (0.25, "float4"),
    (decimal.Decimal("12345678901234567890.000000001"), "numeric"),
    (decimal.Decimal("-0.5"), "numeric"),
    ("plain", "text"), ("héllo wörld ✓ 日本語 🎉", "text"), ("", "text"),
    ("var", "varchar"), ("chr", "char(3)"), ("a name", "name"),
    (b"\x00\x01\xffbytes\\", "bytea"), (b"", "bytea"),
    (dt.date(2024, 2, 29), "date"), (dt.date(1, 1, 1), "date"),
    (dt.time(23, 59, 59, 999999), "time"), (dt.time(0, 0), "time"),
    (dt.datetime(2024, 5, 6, 7, 8, 9, 123456), "timestamp"),
    (dt.timedelta(days=3, seconds=4, microseconds=5), "interval"),
    (dt.timedelta(days=-1, seconds=5), "interval"),
    (uuid.UUID("12345678-1234-5678-1234-567812345678"), "uuid"),
    ({"a": [1, 2.5, None, "x"], "b": {"c": True}}, "jsonb"),
])
def test_scalar_roundtrip(conn, value, pgtype):
    got = roundtrip(conn, value, pgtype)
    assert got == value and type(got) is type(value)


def test_aware_datetime_is_timestamptz(conn):
    value = dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=PLUS_5_30)
    got = roundtrip(conn, value, "timestamptz")
    assert got == value and got.tzinfo is not None
    assert got.utcoffset() == dt.timedelta(0)     # the session's TimeZone
    conn.execute("SET TimeZone = 'Asia/Kolkata'")
    got = conn.execute("SELECT $1::timestamptz", [value]).scalar()
    assert got == value and got.utcoffset() == dt.timedelta(hours=5, minutes=30)


def test_parameters_carry_their_type_without_casts(conn):
    r = conn.execute("SELECT pg_typeof($1)::text, pg_typeof($2)::text, pg_typeof($3)::text,"
                     " pg_typeof($4)::text, pg_typeof($5)::text, pg_typeof($6)::text",
                     [dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2020, 1, 1),
                      {"a": 1}, uuid.uuid4(), b"x", decimal.Decimal("1.5")])
    assert r.rows[0] == ("timestamp with time zone", "timestamp without time zone",
                         "jsonb", "uuid", "bytea", "numeric")


def test_big_int_travels_as_numeric(conn):
    big = 10**30 + 7
    got = conn.execute("SELECT $1 + 1", [big]).scalar()
    assert got == decimal.Decimal(big + 1)


def test_float_specials(conn):
    assert math.isnan(roundtrip(conn, float("nan"), "float8"))
    assert roundtrip(conn, float("inf"), "float8") == float("inf")
    assert roundtrip(conn, float("-inf"), "float8") == float("-inf")
    assert roundtrip(conn, decimal.Decimal("NaN"), "numeric").is_nan()


def test_json_wrapper_for_any_value(conn):
    for value in ([1, "two", None], "a string", 42, None, {"k": "v"}):
        assert conn.execute("SELECT $1::jsonb", [Json(value)]).scalar() == value
    assert conn.execute("SELECT '[1, {\"a\": 2}]'::json").scalar() == [1, {"a": 2}]


def test_bytes_like_objects(conn):
    for value in (bytearray(b"ab\x00c"), memoryview(b"ab\x00c")):
        assert roundtrip(conn, value, "bytea") == b"ab\x00c"


def test_nulls_everywhere(conn):
    types = ["bool", "int4", "int8", "float8", "numeric", "text", "bytea", "date",
             "time", "timestamp", "timestamptz", "interval", "uuid", "jsonb", "int4[]"]
    sql = "SELECT " + ", ".join(f"${i}::{t}" for i, t in enumerate(types, 1))
    row = conn.execute(sql, [None] * len(types)).rows[0]
    assert row == (None,) * len(types)


@pytest.mark.parametrize("value,pgtype", [
    ([1, 2, 3], "int4[]"), ([[1, 2], [3, None]], "int8[]"), ([], "int4[]"),
    (["a", "b,c", 'q"uote', "back\\slash", "NULL", "", None, "ünï"], "text[]"),
    ([True, False, None], "bool[]"), ([1.5, -2.25], "float8[]"),
    ([decimal.Decimal("1.10"), decimal.Decimal("-3")], "numeric[]"),
    ([dt.date(2020, 1, 2), None], "date[]"),
    ([dt.datetime(2020, 1, 2, 3, 4, 5)], "timestamp[]"),
    ([uuid.UUID(int=1), uuid.UUID(int=2)], "uuid[]"),
    ([b"\x00\x01", b"z"], "bytea[]"),
    ([dt.timedelta(hours=1)], "interval[]"),
    ((1, 2), "int4[]"),
])
def test_array_roundtrip(conn, value, pgtype):
    got = roundtrip(conn, value, pgtype)
    assert got == list(value) if isinstance(value, tuple) else got == value
    assert isinstance(got, list)


def test_jsonb_array(conn):
    got = conn.execute("SELECT ARRAY['{\"a\":1}'::jsonb, '[2]'::jsonb]").scalar()
    assert got == [{"a": 1}, [2]]


def test_infinite_dates_map_to_max_and_min(conn):
    r = conn.execute("SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp,"
                     " '-infinity'::timestamptz").rows[0]
    assert r[0] == dt.date.max and r[1] == dt.date.min
    assert r[2] == dt.datetime.max
    assert r[3] == dt.datetime.min.replace(tzinfo=UTC)


def test_other_types_come_back_as_text(conn):
    r = conn.execute("SELECT '1.2.3.4'::inet, '(1,2)'::point, 'a'::\"char\"").rows[0]
    assert r == ("1.2.3.4", "(1,2)", "a")


def test_strings_fill_typed_columns(conn, tables, rows):
    t = tables.make("d date, n int, ts timestamptz")
    conn.execute(f"INSERT INTO {t} VALUES ($1, $2, $3)",
                 ["2024-01-02", "42", "2024-01-02 03:04:05+00"])
    assert rows(t) == [(dt.date(2024, 1, 2), 42, dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))]


def test_result_object(conn, tables):
    t = tables.make("id int, name text")
    r = conn.execute(f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b'), (3, 'ç')")
    assert r.status == "INSERT 0 3" and r.rowcount == 3 and len(r) == 0
    r = conn.execute(f"SELECT id, name FROM {t} ORDER BY id")
    assert r.columns == ["id", "name"] and r.rowcount == 3 and r.status == "SELECT 3"
    assert len(r) == 3 and list(r) == [(1, "a"), (2, "b"), (3, "ç")]
    assert r.rows == [(1, "a"), (2, "b"), (3, "ç")] and r[0] == (1, "a")
    assert r.fetchone() == (1, "a")
    assert r.fetchall() == [(2, "b"), (3, "ç")]
    assert r.fetchone() is None and r.fetchall() == []
    assert r.scalar() == 1
    assert r.dicts()[2] == {"id": 3, "name": "ç"}
    empty = conn.execute(f"SELECT id FROM {t} WHERE false")
    assert empty.scalar() is None and empty.fetchone() is None and empty.rows == []
    upd = conn.execute(f"UPDATE {t} SET name = $1 WHERE id > $2", ["z", 1])
    assert upd.rowcount == 2 and upd.status == "UPDATE 2"
    assert conn.execute("CREATE TEMP TABLE tmp_r (x int)").status == "CREATE TABLE"


def test_executemany(conn, tables, rows):
    t = tables.make("id int, v text")
    assert conn.executemany(f"INSERT INTO {t} VALUES ($1, $2)",
                            [(1, "a"), [2, "b"], (3, None)]) is None
    assert rows(t) == [(1, "a"), (2, "b"), (3, None)]


@pytest.mark.parametrize("sql", ["SELECT '0044-03-15 BC'::date", "SELECT '24:00'::time",
                                 "SELECT ARRAY['24:00'::time]"])
def test_values_outside_pythons_range_raise_data_error(conn, sql):
    with pytest.raises(pgatomic.DataError) as info:
        conn.execute(sql)
    assert isinstance(info.value.__cause__, ValueError)
    assert conn.execute("SELECT 1").scalar() == 1
