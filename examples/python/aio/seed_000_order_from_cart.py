"""Seed 000 on asyncio: creating an order from a cart inside
`async with transaction.atomic():`.

examples/python/seed_000_order_from_cart.py with the awaits an asyncio view
(Django's async views, FastAPI) has: the same blocks, on the current task's
connection (pgatomic.aconnection).  A failure after the order row is
created leaves no orphan order."""

import uuid

import pgatomic
from pgatomic import transaction

SCHEMA = """
CREATE TABLE customer (id serial PRIMARY KEY, user_id int UNIQUE NOT NULL);
CREATE TABLE product (id int PRIMARY KEY, title text NOT NULL, unit_price numeric);
CREATE TABLE cart (id uuid PRIMARY KEY);
CREATE TABLE cartitem (cart_id uuid REFERENCES cart, product_id int REFERENCES product,
                       quantity int NOT NULL);
CREATE TABLE "order" (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer);
CREATE TABLE orderitem (order_id int NOT NULL REFERENCES "order", product_id int NOT NULL,
                        quantity int NOT NULL, unit_price numeric NOT NULL);
"""


async def create_schema():
    await pgatomic.aconnection.execute(SCHEMA)


async def get_or_create_customer(user_id):
    """Customer.objects.aget_or_create(user_id=...): a savepoint around the
    INSERT so a concurrent create falls back to get."""
    db = pgatomic.aconnection
    row = (await db.execute("SELECT id FROM customer WHERE user_id = $1", [user_id])).fetchone()
    if row:
        return row[0], False
    try:
        async with transaction.atomic():
            return (await db.execute("INSERT INTO customer (user_id) VALUES ($1) RETURNING id",
                                     [user_id])).scalar(), True
    except pgatomic.IntegrityError:
        return (await db.execute("SELECT id FROM customer WHERE user_id = $1",
                                 [user_id])).scalar(), False


class OrderCreateSerializer:
    def __init__(self, data, context):
        self.validated_data = {"cart_id": uuid.UUID(str(data["cart_id"]))}
        self.context = context

    async def save(self, **kwargs):
        async with transaction.atomic():
            db = pgatomic.aconnection
            cart_id = self.validated_data['cart_id']  # Get the cart id
            get_user_id = self.context['user_id']  # get the user id form customer

            # Getting Customer from User id  #
            (customer, created) = await get_or_create_customer(get_user_id)

            # Create Order Table #
            order_customer_created = (await db.execute(
                'INSERT INTO "order" (customer_id) VALUES ($1) RETURNING id',
                [customer])).scalar()

            # filter the cartitems table #
            cartItems = (await db.execute(
                "SELECT ci.product_id, ci.quantity, p.unit_price FROM cartitem ci"
                " JOIN product p ON p.id = ci.product_id WHERE ci.cart_id = $1"
                " ORDER BY ci.product_id", [cart_id])).rows

            # Create OrdenItems Table #
            order_items = [(
                order_customer_created,   # order
                product,                  # product
                quantity,                 # quantity
                unit_price,               # unit_price
            ) for (product, quantity, unit_price) in cartItems]

            await db.executemany(
                "INSERT INTO orderitem (order_id, product_id, quantity, unit_price)"
                " VALUES ($1, $2, $3, $4)", order_items)  # abulk_create
            return order_customer_created


async def fill_cart(cart_id, items):
    db = pgatomic.aconnection
    await db.execute("INSERT INTO cart VALUES ($1)", [cart_id])
    await db.executemany("INSERT INTO cartitem VALUES ($1, $2, $3)",
                         [(cart_id, product, qty) for product, qty in items])


async def main():
    from _schema import ashow, use_fresh_schema_async
    await use_fresh_schema_async("seed_000_async")
    await create_schema()
    db = pgatomic.aconnection
    await db.executemany("INSERT INTO product VALUES ($1, $2, $3)",
                         [(1, "keyboard", 49.90), (2, "mouse", 19.50), (3, "cable", None)])
    good, bad = uuid.uuid4(), uuid.uuid4()
    await fill_cart(good, [(1, 1), (2, 2)])
    await fill_cart(bad, [(1, 1), (3, 4)])            # product 3 has no price

    print("seed 000 (asyncio): order from a cart inside async with transaction.atomic()")
    order = await OrderCreateSerializer({"cart_id": good}, {"user_id": 7}).save()
    print(f"  cart {str(good)[:8]}: order {order} created")
    try:
        await OrderCreateSerializer({"cart_id": bad}, {"user_id": 8}).save()
    except pgatomic.IntegrityError as e:
        print(f"  cart {str(bad)[:8]}: failed after the order row was inserted: "
              f"{type(e).__name__}: {e.diag.message_primary}")
    await ashow("orders", 'SELECT id, customer_id FROM "order" ORDER BY id')
    await ashow("order items", "SELECT * FROM orderitem ORDER BY order_id, product_id")
    await ashow("customers", "SELECT * FROM customer ORDER BY id")
    print("  -> no orphan order: the failed order and its customer were rolled back")
