"""pgatomic.dbapi's pipeline mode, ``with conn.pipeline():`` (psycopg's):
a manual transaction's statements queue without waiting, a cursor's result
is read when first touched, and k statements then commit() cost one round
trip; where each error surfaces (docs/pipeline.md "The DB-API's
conn.pipeline()").  The core's scenarios of the same names are in
tests/c/test_pipeline.c."""

import pytest

import pgatomic
from pgatomic import dbapi

from faultlib import Proxy
from test_dbapi import _dsn, db  # noqa: F401  (the fixture)


@pytest.fixture
def acct(tables):
    name = tables.make("id int PRIMARY KEY, b int")
    tables.admin.execute(f"INSERT INTO {name} VALUES (1, 100), (2, 0)")
    return name


def trips(conn, body):
    before = conn.round_trips
    body()
    return conn.round_trips - before


def transfer(cur_factory, acct):
    a = cur_factory().execute(f"UPDATE {acct} SET b = b - %s WHERE id = 1", (10,))
    b = cur_factory().execute(f"UPDATE {acct} SET b = b + %s WHERE id = 2", (10,))
    return a, b


def test_dbapi_pipeline_transfer_is_one_round_trip(db, acct, rows):
    out = []

    def body():
        with db.pipeline():
            out.extend(transfer(db.cursor, acct))
            assert db.round_trips == before      # nothing sent yet
            db.commit()
    before = db.round_trips
    assert trips(db, body) == 1
    # The results came with the COMMIT: reading them costs nothing.
    assert trips(db, lambda: out.append(out[1].rowcount)) == 0
    assert out[2] == 1 and out[0].statusmessage == "UPDATE 1"
    assert rows(acct) == [(1, 90), (2, 10)]


def test_dbapi_pipeline_each_transaction_is_pipelined(db, acct, rows):
    with db.pipeline():
        for _ in range(3):
            assert trips(db, lambda: (transfer(db.cursor, acct), db.commit())) == 1
    assert rows(acct) == [(1, 70), (2, 30)]


def test_dbapi_pipeline_fetch_reads_when_first_touched(db, acct, rows):
    with db.pipeline():
        db.cursor().execute(f"UPDATE {acct} SET b = b - 10 WHERE id = 1")
        cur = db.cursor().execute(f"SELECT b FROM {acct} WHERE id = 1")
        assert trips(db, lambda: None) == 0
        # The first touch sends the flight (BEGIN, UPDATE, SELECT): one round trip.
        assert trips(db, lambda: cur.description) == 1
        assert cur.description[0].name == "b"
        assert cur.fetchone() == (90,)
        db.cursor().execute(f"UPDATE {acct} SET b = b + 10 WHERE id = 2")
        assert trips(db, db.commit) == 1
    assert rows(acct) == [(1, 90), (2, 10)]


def test_dbapi_pipeline_connection_execute_is_a_lazy_cursor(db, acct):
    with db.pipeline():
        cur = db.execute(f"SELECT b FROM {acct} WHERE id = %s", (2,))
        assert isinstance(cur, dbapi.Cursor)
        assert trips(db, lambda: None) == 0
        assert trips(db, cur.fetchone) == 1
        db.rollback()


def test_dbapi_pipeline_every_touch_reads(db, acct):
    with db.pipeline():
        for touch in (lambda c: c.fetchall(), lambda c: c.rowcount, lambda c: c.statusmessage,
                      lambda c: c.rownumber, lambda c: c.nextset(), lambda c: list(c),
                      lambda c: c.fetchmany(1)):
            cur = db.cursor().execute(f"SELECT id FROM {acct} ORDER BY id")
            assert trips(db, lambda: touch(cur)) == 1
            assert cur.rowcount == 2
        db.rollback()


def test_dbapi_pipeline_error_surfaces_at_commit(db, acct, rows):
    """Nothing read: commit() sends the flight with COMMIT; the server skips
    everything after the failing INSERT; commit() raises its error after
    rolling back (a second round trip), and every result of the flight
    gives that error."""
    with db.pipeline():
        first, _ = transfer(db.cursor, acct)
        dup = db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
        after = db.cursor().execute(f"INSERT INTO {acct} VALUES (3, 0)")
        with pytest.raises(pgatomic.UniqueViolation) as raised:
            db.commit()
        for cur in (first, dup, after):
            with pytest.raises(pgatomic.UniqueViolation) as again:
                cur.rowcount
            assert again.value is raised.value
        # The connection goes on, in a new pipelined transaction.
        db.cursor().execute(f"INSERT INTO {acct} VALUES (3, 0)")
        db.commit()
    assert rows(acct) == [(1, 100), (2, 0), (3, 0)]


