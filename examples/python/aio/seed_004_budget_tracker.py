"""Seed 004 on asyncio: the Budget Tracker's transactions
(examples/python/seed_004_budget_tracker.py with awaits; SQLAlchemy's
AsyncSession in the seed's terms).

`async with Session() as session:` + try/commit/except/rollback maps to
manual mode on the current task's connection: set_autocommit(False) opens
the session, the first statement opens a transaction (BEGIN rides with
it), `await session.commit()` and `await session.rollback()` end it."""

import contextlib

import pgatomic

SCHEMA = """
CREATE TABLE app_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE category (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE expense (id serial PRIMARY KEY,
                      user_id int NOT NULL REFERENCES app_user,
                      category_id int NOT NULL REFERENCES category,
                      description text NOT NULL,
                      amount numeric(12, 2) NOT NULL);
"""


@contextlib.asynccontextmanager
async def Session(engine=None):
    """`async with Session(engine) as session:` -- manual mode for the
    block.  Whatever is still uncommitted when it ends is rolled back, as
    closing a SQLAlchemy session does."""
    session = pgatomic.aconnection
    await session.set_autocommit(False)
    try:
        yield session
    finally:
        await session.rollback()
        await session.set_autocommit(True)


async def transfer_budget(user_id, from_category_id, to_category_id, amount,
                          fail_halfway=False):
    """
    Transfer budget between categories.
    Creates two expense records atomically - both or none.
    """
    async with Session() as session:
        try:
            # Verify both categories exist
            from_cat = (await session.execute(
                "SELECT id, name FROM category WHERE id = $1", [from_category_id]
            )).fetchone()
            to_cat = (await session.execute(
                "SELECT id, name FROM category WHERE id = $1", [to_category_id]
            )).fetchone()

            if not from_cat or not to_cat:
                raise ValueError("Category not found")

            # Create BOTH transfer records
            await session.execute(
                "INSERT INTO expense (user_id, category_id, description, amount)"
                " VALUES ($1, $2, $3, $4)",
                [user_id, from_category_id, f"Transfer to {to_cat[1]}", -amount])  # debit
            if fail_halfway:                 # the seed's "Prove Rollback" prompt
                raise RuntimeError("insufficient_funds")
            await session.execute(
                "INSERT INTO expense (user_id, category_id, description, amount)"
                " VALUES ($1, $2, $3, $4)",
                [user_id, to_category_id, f"Transfer from {from_cat[1]}", amount])  # credit
            await session.commit()  # Both records saved or none

            return {"success": True, "message": f"Transferred ${amount}"}

        except Exception as e:
            await session.rollback()  # Both records discarded
            return {"success": False, "error": str(e)}


async def create_expense(user_id, description, amount, category_id):
    """Create one expense with error handling."""
    async with Session() as session:
        try:
            expense_id = (await session.execute(
                "INSERT INTO expense (user_id, description, amount, category_id)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                [user_id, description, amount, category_id])).scalar()
            await session.commit()
            return {"success": True, "id": expense_id}
        except Exception as e:
            await session.rollback()
            return {"success": False, "error": str(e)}


async def update_expense_amount(expense_id, new_amount):
    """Update expense amount safely."""
    async with Session() as session:
        try:
            expense = (await session.execute(
                "SELECT id, amount FROM expense WHERE id = $1 FOR UPDATE", [expense_id]
            )).fetchone()

            if not expense:
                raise ValueError(f"Expense {expense_id} not found")

            await session.execute("UPDATE expense SET amount = $2 WHERE id = $1",
                                  [expense_id, new_amount])
            await session.commit()
            return {"success": True}

        except Exception as e:
            await session.rollback()
            return {"success": False, "error": str(e)}


async def merge_categories(user_id, from_cat_id, to_cat_id):
    async with Session() as session:
        try:
            if from_cat_id == to_cat_id:
                raise ValueError("Source and target categories must differ")

            to_cat = (await session.execute(
                "SELECT id FROM category WHERE id = $1", [to_cat_id]
            )).fetchone()
            if not to_cat:
                raise ValueError(f"Target category {to_cat_id} not found")

            moved_count = (await session.execute(
                "UPDATE expense SET category_id = $3 WHERE user_id = $1 AND category_id = $2",
                [user_id, from_cat_id, to_cat_id]
            )).rowcount

            remaining = (await session.execute(
                "SELECT count(*) FROM expense WHERE category_id = $1", [from_cat_id]
            )).scalar()

            if remaining == 0:
                await session.execute("DELETE FROM category WHERE id = $1", [from_cat_id])

            await session.commit()
            return {"success": True, "moved_count": moved_count}
        except Exception as e:
            await session.rollback()
            return {"success": False, "error": str(e)}


async def create_schema():
    db = pgatomic.aconnection
    await db.execute(SCHEMA)
    await db.executemany("INSERT INTO app_user VALUES ($1, $2)", [(1, "Alice"), (2, "Bob")])
    await db.executemany("INSERT INTO category VALUES ($1, $2)",
                         [(1, "Food"), (2, "Fast Food"), (3, "Entertainment")])


async def main():
    from _schema import ashow, use_fresh_schema_async
    await use_fresh_schema_async("seed_004_async")
    await create_schema()
    print("seed 004 (asyncio): Budget Tracker in manual mode "
          "(await set_autocommit(False), commit, rollback)")
    print("  transfer 1 -> 3:", await transfer_budget(1, 1, 3, 100))
    print("  transfer 1 -> 999:", await transfer_budget(1, 1, 999, 100))
    print("  transfer failing halfway:", await transfer_budget(1, 1, 3, 10, fail_halfway=True))
    created = await create_expense(1, "Groceries", 52.50, 2)
    print("  create_expense Groceries:", created)
    print("  create_expense category 999:", await create_expense(1, "Test", 10.00, 999))
    print(f"  update_expense_amount {created['id']}:",
          await update_expense_amount(created["id"], 60))
    print("  update_expense_amount 99:", await update_expense_amount(99, 1))
    print("  merge 2 -> 2:", await merge_categories(1, 2, 2))
    print("  merge 2 -> 1:", await merge_categories(1, 2, 1))
    await ashow("expenses",
                "SELECT id, user_id, category_id, description, amount FROM expense ORDER BY id")
    await ashow("categories", "SELECT * FROM category ORDER BY id")
    print("  -> one debit/credit pair, no half transfer, no expense for category 999;"
          " 'Fast Food' merged into Food and deleted")
