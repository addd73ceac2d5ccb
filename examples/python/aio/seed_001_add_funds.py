"""Seed 001 on asyncio: adding funds to a user inside
`async with transaction.atomic():` (examples/python/seed_001_add_funds.py
with awaits).  A CHECK constraint plays the error during save()."""

import decimal

import pgatomic
from pgatomic import transaction

SCHEMA = """
CREATE TABLE app_user (id int PRIMARY KEY, username text NOT NULL,
                       availabe_funds numeric NOT NULL DEFAULT 0
                       CHECK (availabe_funds <= 1000));
"""


class User:
    """The few lines of a model the view needs: load and asave()."""

    def __init__(self, id, username, availabe_funds):
        self.id, self.username, self.availabe_funds = id, username, availabe_funds

    @classmethod
    async def get(cls, id):
        row = (await pgatomic.aconnection.execute(
            "SELECT id, username, availabe_funds FROM app_user WHERE id = $1", [id])).fetchone()
        return cls(*row)

    async def save(self):
        await pgatomic.aconnection.execute(
            "UPDATE app_user SET username = $2, availabe_funds = $3 WHERE id = $1",
            [self.id, self.username, self.availabe_funds])


class Request:
    def __init__(self, user):
        self.user = user


class CreateChargeView:
    async def post(self, request, amount_in_dollars):
        async with transaction.atomic():
            user = request.user
            user.availabe_funds += amount_in_dollars
            await user.save()
        return "charged"


async def main():
    from _schema import ashow, use_fresh_schema_async
    await use_fresh_schema_async("seed_001_async")
    await pgatomic.aconnection.execute(SCHEMA)
    await pgatomic.aconnection.execute("INSERT INTO app_user VALUES (1, 'alice', 100)")

    print("seed 001 (asyncio): adding funds with async with transaction.atomic()")
    view = CreateChargeView()
    print("  +50:", await view.post(Request(await User.get(1)), decimal.Decimal(50)))
    try:
        await view.post(Request(await User.get(1)), decimal.Decimal(5000))
    except pgatomic.IntegrityError as e:
        print(f"  +5000: {type(e).__name__}: {e.diag.message_primary}")
    await ashow("app_user", "SELECT * FROM app_user")
    print("  -> 150: the failed save() was rolled back")
