"""Seed 004 as written: the Budget Tracker's transactions with SQLAlchemy
models and Session, on postgresql+pgatomic.

The functions below are the seed's own code, unchanged: `with
Session(engine) as session:`, try / session.commit() / except /
session.rollback().  The one line that differs from a psycopg setup is the
URL's driver name (ENGINE_URL, from DATABASE_URL): postgresql+pgatomic
instead of postgresql+psycopg.  The seed shows the functions, not the models;
the models here are the Budget Tracker's three tables with the columns the
functions use, in a schema of their own so the demo leaves other tables
alone.  What pgatomic changes underneath: each transaction's BEGIN rides
with its first statement, a begin_nested() savepoint costs no round trip of
its own, and a COMMIT the server answers with ROLLBACK raises."""

import os
from decimal import Decimal

from sqlalchemy import (
    ForeignKey, MetaData, Numeric, String, create_engine, delete, func, select, text, update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

SCHEMA = "seed_004_sqlalchemy"


def engine_url(driver="pgatomic", database_url=None):
    """DATABASE_URL ("postgresql://user@/db?host=...") with the driver named:
    the one setting that changes.  SEED_004_DRIVER=psycopg runs the same
    program on psycopg, for comparison."""
    url = database_url or os.environ.get("DATABASE_URL") or "postgresql:///"
    return f"postgresql+{driver}://" + url.split("://", 1)[1]


ENGINE_URL = engine_url(os.environ.get("SEED_004_DRIVER", "pgatomic"))
engine = create_engine(ENGINE_URL)


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    food_budget: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)
    entertainment_budget: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Expense(Base):
    __tablename__ = "expenses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    category_id: Mapped[int] = mapped_column(ForeignKey(Category.id))
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


# -- the seed's code, as written ------------------------------------------------

def basic_transfer():
    """The Basic Transaction Pattern."""
    with Session(engine) as session:
        try:
            # Step 1: First operation
            alice = session.execute(
                select(User).where(User.name == 'Alice')
            ).scalars().first()
            alice.food_budget -= 100

            # Step 2: Second operation
            alice.entertainment_budget += 100

            # Step 3: Commit BOTH (only if no exceptions)
            session.commit()
            print("Transfer succeeded")
        except Exception as e:
            # If ANY step fails, undo everything
            session.rollback()
            print(f"Transfer failed: {e}")


def transfer_budget(user_id, from_category_id, to_category_id, amount):
    """
    Transfer budget between categories.
    Creates two expense records atomically - both or none.
    """
    with Session(engine) as session:
        try:
            # Verify both categories exist
            from_cat = session.execute(
                select(Category).where(Category.id == from_category_id)
            ).scalars().first()
            to_cat = session.execute(
                select(Category).where(Category.id == to_category_id)
            ).scalars().first()

            if not from_cat or not to_cat:
                raise ValueError("Category not found")

            # Create BOTH transfer records
            from_expense = Expense(
                user_id=user_id,
                category_id=from_category_id,
                description=f"Transfer to {to_cat.name}",
                amount=-amount  # Negative = debit
            )
            to_expense = Expense(
                user_id=user_id,
                category_id=to_category_id,
                description=f"Transfer from {from_cat.name}",
                amount=amount  # Positive = credit
            )

            session.add(from_expense)
            session.add(to_expense)
            session.commit()  # Both records saved or none

            return {"success": True, "message": f"Transferred ${amount}"}

        except Exception as e:
            session.rollback()  # Both records discarded
            return {"success": False, "error": str(e)}


def create_expense(user_id, description, amount, category_id):
    """Create one expense with error handling."""
    with Session(engine) as session:
        try:
            expense = Expense(
                user_id=user_id,
                description=description,
                amount=amount,
                category_id=category_id
            )
            session.add(expense)
            session.commit()
            return {"success": True, "id": expense.id}
        except Exception as e:
            session.rollback()
            return {"success": False, "error": str(e)}


def update_expense_amount(expense_id, new_amount):
    """Update expense amount safely."""
    with Session(engine) as session:
        try:
            expense = session.execute(
                select(Expense).where(Expense.id == expense_id)
            ).scalars().first()

            if not expense:
                raise ValueError(f"Expense {expense_id} not found")

            expense.amount = new_amount
            session.commit()
            return {"success": True}

        except Exception as e:
            session.rollback()
            return {"success": False, "error": str(e)}


def merge_categories(user_id, from_cat_id, to_cat_id):
    with Session(engine) as session:
        try:
            if from_cat_id == to_cat_id:
                raise ValueError("Source and target categories must differ")

            to_cat = session.execute(
                select(Category).where(Category.id == to_cat_id)
            ).scalars().first()
            if not to_cat:
                raise ValueError(f"Target category {to_cat_id} not found")

            moved_count = session.execute(
                update(Expense).where(
                    (Expense.user_id == user_id) &
                    (Expense.category_id == from_cat_id)
                ).values(category_id=to_cat_id)
            ).rowcount

            remaining = session.execute(
                select(func.count()).select_from(Expense).where(
                    Expense.category_id == from_cat_id
                )
            ).scalar_one()

            if remaining == 0:
                session.execute(delete(Category).where(Category.id == from_cat_id))

            session.commit()
            return {"success": True, "moved_count": moved_count}
        except Exception as e:
            session.rollback()
            return {"success": False, "error": str(e)}


