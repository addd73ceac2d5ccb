"""Server-side (named) cursors of pgatomic.dbapi, psycopg's ServerCursor:
conn.cursor(name) declares the query on the server and every fetch asks for
that many rows (FETCH FORWARD n), so a large result is never held whole.
The rules are python/pgatomic/_server_cursor.py's docstring."""

import os
import subprocess
import sys

import pytest

import pgatomic
from pgatomic import dbapi

HOLD_THROUGH_POOLER = (
    "a WITH HOLD cursor used outside a transaction lives in one server session; "
    "a transaction-mode pooler runs each statement on whichever session is free "
    "(docs/sqlalchemy.md, 'Server-side cursors')")


def server_cursors(conn):
    """The named cursors the session holds (the unnamed portal of this very
    query left out)."""
    cur = conn.cursor()
    cur.execute("SELECT name, is_holdable, is_scrollable FROM pg_cursors "
                "WHERE name <> '' ORDER BY name")
    return cur.fetchall()


@pytest.fixture
def dconn(pgatomic_dsn):
    c = dbapi.connect(pgatomic_dsn)
    yield c
    c.close()


def test_named_cursor_fetches_each_call_from_the_server(dconn):
    cur = dconn.cursor("ss_fetch")
    assert isinstance(cur, dbapi.ServerCursor) and cur.name == "ss_fetch"
    before = dconn.round_trips
    assert cur.execute("SELECT g, 'r' || g FROM generate_series(1, 10) g WHERE g > %s",
                       (2,)) is cur
    assert dconn.round_trips - before == 1           # BEGIN rides with the DECLARE
    # scrollable=None: the server chooses (this plan can go back).
    assert server_cursors(dconn) == [("ss_fetch", False, True)]
    before = dconn.round_trips
    assert cur.fetchone() == (3, "r3") and cur.statusmessage == "FETCH 1"
    assert cur.fetchmany(3) == [(4, "r4"), (5, "r5"), (6, "r6")]
    assert cur.statusmessage == "FETCH 3"
    assert cur.rownumber == 4 and cur.rowcount == 4
    assert [d.name for d in cur.description] == ["g", "?column?"]
    assert cur.fetchall() == [(7, "r7"), (8, "r8"), (9, "r9"), (10, "r10")]
    assert cur.fetchone() is None and cur.fetchmany(5) == []
    assert dconn.round_trips - before == 5            # one FETCH per call
    cur.close()
    assert cur.closed and server_cursors(dconn) == []
    dconn.commit()


def test_named_cursor_iterates_itersize_rows_per_round_trip(dconn):
    cur = dconn.cursor("ss_iter")
    assert cur.itersize == 100                        # psycopg's default
    cur.itersize = 7
    cur.execute("SELECT generate_series(1, 20)")
    before = dconn.round_trips
    assert [r[0] for r in cur] == list(range(1, 21))
    assert dconn.round_trips - before == 3            # 7 + 7 + 6: the short page ends it
    cur.close()
    dconn.rollback()


def test_fetch_methods_hand_out_an_iteration_page_first(dconn):
    cur = dconn.cursor("ss_page")
    cur.itersize = 5
    cur.execute("SELECT generate_series(1, 12)")
    assert next(cur) == (1,)                          # the page holds 2..5
    before = dconn.round_trips
    assert cur.fetchmany(3) == [(2,), (3,), (4,)]
    assert dconn.round_trips == before                # from the page
    assert cur.fetchmany(3) == [(5,), (6,), (7,)]     # 5, then FETCH FORWARD 2
    assert cur.fetchall() == [(i,) for i in range(8, 13)]
    assert cur.rownumber == 12
    cur.close()
    dconn.rollback()


def test_description_before_any_fetch_moves_no_row(dconn):
    cur = dconn.cursor("ss_describe")
    cur.execute("SELECT 1 AS a, 'x'::text AS b UNION ALL SELECT 2, 'y'")
    before = dconn.round_trips
    assert [d.name for d in cur.description] == ["a", "b"]   # FETCH FORWARD 0
    assert cur.description[0].type_code == 23
    assert dconn.round_trips - before == 1
    assert cur.rowcount == -1 and cur.rownumber == 0
    assert cur.fetchall() == [(1, "x"), (2, "y")]
    assert dconn.round_trips - before == 2
    cur.close()
    dconn.rollback()


def test_named_cursor_takes_both_placeholder_styles_and_any_name(dconn):
    cur = dconn.cursor('odd "name" 100%')
    cur.execute("SELECT %(a)s::int + %(b)s, '%%'", {"a": 40, "b": 2})
    assert cur.fetchall() == [(42, "%")]
    cur.execute("SELECT $1::text || $2", ["a", "b"])  # re-executing closes the first
    assert cur.fetchone() == ("ab",)
    assert server_cursors(dconn) == [('odd "name" 100%', False, False)]
    cur.close()
    assert server_cursors(dconn) == []
    dconn.rollback()


