"""Seed 004: the Budget Tracker's transactions (SQLAlchemy in the seed).

`with Session(engine) as session:` + try/commit/except/rollback maps to
pgatomic's manual mode: set_autocommit(False) opens the session, the first
statement opens a transaction, commit() and rollback() end it, as
session.commit() and session.rollback() do.  The ORM calls become SQL."""

import contextlib

import pgatomic
from pgatomic import transaction

SCHEMA = """
CREATE TABLE app_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE category (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE expense (id serial PRIMARY KEY,
                      user_id int NOT NULL REFERENCES app_user,
                      category_id int NOT NULL REFERENCES category,
                      description text NOT NULL,
                      amount numeric(12, 2) NOT NULL);
"""


@contextlib.contextmanager
def Session(engine=None):
    """`with Session(engine) as session:` -- manual mode for the block.
    Whatever is still uncommitted when it ends is rolled back, as closing a
    SQLAlchemy session does."""
    transaction.set_autocommit(False)
    try:
        yield pgatomic.connection
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def transfer_budget(user_id, from_category_id, to_category_id, amount, fail_halfway=False):
    """
    Transfer budget between categories.
    Creates two expense records atomically - both or none.
    """
    with Session() as session:
        try:
            # Verify both categories exist
            from_cat = session.execute(
                "SELECT id, name FROM category WHERE id = $1", [from_category_id]
            ).fetchone()
            to_cat = session.execute(
                "SELECT id, name FROM category WHERE id = $1", [to_category_id]
            ).fetchone()

            if not from_cat or not to_cat:
                raise ValueError("Category not found")

            # Create BOTH transfer records
            session.execute(
                "INSERT INTO expense (user_id, category_id, description, amount)"
                " VALUES ($1, $2, $3, $4)",
                [user_id, from_category_id, f"Transfer to {to_cat[1]}", -amount])  # debit
            if fail_halfway:                 # the seed's "Prove Rollback" prompt
                raise RuntimeError("insufficient_funds")
            session.execute(
                "INSERT INTO expense (user_id, category_id, description, amount)"
                " VALUES ($1, $2, $3, $4)",
                [user_id, to_category_id, f"Transfer from {from_cat[1]}", amount])  # credit
            transaction.commit()  # Both records saved or none

            return {"success": True, "message": f"Transferred ${amount}"}

        except Exception as e:
            transaction.rollback()  # Both records discarded
            return {"success": False, "error": str(e)}


def create_expense(user_id, description, amount, category_id):
    """Create one expense with error handling."""
    with Session() as session:
        try:
            expense_id = session.execute(
                "INSERT INTO expense (user_id, description, amount, category_id)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                [user_id, description, amount, category_id]).scalar()
            transaction.commit()
            return {"success": True, "id": expense_id}
        except Exception as e:
            transaction.rollback()
            return {"success": False, "error": str(e)}


def update_expense_amount(expense_id, new_amount):
    """Update expense amount safely."""
    with Session() as session:
        try:
            expense = session.execute(
                "SELECT id, amount FROM expense WHERE id = $1 FOR UPDATE", [expense_id]
            ).fetchone()

            if not expense:
                raise ValueError(f"Expense {expense_id} not found")

            session.execute("UPDATE expense SET amount = $2 WHERE id = $1",
                            [expense_id, new_amount])
            transaction.commit()
            return {"success": True}

        except Exception as e:
            transaction.rollback()
            return {"success": False, "error": str(e)}


def merge_categories(user_id, from_cat_id, to_cat_id):
    with Session() as session:
        try:
            if from_cat_id == to_cat_id:
                raise ValueError("Source and target categories must differ")

            to_cat = session.execute(
                "SELECT id FROM category WHERE id = $1", [to_cat_id]
            ).fetchone()
            if not to_cat:
                raise ValueError(f"Target category {to_cat_id} not found")

            moved_count = session.execute(
                "UPDATE expense SET category_id = $3 WHERE user_id = $1 AND category_id = $2",
                [user_id, from_cat_id, to_cat_id]
            ).rowcount

            remaining = session.execute(
                "SELECT count(*) FROM expense WHERE category_id = $1", [from_cat_id]
            ).scalar()

            if remaining == 0:
                session.execute("DELETE FROM category WHERE id = $1", [from_cat_id])

            transaction.commit()
            return {"success": True, "moved_count": moved_count}
        except Exception as e:
            transaction.rollback()
            return {"success": False, "error": str(e)}


def create_schema():
    db = pgatomic.connection
    db.execute(SCHEMA)
    db.executemany("INSERT INTO app_user VALUES ($1, $2)", [(1, "Alice"), (2, "Bob")])
    db.executemany("INSERT INTO category VALUES ($1, $2)",
                   [(1, "Food"), (2, "Fast Food"), (3, "Entertainment")])


def main():
    from _schema import show, use_fresh_schema
    use_fresh_schema("seed_004")
    create_schema()
    print("seed 004: Budget Tracker in manual mode (set_autocommit(False), commit, rollback)")
    print("  transfer 1 -> 3:", transfer_budget(1, 1, 3, 100))
    print("  transfer 1 -> 999:", transfer_budget(1, 1, 999, 100))
    print("  transfer failing halfway:", transfer_budget(1, 1, 3, 10, fail_halfway=True))
    created = create_expense(1, "Groceries", 52.50, 2)
    print("  create_expense Groceries:", created)
    print("  create_expense category 999:", create_expense(1, "Test", 10.00, 999))
    print(f"  update_expense_amount {created['id']}:", update_expense_amount(created["id"], 60))
    print("  update_expense_amount 99:", update_expense_amount(99, 1))
    print("  merge 2 -> 2:", merge_categories(1, 2, 2))
    print("  merge 2 -> 1:", merge_categories(1, 2, 1))
    show("expenses",
         "SELECT id, user_id, category_id, description, amount FROM expense ORDER BY id")
    show("categories", "SELECT * FROM category ORDER BY id")
    print("  -> one debit/credit pair, no half transfer, no expense for category 999;"
          " 'Fast Food' merged into Food and deleted")


if __name__ == "__main__":
    main()
