"""Seed 002 on asyncio: transaction.set_rollback(True) in an except block
(examples/python/seed_002_set_rollback.py with awaits).  Outside any block
set_rollback() raises Django's TransactionManagementError; inside an outer
block it discards the outer transaction."""

import pgatomic
from pgatomic import transaction

SCHEMA = "CREATE TABLE obj (id int PRIMARY KEY, name text NOT NULL);"


class Obj:
    def __init__(self, id, name):
        self.id, self.name = id, name

    async def save(self):
        await pgatomic.aconnection.execute("INSERT INTO obj VALUES ($1, $2)",
                                           [self.id, self.name])


async def my_view(obj1, obj2, log):
    try:
        async with transaction.atomic():
            # Database operations within the transaction
            # For example, saving multiple objects to the database
            await obj1.save()
            await obj2.save()
            # Other database operations
    except Exception as e:
        # Handle the exception, log it, or take appropriate actions.
        # Set the rollback flag to True to discard the transaction.
        log.append(f"{type(e).__name__}: {e}")
        transaction.set_rollback(True)
    finally:
        # Clean up resources or perform any necessary actions
        log.append("cleanup")


async def main():
    from _schema import ashow, use_fresh_schema_async
    await use_fresh_schema_async("seed_002_async")
    await pgatomic.aconnection.execute(SCHEMA)
    print("seed 002 (asyncio): set_rollback(True) in an except block")

    log = []
    await my_view(Obj(1, "one"), Obj(2, "two"), log)
    print("  success:", log)
    log = []
    try:
        await my_view(Obj(3, "three"), Obj(3, "dup"), log)
    except transaction.TransactionManagementError as e:
        print(f"  failure outside any block: {log[0]}; then set_rollback raised "
              f"TransactionManagementError: {e}")
    log = []
    async with transaction.atomic():          # e.g. ATOMIC_REQUESTS
        await Obj(10, "written before the view").save()
        await my_view(Obj(11, "eleven"), Obj(11, "dup"), log)
    print(f"  failure inside an outer block: {log[0]}; the outer block rolled back")
    await ashow("obj", "SELECT * FROM obj ORDER BY id")
    print("  -> rows 1 and 2 only: 3 was undone by its block, 10 by set_rollback(True)")
