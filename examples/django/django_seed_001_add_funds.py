"""Seed 001: adding funds to request.user inside Django's own
transaction.atomic(), as written.  The model's CHECK constraint (funds may
not exceed 1000) plays the error in user.save() that rolls the change back."""

import decimal

from django.db import IntegrityError, transaction

from shop import models


class Request:
    def __init__(self, user):
        self.user = user


class CreateChargeView:
    def post(self, request, amount_in_dollars):
        with transaction.atomic():
            user = request.user
            user.availabe_funds += amount_in_dollars
            user.save()
        return "charged"


def main(show):
    models.User.objects.create(username="alice", availabe_funds=100)
    print("seed 001: adding funds with transaction.atomic() (Django ORM)")
    view = CreateChargeView()
    alice = models.User.objects.get(username="alice")
    print("  +50:", view.post(Request(alice), decimal.Decimal(50)))
    try:
        view.post(Request(models.User.objects.get(username="alice")), decimal.Decimal(5000))
    except IntegrityError as e:
        print(f"  +5000: {type(e).__name__}: {e.__cause__.diag.message_primary}")
    show("users", models.User.objects.values("username", "availabe_funds"))
    print("  -> 150.00: the failed save() was rolled back")
