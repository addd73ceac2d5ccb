"""Two-phase commit on pgatomic.Connection, with the DB-API's names (as
psycopg has them).  Same scenario names as tests/c/test_twophase.c and
tests/node/twophase.test.js."""

import os

import pytest

import pgatomic
from pgatomic import Xid

DSN = os.environ.get("DATABASE_URL") or None


@pytest.fixture
def gids(observer):
    """Prepared transactions the test leaves behind are rolled back."""
    made = []
    yield made
    for gid in made:
        if observer.execute("SELECT 1 FROM pg_prepared_xacts WHERE gid = $1", [gid]).fetchone():
            observer.execute(f"ROLLBACK PREPARED '{gid}'")


def prepared_gids(conn):
    return [str(x) for x in conn.tpc_recover()]


def test_twophase_prepare_then_commit_from_a_new_connection(conn, tables, observer, gids):
    table = tables.make("id int PRIMARY KEY")
    xid = conn.xid(42, "py-commit", "branch-1")
    gids.append(str(xid))
    conn.tpc_begin(xid)
    assert not conn.autocommit
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_prepare()
    assert conn.transaction_status == "I"
    assert observer.execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid = $1",
                            [str(xid)]).scalar() == 1
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 0
    other = pgatomic.connect(DSN)
    try:
        recovered = [x for x in other.tpc_recover() if x == xid]
        assert len(recovered) == 1
        assert (recovered[0].format_id, recovered[0].gtrid, recovered[0].bqual) == \
            (42, "py-commit", "branch-1")
        assert recovered[0].database and recovered[0].owner and recovered[0].prepared
        other.tpc_commit(xid)
    finally:
        other.close()
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 1
    # the first connection's two-phase transaction is still open until finished
    with pytest.raises(pgatomic.ProgrammingError):
        conn.commit()
    with pytest.raises(pgatomic.ProgrammingError):
        conn.tpc_prepare()


def test_twophase_prepare_then_rollback_from_a_new_connection(conn, tables, observer, gids):
    table = tables.make("id int PRIMARY KEY")
    gids.append("py-rollback")
    conn.tpc_begin("py-rollback")
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_prepare()
    other = pgatomic.connect(DSN)
    try:
        assert "py-rollback" in prepared_gids(other)
        other.tpc_rollback("py-rollback")
        assert "py-rollback" not in prepared_gids(other)
        assert other.transaction_status == "I"
    finally:
        other.close()
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 0


def test_twophase_recover_after_a_client_restart(tables, observer, gids):
    table = tables.make("id int PRIMARY KEY")
    gids.append("py-recover")
    c = pgatomic.connect(DSN)
    c.tpc_begin("py-recover")
    c.execute(f"INSERT INTO {table} VALUES (7)")
    c.tpc_prepare()
    c.close()                                  # the client goes away
    c = pgatomic.connect(DSN)
    try:
        [xid] = [x for x in c.tpc_recover() if x.gtrid == "py-recover"]
        assert xid.format_id is None and xid.bqual is None
        c.tpc_commit(xid)
    finally:
        c.close()
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 7


def test_twophase_one_phase_commit_and_autocommit_restored(conn, tables, observer):
    table = tables.make("id int PRIMARY KEY")
    conn.tpc_begin("py-one-phase")
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_commit()                            # not prepared: an ordinary COMMIT
    assert conn.autocommit
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 1
    assert "py-one-phase" not in prepared_gids(conn)


def test_twophase_prepare_inside_a_savepoint_is_refused(conn, tables, observer, gids):
    table = tables.make("id int PRIMARY KEY")
    gids.append("py-sp")
    with pytest.raises(pgatomic.ProgrammingError, match="inside a two-phase"):
        conn.tpc_prepare()
    conn.tpc_begin("py-sp")
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (2)")
        before = conn.round_trips
        with pytest.raises(pgatomic.InterfaceError, match="inside a savepoint"):
            conn.tpc_prepare()
        assert conn.round_trips == before
    conn.tpc_prepare()                           # nothing was lost: both rows prepared
    conn.tpc_commit()
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 3


