"""The seeds' Python examples run on pgatomic with the transaction code as
written: 000 order from a cart, 001 adding funds, 002 set_rollback in an
except, 004 the Budget Tracker in manual mode.  Each test runs twice
(flavours.py): [sync] on examples/python, [async] on their asyncio twins in
examples/python/aio (async with transaction.atomic(), the current task's
connection)."""

import decimal
import inspect
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
from aio import seed_000_order_from_cart as aseed000  # noqa: E402
from aio import seed_001_add_funds as aseed001  # noqa: E402
from aio import seed_002_set_rollback as aseed002  # noqa: E402
from aio import seed_004_budget_tracker as aseed004  # noqa: E402

SEEDS = {"sync": (seed000, seed001, seed002, seed004),
         "async": (aseed000, aseed001, aseed002, aseed004)}


async def done(value):
    """A seed function's result: awaited for the asyncio seeds."""
    return await value if inspect.isawaitable(value) else value


@pytest.fixture
def schema(observer):
    """A schema of its own, on the observer (which sees committed data
    only); a test puts its connection there with use()."""
    name = f"seed_{uuid.uuid4().hex[:10]}"
    observer.execute(f"CREATE SCHEMA {name}")
    observer.execute(f"SET search_path TO {name}")
    yield name
    observer.execute(f"DROP SCHEMA {name} CASCADE")


async def use(api, schema):
    await api.execute(f"SET search_path TO {schema}")
    return SEEDS[api.name]


def q(observer, sql):
    return observer.execute(sql).rows


# -- 000 --------------------------------------------------------------------

async def test_seed_000_order_created_from_cart(api, schema, observer):
    seed000 = (await use(api, schema))[0]
    await done(seed000.create_schema())
    await api.executemany("INSERT INTO product VALUES ($1, $2, $3)", [(1, "a", 10), (2, "b", 2.5)])
    cart = uuid.uuid4()
    await done(seed000.fill_cart(cart, [(1, 1), (2, 4)]))
    order = await done(seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 5}).save())
    assert q(observer, 'SELECT id FROM "order"') == [(order,)]
    assert q(observer, "SELECT order_id, product_id, quantity, unit_price FROM orderitem"
                       " ORDER BY product_id") == [
        (order, 1, 1, decimal.Decimal(10)), (order, 2, 4, decimal.Decimal("2.5"))]


async def test_seed_000_failure_after_order_row_leaves_no_orphan(api, schema, observer):
    seed000 = (await use(api, schema))[0]
    await done(seed000.create_schema())
    await api.executemany("INSERT INTO product VALUES ($1, $2, $3)", [(1, "a", 10), (3, "x", None)])
    cart = uuid.uuid4()
    await done(seed000.fill_cart(cart, [(1, 1), (3, 2)]))
    with pytest.raises(pgatomic.NotNullViolation):
        await done(seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 9}).save())
    assert q(observer, 'SELECT * FROM "order"') == []
    assert q(observer, "SELECT * FROM orderitem") == []
    assert q(observer, "SELECT * FROM customer") == []     # get_or_create undone too
    assert not api.connection.in_atomic_block


async def test_seed_000_failure_injected_after_order_insert(api, schema, observer, monkeypatch):
    """The seed's "server off" right after the order row: an exception
    raised in the middle of save()."""
    seed000 = (await use(api, schema))[0]
    await done(seed000.create_schema())
    await api.execute("INSERT INTO product VALUES (1, 'a', 10)")
    cart = uuid.uuid4()
    await done(seed000.fill_cart(cart, [(1, 1)]))
    real_execute = api.Connection.execute

    def server_off(sql):
        if sql.startswith('INSERT INTO "order"'):
            raise ConnectionError("server off")

    def execute(self, sql, params=None):
        result = real_execute(self, sql, params)
        server_off(sql)
        return result

    async def aexecute(self, sql, params=None):
        result = await real_execute(self, sql, params)
        server_off(sql)
        return result

    monkeypatch.setattr(api.Connection, "execute", aexecute if api.name == "async" else execute)
    with pytest.raises(ConnectionError):
        await done(seed000.OrderCreateSerializer({"cart_id": cart}, {"user_id": 1}).save())
    monkeypatch.undo()
    assert q(observer, 'SELECT * FROM "order"') == []
    assert q(observer, "SELECT * FROM customer") == []


# -- 001 --------------------------------------------------------------------

async def test_seed_001_adding_funds_commits(api, schema, observer):
    seed001 = (await use(api, schema))[1]
    await api.execute(seed001.SCHEMA)
    await api.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")
    view = seed001.CreateChargeView()
    user = await done(seed001.User.get(1))
    assert await done(view.post(seed001.Request(user), decimal.Decimal(25))) == "charged"
    assert q(observer, "SELECT availabe_funds FROM app_user") == [(decimal.Decimal(125),)]


async def test_seed_001_error_during_save_rolls_back(api, schema, observer):
    seed001 = (await use(api, schema))[1]
    await api.execute(seed001.SCHEMA)
    await api.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")
    view = seed001.CreateChargeView()
    user = await done(seed001.User.get(1))
    with pytest.raises(pgatomic.CheckViolation):
        await done(view.post(seed001.Request(user), decimal.Decimal(5000)))
    assert q(observer, "SELECT availabe_funds FROM app_user") == [(decimal.Decimal(100),)]


