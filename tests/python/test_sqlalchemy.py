"""SQLAlchemy on postgresql+pgatomic: the dialect found by its URL, seed 004
as written with models and Session, honest COMMIT outcomes through
Session.commit(), and the round trips the core saves.  SQLAlchemy's own
suites run in scripts/suite-sqlalchemy.sh."""

import decimal
import importlib.metadata
import os
import sys

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import URL, Column, Integer, MetaData, String, Table, create_engine, insert, select, text  # noqa: E402
from sqlalchemy import exc as sa_exc  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import pgatomic  # noqa: E402

from faultlib import Proxy, deadline, direct  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))

import seed_004_sqlalchemy as seed  # noqa: E402


def _url(**extra):
    env = os.environ
    query = {"host": env["PGHOST"], "port": env.get("PGPORT", "5432")}
    query.update(extra)
    return URL.create("postgresql+pgatomic", username=env.get("PGUSER"),
                      database=env.get("PGDATABASE"), query=query)


@pytest.fixture
def engine():
    e = create_engine(_url())
    yield e
    e.dispose()


@pytest.fixture
def items(engine, tables):
    name = tables.make("id int PRIMARY KEY, v text")
    return Table(name, MetaData(), Column("id", Integer, primary_key=True), Column("v", String))


def trips(engine, body):
    """Round trips body() costs on the pool's one connection."""
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
    before = dbapi.round_trips
    body()
    return dbapi.round_trips - before


# -- the dialect ----------------------------------------------------------------

def test_dialect_is_registered_by_its_entry_point():
    names = [ep.name for ep in importlib.metadata.entry_points(group="sqlalchemy.dialects")]
    assert "postgresql.pgatomic" in names


def test_create_engine_with_a_socket_directory_url():
    env = os.environ
    url = (f"postgresql+pgatomic://{env.get('PGUSER', 'postgres')}@/{env['PGDATABASE']}"
           f"?host={env['PGHOST']}&port={env.get('PGPORT', '5432')}")
    e = create_engine(url)
    try:
        with e.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == env["PGDATABASE"]
            assert e.dialect.driver == "pgatomic"
            assert isinstance(conn.connection.dbapi_connection, pgatomic.dbapi.Connection)
    finally:
        e.dispose()


def test_busy_poll_us_from_the_url_and_from_connect_args():
    """The URL's query gives it as text, connect_args as an int; either way
    it reaches the connection and never libpq's connection string (which
    would refuse the key)."""
    for e, expected in ((create_engine(_url(busy_poll_us="90")), 90),
                        (create_engine(_url(), connect_args={"busy_poll_us": 0}), 0)):
        try:
            with e.connect() as conn:
                assert conn.connection.dbapi_connection.busy_poll_us == expected
                assert conn.execute(text("SELECT 1")).scalar() == 1
        finally:
            e.dispose()
    e = create_engine(_url(busy_poll_us="-1"))
    try:
        with pytest.raises(ValueError, match="busy_poll_us"):
            e.connect()
    finally:
        e.dispose()


def test_isolation_level_rides_with_the_begin(engine):
    with engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        assert conn.execute(text("SHOW transaction_isolation")).scalar() == "serializable"
        assert conn.get_isolation_level() == "SERIALIZABLE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.connection.dbapi_connection.autocommit is True
    with engine.connect() as conn:
        assert conn.execute(text("SHOW transaction_isolation")).scalar() == "read committed"


def test_ping_sees_a_session_the_server_ended(engine):
    e = create_engine(_url(), pool_pre_ping=True)
    try:
        with e.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = direct()
        killer.execute("SELECT pg_terminate_backend($1)", [pid])
        killer.close()
        with e.connect() as conn:        # the pool replaced the dead connection
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        e.dispose()


# -- honest COMMIT outcomes -----------------------------------------------------

def test_session_commit_answered_with_rollback_raises(engine, items, rows):
    with Session(engine) as s:
        s.execute(insert(items).values(id=1, v="a"))
        with pytest.raises(sa_exc.DBAPIError):
            s.execute(text("SELECT 1/0"))          # caught by the caller, as in the research
        with pytest.raises(sa_exc.InternalError) as info:
            s.commit()
    assert isinstance(info.value.orig, pgatomic.InternalError)
    assert "ROLLBACK" in str(info.value.orig)
    assert rows(items.name) == []


def test_connection_commit_answered_with_rollback_raises(engine, items, rows):
    with pytest.raises(sa_exc.InternalError):
        with engine.begin() as conn:
            conn.execute(insert(items).values(id=1, v="a"))
            try:
                conn.execute(text("SELECT 1/0"))
            except sa_exc.DBAPIError:
                pass
    assert rows(items.name) == []


@pytest.fixture
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.mark.parametrize("when, committed", [("after", True), ("before", False)])
def test_session_commit_lost_connection_raises_commit_outcome_unknown(
        proxy, items, rows, when, committed):
    env = os.environ
    e = create_engine(URL.create(
        "postgresql+pgatomic", username=env.get("PGUSER"), host="127.0.0.1", port=proxy.port,
        database=env.get("PGDATABASE"),
        query={"sslmode": "disable", "gssencmode": "disable", "connect_timeout": "5"}))
    try:
        with deadline(30, "a COMMIT cut by the proxy"):
            with Session(e) as s:
                s.execute(insert(items).values(id=1, v="a"))
                proxy.arm(when, "^COMMIT")
                with pytest.raises(pgatomic.CommitOutcomeUnknown) as info:
                    s.commit()
            # SQLAlchemy's own class too, with the driver's error inside.
            assert isinstance(info.value, sa_exc.OperationalError)
            assert isinstance(info.value.orig, pgatomic.CommitOutcomeUnknown)
            assert info.value.connection_invalidated
            assert "outcome" in str(info.value) or "may or may not" in str(info.value)
            # The outcome is what the server decided; the caller was told it
            # does not know, never that it failed or succeeded.
            assert rows(items.name) == ([(1, "a")] if committed else [])
            with Session(e) as s:              # the pool reconnects
                assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        e.dispose()


