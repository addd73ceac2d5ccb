"""Prepared statements: a text run often is prepared on the session once
(pgatomic.h "Prepared statements"); results and round trips stay the same."""

import os

import pytest

import pgatomic
from faultlib import Proxy

# Through a transaction-mode pooler the core must never prepare (the next
# transaction may run on a server session without the statement).
BEHIND_POOLER = bool(os.environ.get("PGA_VIA_PGBOUNCER"))


def test_statement_is_prepared_at_the_threshold(conn):
    assert conn.prepare_threshold == 4        # psycopg's default: at the 5th run
    conn.prepare_threshold = 2          # psycopg's meaning: prepared at the 3rd run
    assert conn.prepare_threshold == 2
    for i in range(1, 7):
        assert conn.execute("SELECT $1::int * 10", [i]).rows == [(i * 10,)]
        # The first text due on a session runs unnamed once more, with
        # SELECT pg_backend_pid() riding behind it (the pooler check).
        assert conn._prepared_count() == (0 if BEHIND_POOLER or i <= 3 else 1)


def test_prepared_block_statements_keep_their_round_trips(conn, tables):
    t = tables.make("id int")
    conn.prepare_threshold = 0
    for i in range(5):
        before = conn.round_trips
        with pgatomic.atomic(conn):
            conn.execute(f"INSERT INTO {t} VALUES ($1)", [i])
        assert conn.round_trips - before == 2
    # The INSERT: control statements keep their text on the wire.
    assert conn._prepared_count() == (0 if BEHIND_POOLER else 1)
    assert conn.execute(f"SELECT count(*), sum(id) FROM {t}").rows == [(5, 10)]


def test_prepare_threshold_none_never_prepares(conn):
    conn.prepare_threshold = None
    assert conn.prepare_threshold is None
    for _ in range(8):
        assert conn.execute("SELECT 7").rows == [(7,)]
    assert conn._prepared_count() == 0
    with pytest.raises(ValueError):
        conn.prepare_threshold = -1


class Rollback(Exception):
    """Leaves a block by rolling it back."""


def others_on_server(conn):
    """Ours on the session's server, not counting the statement that asks
    (which a low threshold prepares too)."""
    return conn.execute(
        "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pga\\_%'"
        " AND statement NOT LIKE '%pg\\_prepared\\_statements%'").rows[0][0]


def test_rollback_deallocates_in_the_same_round_trip():
    # psycopg's rule: a rollback forgets every prepared text and the server
    # drops them (DEALLOCATE ALL), here behind the ROLLBACK in its flight.
    prepared = 0 if BEHIND_POOLER else 1
    proxy = Proxy()
    try:
        conn = pgatomic.connect(proxy.dsn())
        try:
            conn.prepare_threshold = 0
            conn.execute("SELECT 3")          # learns the backend's pid
            conn.execute("SELECT 3")
            assert others_on_server(conn) == prepared
            assert proxy.command("reset") == "ok"
            with pytest.raises(Rollback):
                with pgatomic.atomic(conn):
                    assert conn.execute("SELECT 3").rows == [(3,)]
                    raise Rollback
            # BEGIN + SELECT, then ROLLBACK + DEALLOCATE ALL.
            assert int(proxy.stats()["round_trips"]) == 2
            assert conn._prepared_count() == 0
            assert others_on_server(conn) == 0
            conn.execute("SELECT 3")          # counted again from the start
            assert others_on_server(conn) == prepared
        finally:
            conn.close()
    finally:
        proxy.close()


def test_table_recreated_by_another_session_after_a_rollback(conn, tables):
    # SQLAlchemy's compliance suite: another pooled connection makes the
    # table again with another column type; the pool's reset (a rollback)
    # came in between, as it always does.  No 0A000.
    t = tables.make("x int")
    tables.admin.execute(f"INSERT INTO {t} VALUES (1)")
    conn.prepare_threshold = 0
    for column in ("x text", "x int", "x text"):
        for _ in range(3):
            with pytest.raises(Rollback):
                with pgatomic.atomic(conn):
                    assert conn.execute(f"SELECT x FROM {t}").rows[0][0] in (1, "1")
                    raise Rollback
        tables.admin.execute(f"DROP TABLE {t}")
        tables.admin.execute(f"CREATE TABLE {t} ({column})")
        tables.admin.execute(f"INSERT INTO {t} VALUES ('1')")
    with pgatomic.atomic(conn):
        assert conn.execute(f"SELECT x FROM {t}").rows == [("1",)]


def test_dbapi_connect_takes_prepare_threshold(pgatomic_dsn):
    # psycopg's keyword and meaning; libpq would refuse it as a conninfo key,
    # so connecting at all shows it never reached the connection string.
    from pgatomic import dbapi
    c = dbapi.connect(pgatomic_dsn, prepare_threshold=None)
    try:
        assert c.prepare_threshold is None
        cursor = c.cursor()
        for _ in range(8):
            assert cursor.execute("SELECT 8").fetchone() == (8,)
        assert c._prepared_count() == 0
    finally:
        c.close()
    c = dbapi.connect(pgatomic_dsn, prepare_threshold=1)
    try:
        assert c.prepare_threshold == 1
    finally:
        c.close()
    c = dbapi.connect(pgatomic_dsn)
    try:
        assert c.prepare_threshold == 4           # left out: the default
    finally:
        c.close()
    with pytest.raises(ValueError, match="prepare_threshold"):
        dbapi.connect(pgatomic_dsn, prepare_threshold=-1)
