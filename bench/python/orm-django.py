"""orm-django -- the seeds' Django code (examples/django) on Django's ORM
and transaction API, on the backend DJANGO_BENCH_ENGINE names
(django.db.backends.postgresql on psycopg 3, or pgatomic.django), with
nothing else different.  Shapes:

  seed000  OrderCreateSerializer.save(): get_or_create (a new customer,
           so its savepoint INSERT runs), Order.objects.create,
           select_related, bulk_create of two order items
  seed001  CreateChargeView.post(): user.save() of request.user
  seed002  my_view(): obj1.save(); obj2.save()
  nested   atomic { create; atomic { create } }

Started by bench/orm.py; one JSON line out (bench/python/common.py).
"""

import decimal
import os
import sys

from common import main

SHAPES = ("seed000", "seed001", "seed002", "nested")
ENGINE = os.environ.get("DJANGO_BENCH_ENGINE", "pgatomic.django")
NAME = "django-" + ("pgatomic" if ENGINE == "pgatomic.django" else "psycopg")
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples", "django")


def make(opts):
    os.environ.update(PGHOST=opts.host, PGPORT=str(opts.port), PGUSER=opts.user,
                      PGDATABASE=opts.dbname, DJANGO_DB_ENGINE=ENGINE,
                      SHOP_SCHEMA="bench_orm_django",
                      DJANGO_SETTINGS_MODULE="shop_settings")
    sys.path.insert(0, EXAMPLE)
    import django
    django.setup()
    from django.db import transaction

    import django_seed_000_order_from_cart as seed000
    import django_seed_001_add_funds as seed001
    import django_seed_002_set_rollback as seed002
    import run_all
    from shop import models

    run_all.fresh_schema()
    keyboard = models.Product.objects.create(title="keyboard", unit_price="49.90")
    mouse = models.Product.objects.create(title="mouse", unit_price="19.50")
    cart = seed000.fill_cart([(keyboard, 1), (mouse, 2)])
    user = models.User.objects.create(username="alice", availabe_funds=500)
    view = seed001.CreateChargeView()
    request = seed001.Request(user)

    def order(i):
        seed000.OrderCreateSerializer({"cart_id": cart.id}, {"user_id": i}).save()

    def charge(i):
        # +1 then -1: the balance stays inside the model's CHECK.
        view.post(request, decimal.Decimal(1 if i % 2 == 0 else -1))

    def two_saves(i):
        log = []
        seed002.my_view(models.Note(title="a%d" % i), models.Note(title="b%d" % i), log)

    def nested(i):
        with transaction.atomic():
            models.Note.objects.create(title="o%d" % i)
            with transaction.atomic():
                models.Note.objects.create(title="i%d" % i)

    return {"seed000": order, "seed001": charge, "seed002": two_saves, "nested": nested}


if __name__ == "__main__":
    main(NAME, make, SHAPES)