# -- round trips: k statements cost k + 1 -----------------------------------------

def test_transfer_costs_one_round_trip_per_statement_plus_commit(engine, items):
    with engine.begin() as conn:
        conn.execute(insert(items), [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    def transfer():
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {items.name} SET v = v || '-' WHERE id = 1"))
            conn.execute(text(f"UPDATE {items.name} SET v = v || '+' WHERE id = 2"))
    assert trips(engine, transfer) == 3          # BEGIN+UPDATE, UPDATE, COMMIT


def test_nested_and_failing_nested_cost_nothing_extra(engine, items, rows):
    def nested():
        with Session(engine) as s, s.begin():
            s.execute(insert(items).values(id=1, v="a"))         # BEGIN + INSERT
            with s.begin_nested():
                s.execute(insert(items).values(id=2, v="b"))     # SAVEPOINT + INSERT
        # RELEASE + COMMIT
    assert trips(engine, nested) == 3

    def failing_nested():
        with Session(engine) as s, s.begin():
            s.execute(insert(items).values(id=3, v="c"))
            try:
                with s.begin_nested():
                    s.execute(insert(items).values(id=1, v="dup"))
            except sa_exc.IntegrityError:
                pass
        # ROLLBACK TO + COMMIT
    assert trips(engine, failing_nested) == 3
    assert rows(items.name) == [(1, "a"), (2, "b"), (3, "c")]


def test_empty_transaction_sends_nothing(engine):
    def empty():
        with engine.begin():
            pass
        with Session(engine) as s, s.begin():
            with s.begin_nested():
                pass
    assert trips(engine, empty) == 0


# -- seed 004, as written, with models and Session --------------------------------

@pytest.fixture
def budget():
    seed.create_schema()
    yield
    seed.engine.dispose()


def expenses():
    with Session(seed.engine) as s:
        return [(e.user_id, e.category_id, e.description, e.amount)
                for e in s.execute(select(seed.Expense).order_by(seed.Expense.id)).scalars()]


def test_seed_004_sqlalchemy_runs_on_pgatomic(budget):
    assert seed.engine.dialect.driver == "pgatomic"


def test_seed_004_sqlalchemy_basic_transfer(budget, capsys):
    seed.basic_transfer()
    assert "Transfer succeeded" in capsys.readouterr().out
    with Session(seed.engine) as s:
        alice = s.execute(select(seed.User).where(seed.User.name == "Alice")).scalars().one()
        assert (alice.food_budget, alice.entertainment_budget) == (100, 150)


def test_seed_004_sqlalchemy_transfer_budget(budget):
    assert seed.transfer_budget(1, 1, 3, 100) == {"success": True, "message": "Transferred $100"}
    assert seed.transfer_budget(1, 1, 999, 100) == {"success": False,
                                                    "error": "Category not found"}
    assert expenses() == [
        (1, 1, "Transfer to Entertainment", decimal.Decimal("-100.00")),
        (1, 3, "Transfer from Food", decimal.Decimal("100.00"))]


def test_seed_004_sqlalchemy_transfer_failing_halfway_saves_nothing(budget):
    assert seed.transfer_failing_halfway(1, 1, 3, 10) == {
        "success": False, "error": "insufficient_funds", "debits_saved": 0}
    assert expenses() == []


def test_seed_004_sqlalchemy_create_and_update_expense(budget):
    created = seed.create_expense(1, "Groceries", 52.50, 2)
    assert created["success"] is True and isinstance(created["id"], int)
    bad = seed.create_expense(1, "Test", 10.00, 999)
    assert bad["success"] is False and "ForeignKeyViolation" in bad["error"]
    assert seed.update_expense_amount(created["id"], 60) == {"success": True}
    assert seed.update_expense_amount(99, 1) == {"success": False,
                                                 "error": "Expense 99 not found"}
    assert expenses() == [(1, 2, "Groceries", decimal.Decimal("60.00"))]


def test_seed_004_sqlalchemy_merge_categories(budget):
    seed.create_expense(1, "Burger", 8, 2)
    seed.create_expense(2, "Fries", 3, 2)
    assert seed.merge_categories(1, 2, 2) == {
        "success": False, "error": "Source and target categories must differ"}
    assert seed.merge_categories(1, 2, 1) == {"success": True, "moved_count": 1}
    assert seed.merge_categories(2, 2, 1) == {"success": True, "moved_count": 1}
    with Session(seed.engine) as s:
        assert [c.name for c in s.execute(select(seed.Category).order_by(seed.Category.id))
                .scalars()] == ["Food", "Entertainment"]


def test_seed_004_sqlalchemy_savepoints_skip_one_bad_item(budget):
    assert seed.import_expenses(1, [("Cinema", 12, 3), ("Nowhere", 5, 999),
                                    ("Snacks", 4, 1)]) == {"saved": 2, "skipped": 1}
    assert [e[2] for e in expenses()] == ["Cinema", "Snacks"]


def test_seed_004_sqlalchemy_commit_after_caught_error_is_not_success(budget):
    assert seed.commit_after_caught_error() == {"success": False, "error": "InternalError"}
    assert expenses() == []
