"""Prepared statements: a text run often is prepared on the session once
(pgatomic.h "Prepared statements"); results and round trips stay the same."""

import os

import pytest

import pgatomic

# Through a transaction-mode pooler the core must never prepare (the next
# transaction may run on a server session without the statement).
BEHIND_POOLER = bool(os.environ.get("PGA_VIA_PGBOUNCER"))


def test_statement_is_prepared_at_the_threshold(conn):
    assert conn.prepare_threshold is None     # off by default (docs/core.md)
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
