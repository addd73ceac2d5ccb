"""Every built-in type of API.md 1.1 read and written back without a silent
change: a table test over the types, each as a scalar, in an array (with a
NULL element) and in a two-dimensional array.  The server compares the
value written back with the one it had, as text (so an interval '1 mon'
written back as '30 days', or infinity written back as 9999-12-31, fails)."""

import datetime as dt
import decimal
import uuid
import zoneinfo

import pytest

import pgatomic

TEXTS = ["", "a", "with space", 'quo"te', "back\\slash", "NULL", "{}", "a,b",
         " lead", "ü€😀", "new\nline"]

# type -> literals (read by the server with a cast from text).
TYPES = {
    "bool": ["true", "false"],
    "int2": ["-32768", "0", "32767"],
    "int4": ["-2147483648", "7", "2147483647"],
    "int8": ["-9223372036854775808", "9223372036854775807"],
    "float4": ["0.1", "1.5", "-0", "3.4028235e+38", "1e-45", "NaN", "Infinity", "-Infinity"],
    "float8": ["0.1", "1e+308", "5e-324", "-0", "NaN", "Infinity", "-Infinity"],
    "numeric": ["0", "-1.50", "123456789012345678901234567890.000000001", "1e-20",
                "NaN", "Infinity", "-Infinity"],
    "numeric(10,3)": ["1.500", "-0.001"],
    "text": TEXTS,
    "varchar(20)": TEXTS,
    "char(5)": ["a", "abcde", "", "ü"],
    "name": TEXTS + ["x" * 63],
    "bytea": ["\\x", "\\x00ff", "\\x5c22", "\\x" + "ab" * 40],
    "date": ["2024-02-29", "0001-01-01", "9999-12-31", "infinity", "-infinity"],
    "time": ["00:00:00", "23:59:59.999999", "12:34:56.5"],
    "timetz": ["12:00:00+02", "00:00:00-12:30", "23:59:59.999999+14", "12:00:00+00",
               "01:02:03-03:04:05"],
    "timestamp": ["2024-02-29 12:34:56.789", "0001-01-01 00:00:00",
                  "9999-12-31 23:59:59.999999", "infinity", "-infinity"],
    "timestamptz": ["2024-02-29 12:34:56.789+05", "2000-01-01 00:00:00+00",
                    "9999-12-31 00:00:00+00", "infinity", "-infinity"],
    "interval": ["00:00:00", "1 mon", "1 year 2 mons 3 days 04:05:06.7", "-1 mons +1 day",
                 "1 day -00:00:01", "27 days 23:59:59.999999", "-3 years", "11 mons 40 days",
                 "1000 years", "1 day"],
    "uuid": ["00000000-0000-0000-0000-000000000000", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
    "jsonb": ['{}', '{"a": [1, 2.5, null, "x"], "b": {"c": true}}', '{"ü": "😀"}'],
    "json": ['{}', '{"a": [1, 2.5, null, "x"], "b": {"c": true}}'],
}

# json keeps its input text verbatim (spaces, key order): compare meaning.
COMPARE_AS = {"json": "jsonb"}

# The Python type each reads as (API.md 1.1).
PY_TYPES = {
    "bool": bool, "int2": int, "int4": int, "int8": int, "float4": float, "float8": float,
    "numeric": decimal.Decimal, "numeric(10,3)": decimal.Decimal, "text": str,
    "varchar(20)": str, "char(5)": str, "name": str, "bytea": bytes, "date": dt.date,
    "time": dt.time, "timetz": dt.time, "timestamp": dt.datetime, "timestamptz": dt.datetime,
    "interval": dt.timedelta, "uuid": uuid.UUID, "jsonb": dict, "json": dict,
}


def check_python_type(pgtype, v):
    assert isinstance(v, PY_TYPES[pgtype]), (pgtype, v)
    if pgtype in ("timetz", "timestamptz"):
        assert v.tzinfo is not None, v
    if pgtype in ("time", "timestamp"):
        assert v.tzinfo is None, v


@pytest.mark.parametrize("pgtype", list(TYPES))
def test_every_type_read_then_written_back_is_unchanged(pgatomic_db, pgtype):
    """In a transaction of pgatomic's pytest plugin, rolled back after."""
    conn = pgatomic_db
    lits = TYPES[pgtype]
    t = "round_trip"
    conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v0 {pgtype}, a0 {pgtype}[],"
                 f" m0 {pgtype}[], v {pgtype}, a {pgtype}[], m {pgtype}[])")
    for i, lit in enumerate(lits):
        conn.execute(f"INSERT INTO {t} (id, v0, a0, m0) VALUES ($1, $2::text::{pgtype},"
                     f" ARRAY[$2::text::{pgtype}, NULL],"
                     f" ARRAY[[$2::text::{pgtype}, $2::text::{pgtype}],"
                     f"       [NULL, $2::text::{pgtype}]])", [i, lit])
    conn.execute(f"INSERT INTO {t} (id, a0) SELECT -1, array_agg(v0 ORDER BY id) FROM {t}")
    rows = conn.execute(f"SELECT id, v0, a0, m0 FROM {t} ORDER BY id").rows
    for row_id, v, a, m in rows:
        assert isinstance(a, list), (pgtype, a)
        if row_id >= 0:
            check_python_type(pgtype, v)
            assert a[1] is None and isinstance(m, list) and m[1][0] is None, (a, m)
        for x in a + (m[0] if m else []):
            if x is not None:
                check_python_type(pgtype, x)
        conn.execute(f"UPDATE {t} SET v = $1, a = $2, m = $3 WHERE id = $4", [v, a, m, row_id])
    as_ = COMPARE_AS.get(pgtype, "text")
    changed = conn.execute(
        f"SELECT id, v0::text, v::text, a0::text, a::text, m0::text, m::text FROM {t}"
        f" WHERE v0::{as_} IS DISTINCT FROM v::{as_} OR a0::{as_}[] IS DISTINCT FROM a::{as_}[]"
        f" OR m0::{as_}[] IS DISTINCT FROM m::{as_}[]").rows
    assert changed == []