# -- the seed's prompts and its optional extension ---------------------------------

def transfer_failing_halfway(user_id, from_category_id, to_category_id, amount):
    """Prompt 3, "Prove Rollback": the debit is added, then the transfer fails
    before the credit; afterwards a query proves nothing was saved."""
    with Session(engine) as session:
        try:
            session.add(Expense(user_id=user_id, category_id=from_category_id,
                                description="Transfer (debit)", amount=-amount))
            session.flush()                       # the debit reached the database
            raise RuntimeError("insufficient_funds")
        except Exception as e:
            session.rollback()
            result = {"success": False, "error": str(e)}
    with Session(engine) as session:
        result["debits_saved"] = session.execute(
            select(func.count()).select_from(Expense).where(
                Expense.description == "Transfer (debit)")).scalar_one()
    return result


def import_expenses(user_id, rows):
    """Optional Extension: Savepoints.  Each item in its own begin_nested(),
    so a bad one is skipped without aborting the batch."""
    saved, skipped = 0, 0
    with Session(engine) as session:
        for description, amount, category_id in rows:
            try:
                with session.begin_nested():
                    session.add(Expense(user_id=user_id, description=description,
                                        amount=amount, category_id=category_id))
                saved += 1
            except Exception:
                skipped += 1
        session.commit()
    return {"saved": saved, "skipped": skipped}


def commit_after_caught_error():
    """The COMMIT pgatomic refuses to report as success: a statement failed
    inside the transaction, the code caught it and committed anyway; the
    server answers that COMMIT with ROLLBACK (psycopg reports success)."""
    with Session(engine) as session:
        try:
            session.add(Expense(user_id=1, description="Lost?", amount=1, category_id=1))
            session.flush()
            try:
                session.execute(text("SELECT 1/0"))
            except Exception:
                pass                              # caught and ignored
            session.commit()
            return {"success": True}
        except Exception as e:
            session.rollback()
            return {"success": False, "error": type(e.orig).__name__ if hasattr(e, "orig")
                    else type(e).__name__}


# -- setup and the demo ---------------------------------------------------------

def create_schema():
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([
            User(id=1, name="Alice", food_budget=200, entertainment_budget=50),
            User(id=2, name="Bob", food_budget=100, entertainment_budget=100),
            Category(id=1, name="Food"), Category(id=2, name="Fast Food"),
            Category(id=3, name="Entertainment"),
        ])
        session.commit()


def show():
    with Session(engine) as session:
        alice = session.execute(select(User).where(User.name == "Alice")).scalars().one()
        print(f"  Alice's Food: ${alice.food_budget}, Entertainment: ${alice.entertainment_budget}")
        for e in session.execute(select(Expense).order_by(Expense.id)).scalars():
            print(f"    expense {e.id}: user {e.user_id}, category {e.category_id},"
                  f" {e.description!r}, {e.amount}")
        print("    categories:", [c.name for c in
                                  session.execute(select(Category).order_by(Category.id)).scalars()])


def main():
    print(f"seed 004 with SQLAlchemy models and Session on {engine.dialect.name}+"
          f"{engine.dialect.driver}")
    create_schema()
    print("  basic transfer:", end=" ")
    basic_transfer()
    print("  transfer 1 -> 3:", transfer_budget(1, 1, 3, 100))
    print("  transfer 1 -> 999:", transfer_budget(1, 1, 999, 100))
    print("  transfer failing halfway:", transfer_failing_halfway(1, 1, 3, 10))
    created = create_expense(1, "Groceries", 52.50, 2)
    print("  create_expense Groceries:", created)
    bad = create_expense(1, "Test", 10.00, 999)
    print("  create_expense category 999:", {**bad, "error": bad["error"].splitlines()[0]})
    print(f"  update_expense_amount {created['id']}:", update_expense_amount(created["id"], 60))
    print("  update_expense_amount 99:", update_expense_amount(99, 1))
    print("  merge 2 -> 2:", merge_categories(1, 2, 2))
    print("  merge 2 -> 1:", merge_categories(1, 2, 1))
    print("  import with savepoints:", import_expenses(
        1, [("Cinema", 12, 3), ("Nowhere", 5, 999), ("Snacks", 4, 1)]))
    print("  commit after a caught error:", commit_after_caught_error())
    show()
    print("  -> one debit/credit pair, no half transfer, no expense for category 999,"
          " 'Fast Food' merged into Food, the bad import row skipped alone,"
          " and the COMMIT answered with ROLLBACK reported as a failure")
    engine.dispose()


if __name__ == "__main__":
    main()
