from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. SE."))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        REFUNDED = "refunded", _("Refunded")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.BigAutoField(primary_key=True)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    customer_email = models.EmailField(_("customer email"), max_length=254)
    # Negative for refunds.
    total_cents = models.BigIntegerField(_("total cents"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    placed_at = models.DateTimeField(_("placed at"), db_index=True)

    class Meta:
        # No default ordering on purpose: exports order by pk, and an implicit ORDER BY would hide that.
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["status"], name="orders_order_status_idx")]
        permissions = [("export_order", "Can export orders")]

    def __str__(self) -> str:
        return self.reference
