"""Property tests (hypothesis) of value round trips through the server:
every value either comes back exactly (by value, with the type API.md §1.1
names) or raises a clear pgatomic.Error subclass (or TypeError) -- never a
crash, never a silently different value.  The connection stays usable after
every refusal.

Documented, checked normalizations (PostgreSQL's, not ours): an int beyond
int64 travels as numeric and comes back as an equal Decimal; numeric has no
negative zero; an aware datetime comes back in UTC (the same instant)."""

import datetime as dt
import math
import os
import struct
import tempfile
from decimal import Decimal

import pytest

# Hypothesis keeps caches in ./.hypothesis; keep the work tree clean (read
# lazily, so setting it before the first example is enough).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      os.path.join(tempfile.gettempdir(), "pgatomic-hypothesis"))
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pgatomic  # noqa: E402

from faultlib import direct  # noqa: E402

EXAMPLES = 200
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
INT64 = (-2**63, 2**63 - 1)


@pytest.fixture(scope="module")
def pconn():
    c = direct()
    yield c
    c.close()


def send(conn, value, sql="SELECT $1"):
    """('ok', result) or ('err', exception); the connection must survive."""
    try:
        return "ok", conn.execute(sql, [value]).scalar()
    except (pgatomic.Error, TypeError) as e:
        assert str(e), "an error without a message is not clear"
        # Not a connection or interface problem; a value beyond the server's
        # limits is program_limit_exceeded (54xxx), which psycopg files
        # under OperationalError, and so do we.
        if not (e.__class__.__name__ == "ProgramLimitExceeded" and e.sqlstate == "54000"):
            assert not isinstance(e, (pgatomic.OperationalError, pgatomic.InterfaceError)), e
        return "err", e
    finally:
        assert not conn.closed
        assert conn.execute("SELECT 1").scalar() == 1


# -- text ---------------------------------------------------------------------

@PROPERTY
@given(st.text(alphabet=st.characters(blacklist_categories=())))
def test_text_round_trips_or_refuses_nul_and_surrogates(pconn, s):
    how, r = send(pconn, s, "SELECT $1::text")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in s):
        assert how == "err" and type(r) is pgatomic.DataError, r
        assert "UTF-8" in str(r) and isinstance(r.__cause__, UnicodeEncodeError)
    elif "\x00" in s:
        assert how == "err" and type(r) is pgatomic.DataError, r
        assert "NUL" in str(r)
    else:
        assert how == "ok" and type(r) is str and r == s


@PROPERTY
@given(st.text())
def test_untyped_text_parameter_round_trips(pconn, s):
    how, r = send(pconn, s)
    if "\x00" in s:
        assert how == "err" and isinstance(r, pgatomic.DataError)
    else:
        assert (how, r) == ("ok", s)


# -- numbers ------------------------------------------------------------------

@PROPERTY
@given(st.one_of(st.integers(*INT64), st.integers()))
def test_int_round_trips(pconn, n):
    how, r = send(pconn, n)
    assert how == "ok", r
    if INT64[0] <= n <= INT64[1]:
        assert type(r) is int and r == n
    else:
        assert type(r) is Decimal and r == n and r == r.to_integral_value()


@PROPERTY
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_round_trips_bit_for_bit(pconn, x):
    how, r = send(pconn, x)
    assert how == "ok" and type(r) is float, r
    if math.isnan(x):
        assert math.isnan(r)
    else:
        assert struct.pack("<d", r) == struct.pack("<d", x)     # keeps -0.0 too


@PROPERTY
@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_decimal_round_trips_or_raises_data_error(pconn, d):
    how, r = send(pconn, d)
    if d.is_snan():
        assert how == "err" and isinstance(r, pgatomic.DataError)
        return
    if how == "err":
        # Only what numeric cannot hold: too many digits either side.
        assert isinstance(r, pgatomic.DataError), r
        assert d.is_finite() and (d.adjusted() > 131000 or d.as_tuple().exponent < -16000
                                  or len(d.as_tuple().digits) > 130000), (d, r)
        return
    assert type(r) is Decimal
    if d.is_nan():
        assert r.is_nan()
    elif d.is_infinite():
        assert r == d
    else:
        assert r == d
        if d != 0 and d.as_tuple().exponent <= 0:
            assert r.as_tuple() == d.as_tuple()     # scale kept: 1.50 stays 1.50


# -- bytes ----------------------------------------------------------------------

@PROPERTY
@given(st.binary(max_size=2048))
def test_bytes_round_trip(pconn, b):
    assert send(pconn, b) == ("ok", b)
    assert send(pconn, bytearray(b)) == ("ok", b)
    assert send(pconn, memoryview(b)) == ("ok", b)


