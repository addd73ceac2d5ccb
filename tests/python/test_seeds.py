"""The seeds' Python examples (examples/python), run on pgatomic with the
transaction code as written: 000 order from a cart, 001 adding funds,
002 set_rollback in an except, 004 the Budget Tracker in manual mode."""

import decimal
import os
import sys
import uuid

import pytest

import pgatomic
from pgatomic import transaction

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))

import seed_000_order_from_cart as seed000  # noqa: E402
import seed_001_add_funds as seed001  # noqa: E402
import seed_002_set_rollback as seed002  # noqa: E402
import seed_004_budget_tracker as seed004  # noqa: E402


@pytest.fixture
def schema(observer):
    """A schema of its own, on this thread's default connection and on the
    observer (which sees committed data only)."""
    name = f"seed_{uuid.uuid4().hex[:10]}"
    conn = pgatomic.connection
    conn.execute(f"CREATE SCHEMA {name}")
    conn.execute(f"SET search_path TO {name}")
    observer.execute(f"SET search_path TO {name}")
    yield name
    observer.execute(f"DROP SCHEMA {name} CASCADE")


def q(observer, sql):
    return observer.execute(sql).rows


# -- 000 --------------------------------------------------------------------

def test_seed_000_order_created_from_cart(schema, observer):
    seed000.create_schema()
    db = pgatomic.connection
    db.executemany("INSERT INTO product VALUES ($1, $2, $3)", [(1, "a", 10), (2, "b", 2.5)])
    cart = uuid.uuid4()
    seed000.fill_cart(cart, [(1, 1), (2, 4)])
    order = seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 5}).save()
    assert q(observer, 'SELECT id FROM "order"') == [(order,)]
    assert q(observer, "SELECT order_id, product_id, quantity, unit_price FROM orderitem"
                       " ORDER BY product_id") == [
        (order, 1, 1, decimal.Decimal(10)), (order, 2, 4, decimal.Decimal("2.5"))]


def test_seed_000_failure_after_order_row_leaves_no_orphan(schema, observer):
    seed000.create_schema()
    db = pgatomic.connection
    db.executemany("INSERT INTO product VALUES ($1, $2, $3)", [(1, "a", 10), (3, "x", None)])
    cart = uuid.uuid4()
    seed000.fill_cart(cart, [(1, 1), (3, 2)])
    with pytest.raises(pgatomic.NotNullViolation):
        seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 9}).save()
    assert q(observer, 'SELECT * FROM "order"') == []
    assert q(observer, "SELECT * FROM orderitem") == []
    assert q(observer, "SELECT * FROM customer") == []     # get_or_create undone too
    assert not db.in_atomic_block


def test_seed_000_failure_injected_after_order_insert(schema, observer, monkeypatch):
    """The seed's "server off" right after the order row: an exception
    raised in the middle of save()."""
    seed000.create_schema()
    db = pgatomic.connection
    db.execute("INSERT INTO product VALUES (1, 'a', 10)")
    cart = uuid.uuid4()
    seed000.fill_cart(cart, [(1, 1)])
    real_execute = pgatomic.Connection.execute

    def execute(self, sql, params=None):
        result = real_execute(self, sql, params)
        if sql.startswith('INSERT INTO "order"'):
            raise ConnectionError("server off")
        return result

    monkeypatch.setattr(pgatomic.Connection, "execute", execute)
    with pytest.raises(ConnectionError):
        seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 1}).save()
    monkeypatch.undo()
    assert q(observer, 'SELECT * FROM "order"') == []
    assert q(observer, "SELECT * FROM customer") == []


# -- 001 --------------------------------------------------------------------

def test_seed_001_adding_funds_commits(schema, observer):
    pgatomic.connection.execute(seed001.SCHEMA)
    pgatomic.connection.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")
    view = seed001.CreateChargeView()
    assert view.post(seed001.Request(seed001.User.get(1)), decimal.Decimal(25)) == "charged"
    assert q(observer, "SELECT availabe_funds FROM app_user") == [(decimal.Decimal(125),)]


def test_seed_001_error_during_save_rolls_back(schema, observer):
    pgatomic.connection.execute(seed001.SCHEMA)
    pgatomic.connection.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")
    view = seed001.CreateChargeView()
    with pytest.raises(pgatomic.CheckViolation):
        view.post(seed001.Request(seed001.User.get(1)), decimal.Decimal(5000))
    assert q(observer, "SELECT availabe_funds FROM app_user") == [(decimal.Decimal(100),)]


