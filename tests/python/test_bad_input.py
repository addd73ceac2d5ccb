"""Bad input raises a clear exception of the right class, and nothing
already committed is lost."""

import threading

import pytest

import pgatomic
from pgatomic import transaction


def committed_then(table, rows, action):
    """Commit a row, run the bad action inside a block, check the row."""
    with transaction.atomic():
        pgatomic.connection.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
    with pytest.raises(Exception) as info:
        action()
    assert rows(table) == [(1, "kept")]
    return info.value


@pytest.mark.parametrize("sql", [b"SELECT 1", 42, None, ["SELECT 1"]])
def test_non_str_sql_raises_type_error(table, rows, sql):
    err = committed_then(table, rows, lambda: pgatomic.connection.execute(sql))
    assert type(err) is TypeError
    assert "must be a str" in str(err)


def test_wrong_parameter_count_raises_programming_error(table, rows):
    c = pgatomic.connection
    err = committed_then(table, rows, lambda: c.execute(
        f"INSERT INTO {table} VALUES ($1, $2)", [2]))
    assert type(err) is pgatomic.ProgrammingError
    assert str(err) == "the query has 2 placeholders but 1 parameter was passed"
    with pytest.raises(pgatomic.ProgrammingError) as info:
        c.execute("SELECT $1", [1, 2])
    assert str(info.value) == "the query has 1 placeholder but 2 parameters were passed"
    # A $ inside a literal is not a placeholder.
    assert c.execute("SELECT '$1' || $1", ["x"]).scalar() == "$1x"


def test_wrong_count_inside_block_does_not_break_it(table, rows):
    with transaction.atomic():
        pgatomic.connection.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        with pytest.raises(pgatomic.ProgrammingError):
            pgatomic.connection.execute("SELECT $1, $2", [1])
        pgatomic.connection.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    assert rows(table) == [(1, "a"), (2, "b")]


def test_unsupported_type_raises_programming_error(table, rows):
    class Thing:
        pass

    err = committed_then(table, rows, lambda: pgatomic.connection.execute(
        "SELECT $1", [Thing()]))
    assert type(err) is pgatomic.ProgrammingError
    assert str(err) == "cannot adapt type 'Thing'"
    with pytest.raises(pgatomic.ProgrammingError) as info:
        pgatomic.connection.execute("SELECT $1", [{1, 2}])
    assert str(info.value) == "cannot adapt type 'set'"


def test_nul_byte_in_text_parameter_raises_data_error(table, rows):
    err = committed_then(table, rows, lambda: pgatomic.connection.execute(
        f"INSERT INTO {table} VALUES (2, $1)", ["a\x00b"]))
    assert type(err) is pgatomic.DataError
    assert str(err)


def test_nul_byte_in_sql_raises_data_error(table, rows):
    err = committed_then(table, rows, lambda: pgatomic.connection.execute(
        f"SELECT 1\x00; DELETE FROM {table}"))
    assert type(err) is pgatomic.DataError
    assert str(err) == "the query contains a NUL (0x00) byte"


def test_mixed_array_types_raise_data_error(conn):
    with pytest.raises(pgatomic.DataError):
        conn.execute("SELECT $1", [[1, "a"]])


def test_params_must_be_a_sequence(conn):
    with pytest.raises(TypeError):
        conn.execute("SELECT $1", "a")
    with pytest.raises(TypeError):
        conn.execute("SELECT $1", 5)


def test_closed_connection_raises_interface_error(table, rows):
    c = pgatomic.connect()
    c.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
    c.close()
    assert c.closed
    for action in (lambda: c.execute("SELECT 1"),
                   lambda: c.executemany("SELECT $1", [[1]])):
        with pytest.raises(pgatomic.InterfaceError) as info:
            action()
        assert isinstance(info.value, pgatomic.Error)
        assert str(info.value) == "the connection is closed"
    c.close()                                    # closing twice is fine
    assert rows(table) == [(1, "kept")]


def test_another_threads_connection_raises_programming_error(table, rows):
    c = pgatomic.connections["default"]      # the object, not the proxy
    c.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
    errors = []

    def other():
        for action in (lambda: c.execute("SELECT 1"),
                       lambda: c._atomic_enter(0),
                       lambda: c.atomic().__enter__()):
            try:
                action()
            except Exception as e:
                errors.append(e)

    with transaction.atomic():
        c.execute(f"INSERT INTO {table} VALUES (2, 'mine')")
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert c.atomic_depth == 1
    assert len(errors) == 3
    assert all(type(e) is pgatomic.ProgrammingError for e in errors)
    assert "can only be used in that same thread" in str(errors[0])
    assert rows(table) == [(1, "kept"), (2, "mine")]


def test_server_error_in_autocommit_keeps_connection_usable(conn, table, rows):
    with pytest.raises(pgatomic.ProgrammingError) as info:
        conn.execute("SELEC 1")
    assert info.value.sqlstate == "42601"
    conn.execute(f"INSERT INTO {table} VALUES (1, 'ok')")
    assert rows(table) == [(1, "ok")]


def test_unknown_alias_and_bad_using():
    with pytest.raises(KeyError):
        transaction.atomic(using="missing").__enter__()
    with pytest.raises(TypeError):
        transaction.get_autocommit(using=3)
