from __future__ import annotations

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. SE.")

    class Meta:
        verbose_name = "customer"
        verbose_name_plural = "customers"

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    id = models.BigAutoField(primary_key=True)
    reference = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    customer_email = models.EmailField(max_length=254)
    # Negative for refunds.
    total_cents = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    placed_at = models.DateTimeField(db_index=True)

    class Meta:
        # No default ordering on purpose: exports order by pk, and an implicit ORDER BY would hide that.
        verbose_name = "order"
        verbose_name_plural = "orders"
        indexes = [models.Index(fields=["status"], name="orders_order_status_idx")]
        permissions = [("export_order", "Can export orders")]

    def __str__(self) -> str:
        return self.reference
