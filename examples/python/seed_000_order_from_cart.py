"""Seed 000: creating an order from a cart inside transaction.atomic.

The Django code, with the ORM calls replaced by SQL on pgatomic and the
transaction code as written.  A failure after the order row is created
(the "server off" of the seed; here a cart item whose product has no
price) leaves no orphan order."""

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


def create_schema():
    pgatomic.connection.execute(SCHEMA)


def get_or_create_customer(user_id):
    """Customer.objects.get_or_create(user_id=...), as Django does it: a
    savepoint around the INSERT so a concurrent create falls back to get."""
    db = pgatomic.connection
    row = db.execute("SELECT id FROM customer WHERE user_id = $1", [user_id]).fetchone()
    if row:
        return row[0], False
    try:
        with transaction.atomic():
            return db.execute("INSERT INTO customer (user_id) VALUES ($1) RETURNING id",
                              [user_id]).scalar(), True
    except pgatomic.IntegrityError:
        return db.execute("SELECT id FROM customer WHERE user_id = $1", [user_id]).scalar(), False


class OrderCreateSerializer:
    def __init__(self, data, context):
        self.validated_data = {"cart_id": uuid.UUID(str(data["cart_id"]))}
        self.context = context

    def save(self, **kwargs):
        with transaction.atomic():
            db = pgatomic.connection
            cart_id = self.validated_data['cart_id']  # Get the cart id
            get_user_id = self.context['user_id']  # get the user id form customer

            # Getting Customer from User id  #
            (customer, created) = get_or_create_customer(get_user_id)

            # Create Order Table #
            order_customer_created = db.execute(
                'INSERT INTO "order" (customer_id) VALUES ($1) RETURNING id',
                [customer]).scalar()

            # filter the cartitems table #
            cartItems = db.execute(
                "SELECT ci.product_id, ci.quantity, p.unit_price FROM cartitem ci"
                " JOIN product p ON p.id = ci.product_id WHERE ci.cart_id = $1"
                " ORDER BY ci.product_id", [cart_id]).rows

            # Create OrdenItems Table #
            order_items = [(
                order_customer_created,   # order
                product,                  # product
                quantity,                 # quantity
                unit_price,               # unit_price
            ) for (product, quantity, unit_price) in cartItems]

            db.executemany(
                "INSERT INTO orderitem (order_id, product_id, quantity, unit_price)"
                " VALUES ($1, $2, $3, $4)", order_items)  # bulk_create
            return order_customer_created


def fill_cart(cart_id, items):
    db = pgatomic.connection
    db.execute("INSERT INTO cart VALUES ($1)", [cart_id])
    db.executemany("INSERT INTO cartitem VALUES ($1, $2, $3)",
                   [(cart_id, product, qty) for product, qty in items])


def main():
    from _schema import show, use_fresh_schema
    use_fresh_schema("seed_000")
    create_schema()
    db = pgatomic.connection
    db.executemany("INSERT INTO product VALUES ($1, $2, $3)",
                   [(1, "keyboard", 49.90), (2, "mouse", 19.50), (3, "cable", None)])
    good, bad = uuid.uuid4(), uuid.uuid4()
    fill_cart(good, [(1, 1), (2, 2)])
    fill_cart(bad, [(1, 1), (3, 4)])            # product 3 has no price

    print("seed 000: order from a cart inside transaction.atomic()")
    order = OrderCreateSerializer({"cart_id": good}, {"user_id": 7}).save()
    print(f"  cart {str(good)[:8]}: order {order} created")
    try:
        OrderCreateSerializer({"cart_id": bad}, {"user_id": 8}).save()
    except pgatomic.IntegrityError as e:
        print(f"  cart {str(bad)[:8]}: failed after the order row was inserted: "
              f"{type(e).__name__}: {e.diag.message_primary}")
    show("orders", 'SELECT id, customer_id FROM "order" ORDER BY id')
    show("order items", "SELECT * FROM orderitem ORDER BY order_id, product_id")
    show("customers", "SELECT * FROM customer ORDER BY id")
    print("  -> no orphan order: the failed order and its customer were rolled back")


if __name__ == "__main__":
    main()
