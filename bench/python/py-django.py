"""py-django -- Django's ``transaction.atomic()`` with raw SQL through
``connection.cursor()``, on the postgresql backend over psycopg 3, with a
minimal ``settings.configure()`` (no project, no models)."""

import django
from django.conf import settings

from common import accounts, main

INSERT = "INSERT INTO bench_items (v) VALUES (%s)"
DEBIT = "UPDATE bench_accounts SET b = b - %s WHERE id = %s"
CREDIT = "UPDATE bench_accounts SET b = b + %s WHERE id = %s"
SELECT = "SELECT id, b FROM bench_accounts WHERE id = %s"


def make(opts):
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        DATABASES={"default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": opts.dbname, "USER": opts.user,
            "HOST": opts.host, "PORT": opts.port,
        }},
    )
    django.setup()
    from django.db import connection, transaction
    atomic = transaction.atomic

    def insert(i):
        with atomic():
            with connection.cursor() as cur:
                cur.execute(INSERT, [i])

    def transfer(i):
        src, dst = accounts(i)
        with atomic():
            with connection.cursor() as cur:
                cur.execute(DEBIT, [1, src])
                cur.execute(CREDIT, [1, dst])

    def nested(i):
        with atomic():
            with connection.cursor() as cur:
                cur.execute(INSERT, [i])
            with atomic():
                with connection.cursor() as cur:
                    cur.execute(INSERT, [i])

    def empty(i):
        with atomic():
            pass

    def ten(i):
        with atomic():
            with connection.cursor() as cur:
                for _ in range(10):
                    cur.execute(INSERT, [i])

    def select(i):
        with connection.cursor() as cur:
            cur.execute(SELECT, [accounts(i)[0]])
            cur.fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-django", make)