def test_scrollable_cursor_scrolls_as_psycopg(dconn):
    cur = dconn.cursor("ss_scroll", scrollable=True)
    cur.execute("SELECT generate_series(1, 10)")
    assert server_cursors(dconn) == [("ss_scroll", False, True)]
    cur.scroll(3)
    assert cur.fetchone() == (4,) and cur.rownumber == 4
    cur.scroll(0, mode="absolute")
    assert cur.fetchone() == (1,)
    cur.scroll(-1)
    assert cur.fetchone() == (1,)
    with pytest.raises(ValueError):
        cur.scroll(1, mode="sideways")
    no_scroll = dconn.cursor("ss_noscroll", scrollable=False)
    no_scroll.execute("SELECT generate_series(1, 3)")
    assert no_scroll.fetchone() == (1,)
    with pytest.raises(pgatomic.errors.ObjectNotInPrerequisiteState):
        no_scroll.scroll(-1)                          # the server refuses
    dconn.rollback()


def test_cursor_without_hold_ends_with_its_transaction(dconn):
    cur = dconn.cursor("ss_txn")
    cur.execute("SELECT generate_series(1, 3)")
    assert cur.fetchone() == (1,)
    dconn.commit()
    before = dconn.round_trips
    with pytest.raises(pgatomic.errors.InvalidCursorName, match="ended with its transaction"):
        cur.fetchone()
    cur.close()                                       # nothing to CLOSE
    assert dconn.round_trips == before
    # The next transaction is not touched by either.
    c = dconn.cursor()
    c.execute("SELECT 1")
    assert c.fetchone() == (1,)
    dconn.commit()


def test_cursor_closed_after_a_new_transaction_began_sends_nothing(dconn):
    cur = dconn.cursor("ss_stale")
    cur.execute("SELECT 1")
    dconn.rollback()
    dconn.cursor().execute("SELECT 2")                # a new transaction is open
    before = dconn.round_trips
    cur.close()
    assert dconn.round_trips == before and dconn.transaction_status == "T"
    dconn.commit()


def test_declare_without_hold_in_autocommit_is_refused_as_by_psycopg(pgatomic_dsn):
    conn = dbapi.connect(pgatomic_dsn, autocommit=True)
    try:
        with pytest.raises(pgatomic.errors.NoActiveSqlTransaction,
                           match="transaction blocks"):
            conn.cursor("ss_auto").execute("SELECT 1")
    finally:
        conn.close()


@pytest.mark.needs_session(HOLD_THROUGH_POOLER)
def test_cursor_with_hold_outlives_commit_and_autocommit(pgatomic_dsn):
    conn = dbapi.connect(pgatomic_dsn)
    try:
        cur = conn.cursor("ss_hold", withhold=True)
        assert cur.withhold is True
        cur.execute("SELECT generate_series(1, 4)")
        assert cur.fetchone() == (1,)
        conn.commit()
        assert cur.fetchmany(2) == [(2,), (3,)]
        conn.commit()
        conn.autocommit = True
        assert server_cursors(conn) == [("ss_hold", True, False)]
        assert cur.fetchall() == [(4,)]
        cur.close()
        assert server_cursors(conn) == []
        auto = conn.cursor("ss_hold_auto", withhold=True)
        auto.execute("SELECT %s::int", (7,))
        assert auto.fetchall() == [(7,)]
        auto.close()
        assert server_cursors(conn) == []
    finally:
        conn.close()


def test_failed_transaction_close_sends_nothing(dconn):
    cur = dconn.cursor("ss_failed")
    cur.execute("SELECT 1")
    with pytest.raises(pgatomic.errors.DivisionByZero):
        dconn.cursor().execute("SELECT 1/0")
    before = dconn.round_trips
    cur.close()
    assert dconn.round_trips == before
    dconn.rollback()


def test_named_cursor_errors_are_the_servers_and_psycopgs(dconn):
    with pytest.raises(TypeError):
        dconn.cursor(b"bytes")
    cur = dconn.cursor("ss_err")
    with pytest.raises(dbapi.NotSupportedError):
        cur.executemany("SELECT %s", [(1,)])
    with pytest.raises(dbapi.InterfaceError):
        cur.fetchone()                                # not executed yet
    with pytest.raises(pgatomic.errors.SyntaxError):
        cur.execute("UPDATE nothing SET")
    dconn.rollback()
    cur.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
    assert isinstance(dconn.cursor(), dbapi.Cursor)
    assert not isinstance(dconn.cursor(), dbapi.ServerCursor)


# Run in a process of its own, so its peak is its own and the memory it
# frees leaves no trace in the test process (test_leaks.py meters RSS).
_READER = r"""
import resource, sys
from pgatomic import dbapi
kind, n, itersize = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sql = "SELECT g, repeat('x', 100) FROM generate_series(1, %s) g"
conn = dbapi.connect()
conn.cursor().execute("SELECT 1").fetchall()          # every path loaded first
cur = conn.cursor("ss_big") if kind == "named" else conn.cursor()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cur.execute(sql, (n,))
seen, fetches, most = 0, 0, 0
if kind == "named":
    cur.itersize = itersize
    trips = conn.round_trips
    for row in cur:
        seen += 1
        most = max(most, int(cur.statusmessage.split()[1]))
    fetches = conn.round_trips - trips
else:
    seen = len(cur.fetchall())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seen, fetches, most, (peak - before) * 1024)
"""


