"""The models the seeds' code uses, with the field names it uses (000's
``usser_id`` included, as written)."""

import uuid

from django.db import models


class Customer(models.Model):
    usser_id = models.IntegerField(unique=True)


class Product(models.Model):
    title = models.CharField(max_length=100)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2, null=True)


class Cart(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveSmallIntegerField()


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)


class User(models.Model):
    """Seed 001's request.user: funds may not exceed 1000."""
    username = models.CharField(max_length=50, unique=True)
    availabe_funds = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(availabe_funds__lte=1000), name="funds_at_most_1000")]


class Note(models.Model):
    """Seed 002's obj1 and obj2."""
    title = models.CharField(max_length=50, unique=True)