def test_twophase_unknown_gid_is_an_error(conn, tables, observer):
    table = tables.make("id int PRIMARY KEY")
    with pytest.raises(pgatomic.DatabaseError) as info:
        conn.tpc_commit("py-nope")
    assert info.value.sqlstate == "42704"
    with pytest.raises(pgatomic.DatabaseError):
        conn.tpc_rollback("py-nope")
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1)")
        with pytest.raises(pgatomic.TransactionManagementError):
            conn.tpc_commit("py-nope")
    assert observer.execute(f"SELECT count(*) FROM {table}").scalar() == 1


def test_twophase_reused_gid_is_an_error(conn, tables, observer, gids):
    table = tables.make("id int PRIMARY KEY")
    gids.append("py-twice")
    conn.tpc_begin("py-twice")
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_prepare()
    other = pgatomic.connect(DSN)
    try:
        other.tpc_begin("py-twice")
        other.execute(f"INSERT INTO {table} VALUES (2)")
        with pytest.raises(pgatomic.DatabaseError, match="py-twice") as info:
            other.tpc_prepare()
        assert info.value.sqlstate == "42710"
        assert other.autocommit                  # that transaction is over
    finally:
        other.close()
    conn.tpc_commit()                            # the first one is untouched
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 1


def test_twophase_hooks_wait_for_commit_prepared(conn, tables, gids):
    table = tables.make("id int PRIMARY KEY")
    gids.extend(["py-hooks-a", "py-hooks-b"])
    ran = []
    conn.tpc_begin("py-hooks-a")
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1)")
        conn.on_commit(lambda: ran.append("a"))
    conn.tpc_prepare()
    assert ran == []
    conn.tpc_commit()
    assert ran == ["a"]
    conn.tpc_begin("py-hooks-b")
    with conn.atomic():
        conn.on_commit(lambda: ran.append("b"))
    conn.tpc_prepare()
    conn.tpc_rollback()
    assert ran == ["a"]


def test_twophase_failed_transaction_is_not_prepared(conn, gids):
    gids.append("py-failed")
    conn.tpc_begin("py-failed")
    with pytest.raises(pgatomic.DataError):
        conn.execute("SELECT 1/0")
    with pytest.raises(pgatomic.InternalError, match="ROLLBACK"):
        conn.tpc_prepare()
    assert "py-failed" not in prepared_gids(conn)
    assert conn.autocommit



def test_twophase_raw_prepare_inside_a_block_is_prepared(conn, tables, observer, gids):
    """PREPARE TRANSACTION written as SQL inside a block ends its
    transaction behind the block's back (as a raw COMMIT does: refused as
    TransactionManagementError), but as prepared: the hooks wait for COMMIT
    PREPARED, leaving the block reports no rollback."""
    table = tables.make("id int PRIMARY KEY")
    gids.append("py-raw")
    ran = []
    with conn.atomic():
        conn.on_commit(lambda: ran.append("commit"))
        conn.execute(f"INSERT INTO {table} VALUES (5)")
        with pytest.raises(pgatomic.TransactionManagementError):
            conn.execute("PREPARE TRANSACTION 'py-raw'")
    assert ran == []
    assert conn.transaction_status == "I"
    assert observer.execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'py-raw'").scalar() == 1
    conn.tpc_commit("py-raw")
    assert ran == ["commit"]
    assert observer.execute(f"SELECT sum(id) FROM {table}").scalar() == 5

def test_xid_round_trips():
    x = Xid.from_parts(7, "gtrid é", "bqual")
    assert str(x).startswith("7_")
    assert Xid.from_string(str(x)) == x
    assert tuple(x) == (7, "gtrid é", "bqual") and len(x) == 3 and x[1] == "gtrid é"
    assert Xid.from_string("plain-gid") == Xid(None, "plain-gid", None)
    assert Xid.from_string("1_!!_x") == Xid(None, "1_!!_x", None)
    with pytest.raises(ValueError):
        Xid.from_parts(-1, "a", "b")
    with pytest.raises(TypeError):
        Xid.from_parts(1, "a", None)