def _read_in_a_process(kind, n, itersize):
    out = subprocess.run([sys.executable, "-c", _READER, kind, str(n), str(itersize)],
                         check=True, capture_output=True, text=True, timeout=300).stdout
    return [int(x) for x in out.split()]


def test_named_cursor_over_many_rows_holds_one_page():
    """200,000 rows of about 100 bytes: a named cursor read by iteration
    (itersize 1000) holds one page at a time, on the wire (no FETCH answers
    more than itersize rows) and in the process's peak RSS (libpq's results
    included); the same SELECT on a plain cursor holds all of them."""
    n, itersize = 200_000, 1000
    seen, fetches, most, named_growth = _read_in_a_process("named", n, itersize)
    assert seen == n and most == itersize
    assert fetches == n // itersize + 1               # + the empty last page
    seen, _, _, plain_growth = _read_in_a_process("plain", n, itersize)
    assert seen == n
    assert plain_growth > 20 * 2**20, plain_growth   # the meter sees a whole result (~72 MB)
    assert named_growth < 8 * 2**20, named_growth    # about one page


# -- asyncio ------------------------------------------------------------------------

async def aconnect(**kwargs):
    return await dbapi.connect_async(os.environ.get("DATABASE_URL"), **kwargs)


async def test_async_named_cursor_is_described_at_execute_and_fetches_on_demand():
    conn = await aconnect()
    try:
        cur = conn.cursor("ss_async")
        assert isinstance(cur, dbapi.AsyncServerCursor) and cur.name == "ss_async"
        before = conn.round_trips
        assert await cur.execute("SELECT g FROM generate_series(1, %s) g", (25,)) is cur
        assert conn.round_trips - before == 2      # DECLARE, FETCH FORWARD 0
        assert [d.name for d in cur.description] == ["g"]
        assert await cur.fetchone() == (1,) and cur.statusmessage == "FETCH 1"
        assert await cur.fetchmany(2) == [(2,), (3,)]
        cur.itersize = 10
        assert [r[0] async for r in cur] == list(range(4, 26))
        assert cur.rownumber == 25 and cur.rowcount == 25
        await cur.close()
        assert cur.closed
        c = conn.cursor()
        await c.execute("SELECT count(*) FROM pg_cursors WHERE name <> ''")
        assert await c.fetchone() == (0,)
        await conn.commit()
        with pytest.raises(dbapi.NotSupportedError):
            await conn.cursor("x").executemany("SELECT 1", [()])
    finally:
        await conn.close()


async def test_async_cursor_without_hold_ends_with_its_transaction():
    conn = await aconnect()
    try:
        cur = conn.cursor("ss_async_txn", scrollable=False)
        await cur.execute("SELECT generate_series(1, 3)")
        await conn.rollback()
        with pytest.raises(pgatomic.errors.InvalidCursorName):
            await cur.fetchall()
        before = conn.round_trips
        await cur.close()
        assert conn.round_trips == before
    finally:
        await conn.close()


# -- through SQLAlchemy: stream_results / yield_per -----------------------------------

def test_sqlalchemy_stream_results_reads_a_named_cursor_in_bounded_batches():
    sqlalchemy = pytest.importorskip("sqlalchemy")
    env = os.environ
    url = sqlalchemy.URL.create(
        "postgresql+pgatomic", username=env.get("PGUSER"), database=env.get("PGDATABASE"),
        query={"host": env["PGHOST"], "port": env.get("PGPORT", "5432")})
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=100).execute(
                sqlalchemy.text("SELECT generate_series(1, 1000)"))
            cursor = result.cursor
            assert isinstance(cursor, dbapi.ServerCursor)
            raw = conn.connection.dbapi_connection
            before = raw.round_trips
            tags = []
            seen = 0
            for row in result:
                seen += 1
                if not tags or tags[-1][0] != raw.round_trips:
                    tags.append((raw.round_trips, cursor.statusmessage))
            assert seen == 1000
            # SQLAlchemy's BufferedRowCursorFetchStrategy asks for 1 row, then
            # up to yield_per rows at a time: no FETCH brings more than 100.
            sizes = [int(tag.split()[1]) for _, tag in tags]
            assert max(sizes) == 100 and sum(sizes) == 1000, sizes
            assert sizes[:4] == [1, 5, 25, 100]       # SQLAlchemy's growth, then yield_per
            assert raw.round_trips - before == len(sizes) + 1   # + the empty last FETCH
            result.close()
            assert server_cursors(raw) == []          # the result closed it
        with engine.connect() as conn:                # without the option: buffered
            plain = conn.execute(sqlalchemy.text("SELECT 1")).cursor
            assert not isinstance(plain, dbapi.ServerCursor)
    finally:
        engine.dispose()