def test_dbapi_pipeline_error_surfaces_at_the_first_touch(db, acct, rows):
    """Reading any result sends the flight, and that read raises the
    flight's first failure (psycopg's rule); afterwards each result gives
    its own outcome.  The transaction is then failed, as after a failed
    statement in normal mode: commit() says it was rolled back."""
    with db.pipeline():
        first, _ = transfer(db.cursor, acct)
        dup = db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
        after = db.cursor().execute(f"SELECT 1")
        with pytest.raises(pgatomic.UniqueViolation):
            after.fetchone()                  # not its own error: the flight's first
        assert first.rowcount == 1
        with pytest.raises(pgatomic.UniqueViolation):
            dup.rowcount
        with pytest.raises(pgatomic.TransactionManagementError) as skipped:
            after.fetchone()                  # now its own: it did not run
        assert isinstance(skipped.value.__cause__, pgatomic.UniqueViolation)
        with pytest.raises(pgatomic.InternalError) as at_commit:
            db.commit()
        assert isinstance(at_commit.value.__cause__, pgatomic.UniqueViolation)
    assert rows(acct) == [(1, 100), (2, 0)]


def test_dbapi_pipeline_exit_is_a_sync_point(db, acct, rows):
    with pytest.raises(pgatomic.UniqueViolation):
        with db.pipeline():
            db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
    assert not db._get_pipeline()
    # The transaction failed; rollback() ends it; nothing was written.
    db.rollback()
    db.cursor().execute(f"INSERT INTO {acct} VALUES (3, 0)")
    db.commit()
    assert rows(acct) == [(1, 100), (2, 0), (3, 0)]


def test_dbapi_pipeline_exit_by_an_exception_keeps_it(db, acct, rows):
    """The block's own exception wins; a sync failure is only logged, and
    the transaction is left failed for the caller's rollback()."""
    with pytest.raises(KeyError):
        with db.pipeline():
            db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
            raise KeyError("mine")
    with pytest.raises(pgatomic.InternalError):
        db.commit()                           # answered with ROLLBACK
    assert rows(acct) == [(1, 100), (2, 0)]


def test_dbapi_pipeline_rollback_rides_in_the_flight(db, acct, rows):
    with db.pipeline():
        transfer(db.cursor, acct)
        assert trips(db, db.rollback) == 1
    assert rows(acct) == [(1, 100), (2, 0)]


def test_dbapi_pipeline_rollback_after_an_unread_failure_reports_it(db, acct, rows):
    """The transaction is rolled back all the same; the failure nobody read
    is rollback()'s news, and each result keeps its own outcome."""
    with db.pipeline():
        first, _ = transfer(db.cursor, acct)
        db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
        after = db.cursor().execute(f"INSERT INTO {acct} VALUES (3, 0)")
        with pytest.raises(pgatomic.UniqueViolation):
            db.rollback()
        assert first.rowcount == 1
        with pytest.raises(pgatomic.TransactionManagementError):
            after.rowcount
    assert rows(acct) == [(1, 100), (2, 0)]


def test_dbapi_pipeline_executemany_joins_the_flight(db, table, rows):
    cur = db.cursor()
    with db.pipeline():
        def body():
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
            db.cursor().execute(f"INSERT INTO {table} VALUES (4, 'd')")
            db.commit()
        assert trips(db, body) == 1
    assert cur.rowcount == 3
    assert [r[0] for r in rows(table)] == [1, 2, 3, 4]


def test_dbapi_pipeline_executemany_of_nothing_sends_nothing(db, table):
    cur = db.cursor()
    with db.pipeline():
        assert trips(db, lambda: cur.executemany(f"INSERT INTO {table} VALUES (%s, 'x')", [])) == 0
        assert cur.rowcount == 0
        assert trips(db, db.commit) == 0


def test_dbapi_pipeline_executemany_failure_raises_at_the_sync(db, table, rows):
    cur = db.cursor()
    with db.pipeline():
        cur.executemany(f"INSERT INTO {table} VALUES (%s, 'x')", [(1,), (1,), (2,)])
        with pytest.raises(pgatomic.UniqueViolation):
            cur.rowcount
        with pytest.raises(pgatomic.UniqueViolation):
            cur.rowcount                      # the failing item's own error, again
        db.rollback()
    assert rows(table) == []


