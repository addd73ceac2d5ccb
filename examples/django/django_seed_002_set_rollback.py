"""Seed 002: transaction.set_rollback(True) in an except block, as written.

Run outside any block, set_rollback() raises TransactionManagementError
(the inner atomic block has already rolled itself back).  Inside an outer
block, as a view is under ATOMIC_REQUESTS, it discards the outer
transaction."""

from django.db import transaction

from shop import models


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
        log.append(f"{type(e).__name__}")
        transaction.set_rollback(True)
    finally:
        # Clean up resources or perform any necessary actions
        log.append("cleanup")


def main(show):
    print("seed 002: set_rollback(True) in an except block (Django ORM)")
    log = []
    my_view(models.Note(title="one"), models.Note(title="two"), log)
    print("  success:", log)
    log = []
    try:
        my_view(models.Note(title="three"), models.Note(title="three"), log)
    except transaction.TransactionManagementError as e:
        print(f"  failure outside any block: {log[0]}; then set_rollback raised "
              f"TransactionManagementError: {e}")
    log = []
    with transaction.atomic():                # e.g. ATOMIC_REQUESTS
        models.Note.objects.create(title="written before the view")
        my_view(models.Note(title="eleven"), models.Note(title="eleven"), log)
    print(f"  failure inside an outer block: {log[0]}; the outer block rolled back")
    show("notes", models.Note.objects.order_by("id").values("title"))
    print("  -> one and two only: three was undone by its block, the rest by set_rollback(True)")