# -- 002 --------------------------------------------------------------------

def test_seed_002_success(schema, observer):
    pgatomic.connection.execute(seed002.SCHEMA)
    log = []
    seed002.my_view(seed002.Obj(1, "a"), seed002.Obj(2, "b"), log)
    assert log == ["cleanup"]
    assert q(observer, "SELECT id FROM obj ORDER BY id") == [(1,), (2,)]


def test_seed_002_set_rollback_outside_any_block_raises_verbatim(schema, observer):
    pgatomic.connection.execute(seed002.SCHEMA)
    log = []
    with pytest.raises(transaction.TransactionManagementError) as info:
        seed002.my_view(seed002.Obj(1, "a"), seed002.Obj(1, "dup"), log)
    assert str(info.value) == "The rollback flag doesn't work outside of an 'atomic' block."
    assert log[0].startswith("UniqueViolation: ") and log[1] == "cleanup"
    assert q(observer, "SELECT * FROM obj") == []   # the atomic block undid obj1


def test_seed_002_set_rollback_inside_outer_block_rolls_it_back(schema, observer):
    pgatomic.connection.execute(seed002.SCHEMA)
    log = []
    with transaction.atomic():
        seed002.Obj(10, "before").save()
        seed002.my_view(seed002.Obj(11, "a"), seed002.Obj(11, "dup"), log)
        assert transaction.get_rollback() is True
    assert log[1] == "cleanup"
    assert q(observer, "SELECT * FROM obj") == []


# -- 004 --------------------------------------------------------------------

@pytest.fixture
def budget(schema):
    seed004.create_schema()


def expenses(observer):
    return q(observer, "SELECT user_id, category_id, description, amount FROM expense"
                       " ORDER BY id")


def test_seed_004_transfer_budget_success(budget, observer):
    assert seed004.transfer_budget(1, 1, 3, 100) == {
        "success": True, "message": "Transferred $100"}
    assert expenses(observer) == [
        (1, 1, "Transfer to Entertainment", decimal.Decimal("-100.00")),
        (1, 3, "Transfer from Food", decimal.Decimal("100.00"))]
    assert transaction.get_autocommit() is True


def test_seed_004_transfer_budget_missing_category(budget, observer):
    assert seed004.transfer_budget(1, 1, 999, 100) == {
        "success": False, "error": "Category not found"}
    assert expenses(observer) == []


def test_seed_004_transfer_failing_halfway_saves_nothing(budget, observer):
    result = seed004.transfer_budget(1, 1, 3, 100, fail_halfway=True)
    assert result == {"success": False, "error": "insufficient_funds"}
    assert expenses(observer) == []


def test_seed_004_create_expense(budget, observer):
    ok = seed004.create_expense(1, "Groceries", 52.50, 1)
    assert ok["success"] is True and isinstance(ok["id"], int)
    bad = seed004.create_expense(1, "Test", 10.00, 999)
    assert bad["success"] is False
    assert "violates foreign key constraint" in bad["error"]
    assert expenses(observer) == [(1, 1, "Groceries", decimal.Decimal("52.50"))]


def test_seed_004_update_expense_amount(budget, observer):
    created = seed004.create_expense(1, "Lunch", 10, 1)
    assert seed004.update_expense_amount(created["id"], 12.25) == {"success": True}
    assert seed004.update_expense_amount(12345, 1) == {
        "success": False, "error": "Expense 12345 not found"}
    assert expenses(observer) == [(1, 1, "Lunch", decimal.Decimal("12.25"))]


def test_seed_004_merge_categories(budget, observer):
    seed004.create_expense(1, "Burger", 8, 2)
    seed004.create_expense(1, "Pizza", 12, 2)
    seed004.create_expense(2, "Fries", 3, 2)            # Bob keeps using Fast Food
    assert seed004.merge_categories(1, 2, 2) == {
        "success": False, "error": "Source and target categories must differ"}
    assert seed004.merge_categories(1, 2, 99) == {
        "success": False, "error": "Target category 99 not found"}
    assert seed004.merge_categories(1, 2, 1) == {"success": True, "moved_count": 2}
    assert [r[:2] for r in expenses(observer)] == [(1, 1), (1, 1), (2, 2)]
    assert q(observer, "SELECT id FROM category ORDER BY id") == [(1,), (2,), (3,)]
    assert seed004.merge_categories(2, 2, 1) == {"success": True, "moved_count": 1}
    assert q(observer, "SELECT id FROM category ORDER BY id") == [(1,), (3,)]