def test_dbapi_pipeline_savepoints_and_blocks_ride_in_the_flight(db, table, rows):
    with db.pipeline():
        def body():
            db.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
            db.savepoint("s1")
            db.cursor().execute(f"INSERT INTO {table} VALUES (2, 'b')")
            db.rollback_to_savepoint("s1")
            with db.atomic():
                db.cursor().execute(f"INSERT INTO {table} VALUES (3, 'c')")
            db.commit()
        assert trips(db, body) == 1
    assert [r[0] for r in rows(table)] == [1, 3]


def test_dbapi_pipeline_control_statement_as_sql_is_a_sync_point(db, acct, rows):
    """COMMIT written as SQL acts on the transaction once the queued
    statements have travelled: the flight, then COMMIT (commit() puts it in
    the flight instead)."""
    with db.pipeline():
        first, _ = transfer(db.cursor, acct)
        assert trips(db, lambda: db.cursor().execute("COMMIT")) == 2
        assert first.rowcount == 1
    assert rows(acct) == [(1, 90), (2, 10)]


def test_dbapi_pipeline_control_statement_as_sql_raises_the_flight_failure(db, acct, rows):
    with db.pipeline():
        db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")
        with pytest.raises(pgatomic.UniqueViolation):
            db.cursor().execute("COMMIT")
        db.rollback()
    assert rows(acct) == [(1, 100), (2, 0)]


def test_dbapi_pipeline_autocommit_statements_run_at_once(db, acct, rows):
    """Outside a transaction a statement is its own transaction: it runs
    when executed, its error raised there.  An atomic block is a
    transaction, and is pipelined."""
    db.autocommit = True
    with db.pipeline():
        assert trips(db, lambda: transfer(db.cursor, acct)) == 2
        with pytest.raises(pgatomic.UniqueViolation):
            db.cursor().execute(f"INSERT INTO {acct} VALUES (1, 0)")

        def block():
            with db.atomic():
                transfer(db.cursor, acct)
        assert trips(db, block) == 1
    assert rows(acct) == [(1, 80), (2, 20)]


def test_dbapi_pipeline_transaction_begun_as_sql_is_pipelined(db, acct, rows):
    """psycopg's idiom, BEGIN written as SQL on an autocommit connection:
    the transaction is pipelined, and commit() ends it in the flight."""
    db.autocommit = True
    with db.pipeline():
        def body():
            db.cursor().execute("BEGIN")
            transfer(db.cursor, acct)
            db.commit()
        assert trips(db, body) == 1
    assert rows(acct) == [(1, 90), (2, 10)]


def test_dbapi_pipeline_blocks_nest(db, acct, rows):
    """Leaving an inner block is a sync point; the mode lasts until the
    outermost one ends."""
    with db.pipeline():
        with db.pipeline() as inner:
            first, _ = transfer(db.cursor, acct)
        assert first.rowcount == 1            # read at the inner exit
        assert db._get_pipeline()
        transfer(db.cursor, acct)
        inner.sync()
        assert trips(db, db.commit) == 1
    assert not db._get_pipeline()
    assert rows(acct) == [(1, 80), (2, 20)]


def test_dbapi_pipeline_inside_atomic_pipeline(db, acct, rows):
    """atomic(pipeline=True) and conn.pipeline() mix: one flight."""
    db.autocommit = True
    with db.pipeline():
        def body():
            with db.atomic(pipeline=True):
                transfer(db.cursor, acct)
        assert trips(db, body) == 1
    assert rows(acct) == [(1, 90), (2, 10)]


def test_dbapi_pipeline_named_cursor_reads_at_once(db, acct):
    with db.pipeline():
        db.cursor().execute(f"UPDATE {acct} SET b = b - 10 WHERE id = 1")
        named = db.cursor("pl_named")
        named.execute(f"SELECT b FROM {acct} ORDER BY id")
        assert named.fetchall() == [(90,), (0,)]
        db.rollback()


def test_dbapi_pipeline_close_settles_what_waits(acct):
    c = dbapi.connect(_dsn())
    with c.pipeline():
        cur = c.cursor().execute(f"UPDATE {acct} SET b = 0")
        c.close()
    with pytest.raises(pgatomic.InterfaceError):
        cur.rowcount
    assert not c._get_pipeline()


# ---- counted on the wire (the proxy), as tests/c/test_wire_round_trips.c

@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


def test_wire_dbapi_pipeline_transfer(proxy, acct, rows):
    conn = dbapi.connect(proxy.dsn())
    try:
        conn.cursor().execute("SELECT 1")
        conn.rollback()
        assert proxy.command("reset") == "ok"
        with conn.pipeline():
            transfer(conn.cursor, acct)
            conn.commit()
        assert int(proxy.stats()["round_trips"]) == 1
    finally:
        conn.close()
    assert rows(acct) == [(1, 90), (2, 10)]
