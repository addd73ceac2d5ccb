"""Seed 001: adding funds to a user inside `with transaction.atomic():`.

`user.save()` becomes an UPDATE; a CHECK constraint (funds may not exceed a
limit) plays the error during save() that rolls the change back."""

import decimal

import pgatomic
from pgatomic import transaction

SCHEMA = """
CREATE TABLE app_user (id int PRIMARY KEY, username text NOT NULL,
                       availabe_funds numeric NOT NULL DEFAULT 0
                       CHECK (availabe_funds <= 1000));
"""


class User:
    """The few lines of a model the view needs: load and save()."""

    def __init__(self, id, username, availabe_funds):
        self.id, self.username, self.availabe_funds = id, username, availabe_funds

    @classmethod
    def get(cls, id):
        row = pgatomic.connection.execute(
            "SELECT id, username, availabe_funds FROM app_user WHERE id = $1", [id]).fetchone()
        return cls(*row)

    def save(self):
        pgatomic.connection.execute(
            "UPDATE app_user SET username = $2, availabe_funds = $3 WHERE id = $1",
            [self.id, self.username, self.availabe_funds])


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


def main():
    from _schema import show, use_fresh_schema
    use_fresh_schema("seed_001")
    pgatomic.connection.execute(SCHEMA)
    pgatomic.connection.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")

    print("seed 001: adding funds with transaction.atomic()")
    view = CreateChargeView()
    print("  +50:", view.post(Request(User.get(1)), decimal.Decimal(50)))
    try:
        view.post(Request(User.get(1)), decimal.Decimal(5000))
    except pgatomic.IntegrityError as e:
        print(f"  +5000: {type(e).__name__}: {e.diag.message_primary}")
    show("app_user", "SELECT * FROM app_user")
    print("  -> 150: the failed save() was rolled back")


if __name__ == "__main__":
    main()
