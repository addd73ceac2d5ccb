"""The binding's SQL control mode, named savepoints and late transaction
options (core: pgatomic.h "Control statements written as SQL", "Savepoints
by name"), which the DB-API driver builds on.  Same scenarios as
tests/c/test_sql_controls.c and tests/node/sql-controls.test.js."""

import pytest

import pgatomic
from pgatomic import _pgatomic

from faultlib import Proxy


def test_sql_controls_answered_without_a_round_trip(conn):
    conn._set_sql_controls(True)
    assert conn.sql_controls
    before = conn.round_trips
    tags = [conn.execute(sql).status for sql in (
        "BEGIN", "SET TRANSACTION READ ONLY", "SAVEPOINT a", "RELEASE a",
        "START TRANSACTION", "COMMIT", "ROLLBACK")]
    assert tags == ["BEGIN", "SET", "SAVEPOINT", "RELEASE", "START TRANSACTION", "COMMIT",
                    "ROLLBACK"]
    assert conn.round_trips == before


def test_sql_controls_off_by_default(conn):
    assert not conn.sql_controls
    before = conn.round_trips
    conn.execute("BEGIN")
    assert conn.round_trips == before + 1
    assert conn.transaction_status == "T"
    conn.execute("ROLLBACK")


def test_sql_controls_local_errors_are_the_servers(conn):
    conn._set_sql_controls(True)
    with pytest.raises(pgatomic.InternalError) as info:
        conn.execute("SAVEPOINT a")
    assert info.value.sqlstate == "25P01"
    assert str(info.value) == "SAVEPOINT can only be used in transaction blocks"
    conn.execute("BEGIN")
    with pytest.raises(pgatomic.DataError):
        conn.execute("SELECT 1/0")
    before = conn.round_trips
    with pytest.raises(pgatomic.InternalError) as info:
        conn.execute("RELEASE a")
    assert info.value.sqlstate == "25P02"
    assert conn.round_trips == before
    with pytest.raises(pgatomic.InternalError, match="answered COMMIT with ROLLBACK"):
        conn.execute("COMMIT")


def test_wire_orm_sql_nested_block_is_three_round_trips(tables, observer):
    table = tables.make("id int PRIMARY KEY")
    proxy = Proxy()
    try:
        c = pgatomic.connect(proxy.dsn())
        c._set_sql_controls(True)
        proxy.command("reset")
        for sql in ("START TRANSACTION", f"INSERT INTO {table} VALUES (1)",
                    "SAVEPOINT typeorm_1", f"INSERT INTO {table} VALUES (2)",
                    "RELEASE SAVEPOINT typeorm_1", "COMMIT"):
            c.execute(sql)
        assert proxy.stats()["round_trips"] == "3"
        c.close()
    finally:
        proxy.close()
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 3


def test_named_savepoints_deferred(conn, tables, observer):
    table = tables.make("id int PRIMARY KEY")
    assert conn._savepoint("x") is None          # outside a transaction: nothing
    conn.set_autocommit(False)
    before = conn.round_trips
    assert conn._savepoint("sp1") == "sp1"
    assert conn._savepoint().startswith("pga_s")
    assert conn.round_trips == before
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn._savepoint('a"b')
    conn.execute(f"INSERT INTO {table} VALUES (2)")
    conn._savepoint_rollback('a"b')
    conn._savepoint_commit("sp1")
    with pytest.raises(pgatomic.ProgrammingError, match="no such savepoint"):
        conn._savepoint_commit("sp1")
    with pytest.raises(pgatomic.InterfaceError, match="savepoint name"):
        conn._savepoint("")
    with pytest.raises(TypeError):
        conn._savepoint(b"sp")
    conn._commit()
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 1


def test_sql_controls_late_transaction_options(conn):
    conn._set_sql_controls(True)
    conn.set_autocommit(False)
    conn._savepoint("early")
    conn._set_txn_options(_pgatomic.ISO_SERIALIZABLE | _pgatomic.READ_ONLY)
    assert conn.txn_options == _pgatomic.ISO_SERIALIZABLE | _pgatomic.READ_ONLY
    row = conn.execute("SELECT current_setting('transaction_isolation'), "
                       "current_setting('transaction_read_only')").fetchone()
    assert row == ("serializable", "on")
    with pytest.raises(pgatomic.TransactionManagementError):
        conn._set_txn_options(0)
    conn.execute("ROLLBACK")
    with pytest.raises(pgatomic.InterfaceError):
        conn._set_txn_options(_pgatomic.READ_ONLY | _pgatomic.READ_WRITE)
    conn._set_txn_options(0)
    conn.set_autocommit(True)


def test_outcome_commit_answered_rollback_names_its_reason(conn):
    """COMMIT answered with ROLLBACK is an error whose __cause__ is the very
    error that aborted the transaction (the core names it)."""
    conn.set_autocommit(False)
    conn.execute("SELECT 1")
    with pytest.raises(pgatomic.DataError) as first:
        conn.execute("SELECT 1/0")
    with pytest.raises(pgatomic.InternalError, match="answered COMMIT with ROLLBACK") as info:
        conn.commit()
    assert info.value.__cause__ is first.value
    assert info.value.sqlstate is None          # the facts are the cause's
    assert first.value.sqlstate == "22012"
    conn.set_autocommit(True)