# -- 002 --------------------------------------------------------------------

async def test_seed_002_success(api, schema, observer):
    seed002 = (await use(api, schema))[2]
    await api.execute(seed002.SCHEMA)
    log = []
    await done(seed002.my_view(seed002.Obj(1, "a"), seed002.Obj(2, "b"), log))
    assert log == ["cleanup"]
    assert q(observer, "SELECT id FROM obj ORDER BY id") == [(1,), (2,)]


async def test_seed_002_set_rollback_outside_any_block_raises_verbatim(api, schema, observer):
    seed002 = (await use(api, schema))[2]
    await api.execute(seed002.SCHEMA)
    log = []
    with pytest.raises(transaction.TransactionManagementError) as info:
        await done(seed002.my_view(seed002.Obj(1, "a"), seed002.Obj(1, "dup"), log))
    assert str(info.value) == "The rollback flag doesn't work outside of an 'atomic' block."
    assert log[0].startswith("UniqueViolation: ") and log[1] == "cleanup"
    assert q(observer, "SELECT * FROM obj") == []   # the atomic block undid obj1


async def test_seed_002_set_rollback_inside_outer_block_rolls_it_back(api, schema, observer):
    seed002 = (await use(api, schema))[2]
    await api.execute(seed002.SCHEMA)
    log = []
    async with api.atomic():
        await done(seed002.Obj(10, "before").save())
        await done(seed002.my_view(seed002.Obj(11, "a"), seed002.Obj(11, "dup"), log))
        assert transaction.get_rollback() is True
    assert log[1] == "cleanup"
    assert q(observer, "SELECT * FROM obj") == []


# -- 004 --------------------------------------------------------------------

@pytest.fixture
def budget(api, schema):
    async def make():
        seed004 = (await use(api, schema))[3]
        await done(seed004.create_schema())
        return seed004
    return make


def expenses(observer):
    return q(observer, "SELECT user_id, category_id, description, amount FROM expense"
                       " ORDER BY id")


async def test_seed_004_transfer_budget_success(api, budget, observer):
    seed004 = await budget()
    assert await done(seed004.transfer_budget(1, 1, 3, 100)) == {
        "success": True, "message": "Transferred $100"}
    assert expenses(observer) == [
        (1, 1, "Transfer to Entertainment", decimal.Decimal("-100.00")),
        (1, 3, "Transfer from Food", decimal.Decimal("100.00"))]
    assert transaction.get_autocommit() is True


async def test_seed_004_transfer_budget_missing_category(api, budget, observer):
    seed004 = await budget()
    assert await done(seed004.transfer_budget(1, 1, 999, 100)) == {
        "success": False, "error": "Category not found"}
    assert expenses(observer) == []


async def test_seed_004_transfer_failing_halfway_saves_nothing(api, budget, observer):
    seed004 = await budget()
    result = await done(seed004.transfer_budget(1, 1, 3, 100, fail_halfway=True))
    assert result == {"success": False, "error": "insufficient_funds"}
    assert expenses(observer) == []


async def test_seed_004_create_expense(api, budget, observer):
    seed004 = await budget()
    ok = await done(seed004.create_expense(1, "Groceries", 52.50, 1))
    assert ok["success"] is True and isinstance(ok["id"], int)
    bad = await done(seed004.create_expense(1, "Test", 10.00, 999))
    assert bad["success"] is False
    assert "violates foreign key constraint" in bad["error"]
    assert expenses(observer) == [(1, 1, "Groceries", decimal.Decimal("52.50"))]


async def test_seed_004_update_expense_amount(api, budget, observer):
    seed004 = await budget()
    created = await done(seed004.create_expense(1, "Lunch", 10, 1))
    assert await done(seed004.update_expense_amount(created["id"], 12.25)) == {"success": True}
    assert await done(seed004.update_expense_amount(12345, 1)) == {
        "success": False, "error": "Expense 12345 not found"}
    assert expenses(observer) == [(1, 1, "Lunch", decimal.Decimal("12.25"))]


async def test_seed_004_merge_categories(api, budget, observer):
    seed004 = await budget()
    for description, amount, user in (("Burger", 8, 1), ("Pizza", 12, 1), ("Fries", 3, 2)):
        await done(seed004.create_expense(user, description, amount, 2))   # Bob keeps Fast Food
    assert await done(seed004.merge_categories(1, 2, 2)) == {
        "success": False, "error": "Source and target categories must differ"}
    assert await done(seed004.merge_categories(1, 2, 99)) == {
        "success": False, "error": "Target category 99 not found"}
    assert await done(seed004.merge_categories(1, 2, 1)) == {"success": True, "moved_count": 2}
    assert [r[:2] for r in expenses(observer)] == [(1, 1), (1, 1), (2, 2)]
    assert q(observer, "SELECT id FROM category ORDER BY id") == [(1,), (2,), (3,)]
    assert await done(seed004.merge_categories(2, 2, 1)) == {"success": True, "moved_count": 1}
    assert q(observer, "SELECT id FROM category ORDER BY id") == [(1,), (3,)]
