"""The placeholder count refuses nothing the server accepts: $n inside
function bodies (dollar-quoted and SQL-standard ones), PREPARE, backslash
strings with standard_conforming_strings off.  Where the client cannot be
sure, the server counts.  The same scenarios are in tests/c/test_sqlscan.c."""

import uuid

import pytest

import pgatomic


@pytest.fixture
def names(conn):
    made = []

    def name(kind):
        n = f"pc_{uuid.uuid4().hex[:10]}"
        made.append((kind, n))
        return n
    yield name
    for kind, n in reversed(made):
        conn.execute(f"DROP {kind} IF EXISTS {n}" if kind != "PREPARED"
                     else f"DEALLOCATE {n}")


def test_placeholder_count_defers_to_server_in_function_bodies(conn, names, table):
    f1, f2, f3, p1 = names("FUNCTION"), names("FUNCTION"), names("FUNCTION"), names("PROCEDURE")
    conn.execute(f"CREATE FUNCTION {f1}(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 + 1 $$")
    conn.execute(f"CREATE FUNCTION {f2}(a int) RETURNS int LANGUAGE sql RETURN $1 + 2")
    conn.execute(f"CREATE OR REPLACE FUNCTION {f3}(a int, b int) RETURNS int LANGUAGE sql"
                 f" BEGIN ATOMIC SELECT $1 * $2; END")
    conn.execute(f"CREATE PROCEDURE {p1}(a int) LANGUAGE sql"
                 f" BEGIN ATOMIC INSERT INTO {table} VALUES ($1, 'from proc'); END")
    assert conn.execute(f"SELECT {f1}(1), {f2}(1), {f3}(2, 3)").rows == [(2, 3, 6)]
    conn.execute(f"CALL {p1}($1)", [7])
    assert conn.execute(f"SELECT v FROM {table} WHERE id = 7").scalar() == "from proc"
    with conn.atomic():                      # inside a block too (savepoint prelude)
        with conn.atomic():
            conn.execute(f"CREATE OR REPLACE FUNCTION {f2}(a int) RETURNS int"
                         f" LANGUAGE sql RETURN $1 + 20")
    assert conn.execute(f"SELECT {f2}(1)").scalar() == 21


def test_placeholder_count_defers_to_server_in_prepare(conn, names):
    q = names("PREPARED")
    conn.execute(f"PREPARE {q}(int) AS SELECT $1 * 2")
    assert conn.execute(f"EXECUTE {q}(21)").scalar() == 42
    # The server counts: a $n the function does not have is its error.
    with pytest.raises(pgatomic.ProgrammingError) as info:
        conn.execute(f"CREATE FUNCTION {names('FUNCTION')}(a int) RETURNS int"
                     f" LANGUAGE sql RETURN $2")
    assert info.value.sqlstate == "42P02"


def test_placeholder_count_reads_backslash_strings_as_the_server_does(conn):
    conn.execute("SET standard_conforming_strings = off")
    try:
        assert conn.execute("SELECT 'it\\'s $1'").scalar() == "it's $1"
        assert conn.execute("SELECT 'a\\'$1', $1::int", [5]).rows == [("a'$1", 5)]
        with pytest.raises(pgatomic.ProgrammingError):      # still counted where sure
            conn.execute("SELECT 'x\\'', $1::int")
    finally:
        conn.execute("SET standard_conforming_strings = on")
    assert conn.execute("SELECT 'a\\', $1::int", [5]).rows == [("a\\", 5)]


def test_placeholder_count_still_refuses_where_it_is_sure(conn):
    with pytest.raises(pgatomic.ProgrammingError) as info:
        conn.execute("SELECT $1, $2", [1])
    assert info.value.sqlstate is None               # refused before sending
    assert "2 placeholders but 1 parameter was passed" in str(info.value)
