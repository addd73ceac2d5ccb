"""Seed 000: an order made from a cart, as written (Customer, Order,
CartItem with select_related, OrderItem with bulk_create), inside Django's
own transaction.atomic().  A failure after the order row (a product with no
price: OrderItem.unit_price is NOT NULL) leaves no order behind."""

from django.db import IntegrityError, transaction

import serializers
from shop import models


class OrderCreateSerializer(serializers.Serializer):
    cart_id = serializers.UUIDField()

    def save(self, **kwargs):
        with transaction.atomic():
            cart_id = self.validated_data['cart_id']  # Get the cart id
            get_user_id = self.context['user_id']  # get the user id form customer

            # Getting Customer from User id  #
            (customer, created) = models.Customer.objects.get_or_create(usser_id=get_user_id)

            # Create Order Table #
            order_customer_created = models.Order.objects.create(customer=customer)

            # filter the cartitems table #
            cartItems = models.CartItem.objects.select_related('product').filter(cart_id=cart_id)

            # Create OrdenItems Table #
            order_items = [models.OrderItem(
                order=order_customer_created,
                product=cartItems.product,
                quantity=cartItems.quantity,
                unit_price=cartItems.product.unit_price
            ) for cartItems in cartItems]

            models.OrderItem.objects.bulk_create(order_items)
            return order_customer_created


def fill_cart(items):
    """A cart holding (product, quantity) pairs."""
    cart = models.Cart.objects.create()
    models.CartItem.objects.bulk_create(
        models.CartItem(cart=cart, product=product, quantity=quantity)
        for product, quantity in items)
    return cart


def main(show):
    keyboard = models.Product.objects.create(title="keyboard", unit_price="49.90")
    mouse = models.Product.objects.create(title="mouse", unit_price="19.50")
    cable = models.Product.objects.create(title="cable", unit_price=None)   # no price
    good = fill_cart([(keyboard, 1), (mouse, 2)])
    bad = fill_cart([(keyboard, 1), (cable, 4)])

    print("seed 000: order from a cart inside transaction.atomic() (Django ORM)")
    order = OrderCreateSerializer({"cart_id": good.id}, {"user_id": 7}).save()
    print(f"  cart {str(good.id)[:8]}: order {order.id} created")
    try:
        OrderCreateSerializer({"cart_id": bad.id}, {"user_id": 8}).save()
    except IntegrityError as e:
        print(f"  cart {str(bad.id)[:8]}: failed after the order row was inserted: "
              f"{type(e).__name__}: {e.__cause__.diag.message_primary}")
    show("orders", models.Order.objects.values("id", "customer__usser_id"))
    show("order items", models.OrderItem.objects.values(
        "order_id", "product__title", "quantity", "unit_price"))
    show("customers", models.Customer.objects.values("usser_id"))
    print("  -> no orphan order: the failed order and its customer were rolled back")
