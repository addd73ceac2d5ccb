"""Every result of a statement is reachable: a script of several commands
(no parameters, simple protocol) gives one set of rows per command, reached
with ``Result.nextset()`` as in psycopg.  The same scenarios are in
tests/c/test_results.c."""

import pytest

import pgatomic


SCRIPT = ("SELECT 1 AS a; SELECT 2 AS b, 3 AS c UNION ALL SELECT 4, 5;"
          " CREATE TEMP TABLE script_t (x int); INSERT INTO script_t VALUES (7), (8)")


def sets(result):
    """Every set of a Result, from its current one on, as plain data."""
    out = []
    while True:
        out.append((result.columns, result.fetchall(), result.status, result.rowcount))
        if not result.nextset():
            return out


def test_script_gives_every_result(conn):
    r = conn.execute(SCRIPT)
    assert sets(r) == [
        (["a"], [(1,)], "SELECT 1", 1),
        (["b", "c"], [(2, 3), (4, 5)], "SELECT 2", 2),
        ([], [], "CREATE TABLE", -1),
        ([], [], "INSERT 0 2", 2),
    ]
    assert r.nextset() is None                 # psycopg: None after the last


def test_script_result_is_first_set_until_nextset(conn):
    r = conn.execute("SELECT 'first' AS x; SELECT 'second' AS y")
    assert r.columns == ["x"] and r.rows == [("first",)] and len(r) == 1
    assert r.fetchone() == ("first",)
    assert r.nextset() is True
    assert r.columns == ["y"] and r.scalar() == "second" and list(r) == [("second",)]
    assert r.fetchone() == ("second",)         # the fetch position restarts per set
    assert r.dicts() == [{"y": "second"}]


def test_single_statement_has_no_next_set(conn):
    r = conn.execute("SELECT $1::int", [5])
    assert r.rows == [(5,)]
    assert r.nextset() is None
    assert r.rows == [(5,)]


def test_script_in_nested_block_gives_every_result(conn):
    with conn.atomic():
        with conn.atomic():
            r = conn.execute("SELECT 'x'; SELECT 'y'; SELECT 'z'")
            assert [rows for _, rows, _, _ in sets(r)] == [[("x",)], [("y",)], [("z",)]]


def test_script_failing_part_way_gives_no_result(conn):
    with pytest.raises(pgatomic.DataError) as info:
        conn.execute("SELECT 1; SELECT 1/0; SELECT 3")
    assert info.value.sqlstate == "22012"
    assert conn.execute("SELECT 'next'").rows == [("next",)]


def test_script_sets_outlive_the_connection(conn):
    r = conn.execute("SELECT 1; SELECT 2")
    conn.close()
    assert r.scalar() == 1
    assert r.nextset() and r.scalar() == 2