def test_infinity_reads_as_max_and_min_and_writes_back_as_infinity(pgatomic_db):
    conn = pgatomic_db
    r = conn.execute("SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp,"
                     " '-infinity'::timestamptz").rows[0]
    assert r[0] == dt.date.max and r[1] == dt.date.min
    assert r[2] == dt.datetime.max
    assert r[3] == dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    back = conn.execute("SELECT $1::text, $2::text, $3::text, $4::text", list(r)).rows[0]
    assert back == ("infinity", "-infinity", "infinity", "-infinity")
    # A finite 9999-12-31 stays finite, and so does infinity once changed.
    finite = conn.execute("SELECT $1::text, $2::text",
                          [dt.date.max, r[0] - dt.timedelta(days=1)]).rows[0]
    assert finite == ("9999-12-31", "9999-12-30")


def test_time_with_time_zone_both_ways(pgatomic_db):
    conn = pgatomic_db
    t = conn.execute("SELECT '12:34:56.5+02:30'::timetz").scalar()
    assert t == dt.time(12, 34, 56, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2.5)))
    got = conn.execute("SELECT $1::timetz::text",
                       [dt.time(1, 2, 3, tzinfo=dt.timezone(-dt.timedelta(hours=3)))]).scalar()
    assert got == "01:02:03-03"
    assert conn.execute("SELECT pg_typeof($1)::text",
                        [dt.time(1, tzinfo=dt.timezone.utc)]).scalar() == "time with time zone"


def test_time_in_a_zone_whose_offset_depends_on_the_date_is_refused(pgatomic_db):
    conn = pgatomic_db
    paris = dt.time(12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    with pytest.raises(pgatomic.DataError) as info:
        conn.execute("SELECT $1", [paris])
    assert "Europe/Paris" in str(info.value) and "without a date" in str(info.value)
    assert conn.execute("SELECT 1").scalar() == 1


def test_interval_months_are_30_days_and_years_365(pgatomic_db):
    """psycopg's rule for what a month is; the value written back is the one
    read (months, days and time apart), not its timedelta."""
    conn = pgatomic_db
    r = conn.execute("SELECT '1 mon'::interval, '1 year'::interval,"
                     " '1 year 2 mons 3 days 04:05:06'::interval, '-1 mon'::interval").rows[0]
    assert r[0] == dt.timedelta(days=30)
    assert r[1] == dt.timedelta(days=365)
    assert r[2] == dt.timedelta(days=365 + 60 + 3, hours=4, minutes=5, seconds=6)
    assert r[3] == dt.timedelta(days=-30)
    back = conn.execute("SELECT $1::text, $2::text, $3::text, $4::text", list(r)).rows[0]
    assert back == ("1 mon", "1 year", "1 year 2 mons 3 days 04:05:06", "-1 mons")
    # Arithmetic gives a plain timedelta: it is sent as days and time.
    assert conn.execute("SELECT $1::text", [r[0] + dt.timedelta(0)]).scalar() == "30 days"