# -- dates and times ------------------------------------------------------------

@PROPERTY
@given(st.dates())
def test_date_round_trips(pconn, d):
    how, r = send(pconn, d)
    assert how == "ok" and type(r) is dt.date and r == d


@PROPERTY
@given(st.datetimes())
def test_naive_datetime_round_trips(pconn, t):
    how, r = send(pconn, t)
    assert how == "ok" and type(r) is dt.datetime and r.tzinfo is None and r == t


# Fixed offsets to the second, well beyond the ±15:59:59 PostgreSQL takes.
OFFSETS = st.integers(-86399, 86399).map(lambda s: dt.timezone(dt.timedelta(seconds=s)))


@PROPERTY
@given(st.datetimes(timezones=OFFSETS))
def test_aware_datetime_same_instant_or_clear_error(pconn, t):
    how, r = send(pconn, t)
    if how == "err":
        assert isinstance(r, pgatomic.DataError), r
        off = abs(t.utcoffset())
        utc = t.replace(tzinfo=None) - t.utcoffset()
        # Refused only: an offset PostgreSQL does not take, or an instant
        # before year 1 / after 9999 in UTC, which Python cannot hold.
        assert off > dt.timedelta(hours=15, minutes=59, seconds=59) or not (
            dt.datetime(1, 1, 1) <= utc <= dt.datetime(9999, 12, 31, 23, 59, 59, 999999)), (t, r)
        return
    assert type(r) is dt.datetime and r.utcoffset() == dt.timedelta(0)
    assert r == t


@PROPERTY
@given(st.datetimes(), st.integers(-86_399_999_999, 86_399_999_999))
def test_sub_second_offsets_are_not_rounded_silently(pconn, t, us):
    """Python allows offsets with microseconds; PostgreSQL's are whole
    seconds.  The instant must survive exactly, or be refused clearly."""
    aware = t.replace(tzinfo=dt.timezone(dt.timedelta(microseconds=us)))
    how, r = send(pconn, aware)
    if how == "ok":
        assert r == aware
    else:
        assert isinstance(r, pgatomic.DataError), r


@PROPERTY
@given(st.timedeltas())
def test_timedelta_round_trips(pconn, d):
    how, r = send(pconn, d)
    assert how == "ok" and type(r) is dt.timedelta and r == d, r


# -- arrays -----------------------------------------------------------------------

INT8 = st.one_of(st.none(), st.integers(*INT64))
SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@PROPERTY
@given(st.lists(INT8, min_size=1, max_size=8))
def test_int_array_round_trips(pconn, xs):
    assert send(pconn, xs, "SELECT $1::int8[]") == ("ok", xs)


@PROPERTY
@given(st.lists(st.one_of(st.none(), SAFE_TEXT), min_size=1, max_size=8))
def test_text_array_round_trips(pconn, xs):
    """Quotes, backslashes, braces, commas, 'NULL' and '' all survive."""
    assert send(pconn, xs, "SELECT $1::text[]") == ("ok", xs)


@PROPERTY
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_rectangular_2d_array_round_trips(pconn, rows, cols, data):
    xs = [data.draw(st.lists(INT8, min_size=cols, max_size=cols)) for _ in range(rows)]
    assert send(pconn, xs, "SELECT $1::int8[]") == ("ok", xs)


@PROPERTY
@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=4), min_size=2, max_size=4))
def test_ragged_array_is_refused_clearly(pconn, xs):
    how, r = send(pconn, xs, "SELECT $1::int8[]")
    if len({len(x) for x in xs}) == 1:
        assert (how, r) == ("ok", xs)
    else:
        assert how == "err" and isinstance(r, pgatomic.DataError), r


@PROPERTY
@given(st.integers(1, 10))
def test_deep_arrays_up_to_postgresql_limit(pconn, depth):
    value = 7
    for _ in range(depth):
        value = [value]
    how, r = send(pconn, value, "SELECT $1::int8[]")
    if depth <= 6:                      # PostgreSQL's MAXDIM
        assert (how, r) == ("ok", value)
    else:
        assert how == "err" and isinstance(r, pgatomic.Error), r


@PROPERTY
@given(st.lists(st.one_of(st.integers(*INT64), SAFE_TEXT, st.floats(allow_nan=False)),
                min_size=2, max_size=5))
def test_mixed_arrays_round_trip_or_refuse(pconn, xs):
    kinds = {type(x) for x in xs}
    how, r = send(pconn, xs)
    if len(kinds) > 1:
        assert how == "err" and isinstance(r, (pgatomic.DataError, TypeError)), r
    else:
        assert how == "ok" and r == xs
