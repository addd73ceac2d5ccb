"""Round trips: BEGIN, SAVEPOINT and RELEASE travel with user statements."""

import pytest

import pgatomic
from pgatomic import transaction


def trips(conn, body):
    before = conn.round_trips
    body()
    return conn.round_trips - before


def test_empty_block_sends_nothing():
    conn = pgatomic.connections["default"]
    conn.execute("SELECT 1")

    def body():
        with transaction.atomic():
            with transaction.atomic():
                pass
    assert trips(conn, body) == 0


def test_insert_block_costs_two_round_trips(table, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic():
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert trips(conn, body) == 2          # BEGIN+INSERT, COMMIT
    assert rows(table) == [(1, "a")]


def test_transfer_block_costs_three_round_trips(tables, rows):
    acct = tables.make("id int PRIMARY KEY, balance int")
    conn = pgatomic.connections["default"]
    conn.execute(f"INSERT INTO {acct} VALUES (1, 100), (2, 0)")

    def body():
        with transaction.atomic():
            conn.execute(f"UPDATE {acct} SET balance = balance - $1 WHERE id = 1", [30])
            conn.execute(f"UPDATE {acct} SET balance = balance + $1 WHERE id = 2", [30])
    assert trips(conn, body) == 3
    assert rows(acct) == [(1, 70), (2, 30)]


def test_nested_block_costs_three_round_trips(table, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic():
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")      # BEGIN+INSERT
            with transaction.atomic():
                conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")  # SAVEPOINT+INSERT
        # RELEASE rides with COMMIT
    assert trips(conn, body) == 3
    assert rows(table) == [(1, "a"), (2, "b")]


def test_executemany_in_a_block_is_one_batch(table, rows):
    conn = pgatomic.connections["default"]

    def body():
        with transaction.atomic():
            conn.executemany(f"INSERT INTO {table} VALUES ($1, $2)",
                             [(i, str(i)) for i in range(50)])
            conn.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [])   # free
    assert trips(conn, body) == 2          # BEGIN + 50 INSERTs, COMMIT
    assert len(rows(table)) == 50


def test_executemany_failure_in_a_block_breaks_it_like_a_loop(table, rows):
    conn = pgatomic.connections["default"]
    with pytest.raises(transaction.TransactionManagementError) as info:
        with transaction.atomic():
            with pytest.raises(pgatomic.UniqueViolation) as failed:
                conn.executemany(f"INSERT INTO {table} VALUES ($1, 'x')", [(1,), (2,), (1,), (3,)])
            conn.execute("SELECT 1")
    assert info.value.__cause__ is failed.value
    assert rows(table) == []


def test_executemany_bad_item_in_a_block_after_good_ones(table, rows):
    conn = pgatomic.connections["default"]
    with transaction.atomic():
        with pytest.raises(pgatomic.ProgrammingError) as info:
            conn.executemany(f"INSERT INTO {table} VALUES ($1, 'x')", [(1,), (2,), (object(),)])
        assert str(info.value) == "cannot adapt type 'object'"
        with pytest.raises(pgatomic.ProgrammingError) as info:
            conn.executemany(f"INSERT INTO {table} VALUES ($1, 'x')", [(3,), (4, 5)])
        assert str(info.value) == "the query has 1 placeholder but 2 parameters were passed"
    # What was added before the bad item ran, as in a loop.
    assert rows(table) == [(1, "x"), (2, "x"), (3, "x")]


def test_executemany_in_autocommit_stops_at_first_failure(table, rows):
    conn = pgatomic.connections["default"]
    with pytest.raises(pgatomic.UniqueViolation):
        conn.executemany(f"INSERT INTO {table} VALUES ($1, 'x')", [(1,), (1,), (2,)])
    assert rows(table) == [(1, "x")]


def test_executemany_in_manual_mode_is_one_batch(table, rows):
    conn = pgatomic.connections["default"]
    transaction.set_autocommit(False)
    try:
        def body():
            conn.executemany(f"INSERT INTO {table} VALUES ($1, 'm')", [(1,), (2,), (3,)])
            transaction.commit()
        assert trips(conn, body) == 2
    finally:
        transaction.set_autocommit(True)
    assert rows(table) == [(1, "m"), (2, "m"), (3, "m")]
