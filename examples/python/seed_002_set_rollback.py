"""Seed 002: transaction.set_rollback(True) in an except block.

As written in the seed, the view runs outside any block, so set_rollback()
raises Django's TransactionManagementError (the inner atomic block has
already rolled itself back).  Called inside an outer block, as a view under
ATOMIC_REQUESTS is, set_rollback(True) discards the outer transaction."""

import pgatomic
from pgatomic import transaction

SCHEMA = "CREATE TABLE obj (id int PRIMARY KEY, name text NOT NULL);"


class Obj:
    def __init__(self, id, name):
        self.id, self.name = id, name

    def save(self):
        pgatomic.connection.execute("INSERT INTO obj VALUES ($1, $2)", [self.id, self.name])


def my_view(obj1, obj2, log):
    try:
        with transaction.atomic():
            # Database operations within the transaction
            # For example, saving multiple objects to the database
            obj1.save()
            obj2.save()
            # Other database operations
    except Exception as e:
        # Handle the exception, log it, or take appropriate actions.
        # Set the rollback flag to True to discard the transaction.
        log.append(f"{type(e).__name__}: {e}")
        transaction.set_rollback(True)
    finally:
        # Clean up resources or perform any necessary actions
        log.append("cleanup")


def main():
    from _schema import show, use_fresh_schema
    use_fresh_schema("seed_002")
    pgatomic.connection.execute(SCHEMA)
    print("seed 002: set_rollback(True) in an except block")

    log = []
    my_view(Obj(1, "one"), Obj(2, "two"), log)
    print("  success:", log)
    log = []
    try:
        my_view(Obj(3, "three"), Obj(3, "dup"), log)
    except transaction.TransactionManagementError as e:
        print(f"  failure outside any block: {log[0]}; then set_rollback raised "
              f"TransactionManagementError: {e}")
    log = []
    with transaction.atomic():                # e.g. ATOMIC_REQUESTS
        Obj(10, "written before the view").save()
        my_view(Obj(11, "eleven"), Obj(11, "dup"), log)
    print(f"  failure inside an outer block: {log[0]}; the outer block rolled back")
    show("obj", "SELECT * FROM obj ORDER BY id")
    print("  -> rows 1 and 2 only: 3 was undone by its block, 10 by set_rollback(True)")


if __name__ == "__main__":
    main()
