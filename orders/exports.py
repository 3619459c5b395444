"""The demo's exports, found by ``exports`` the way ``admin.py`` is found by the admin."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from exports import Column, Export, Filter, register
from orders.models import Order


def euros(cents: int) -> Decimal:
    """``-1250`` -> ``Decimal("-12.50")``: exact, and written as a number (a negative amount is not escaped as text)."""
    return Decimal(cents).scaleb(-2)


orders = register(
    Export(
        Order,
        columns=[
            Column("id", _("ID")),
            "reference",
            Column("placed_at", _("Placed at")),
            Column("status", _("Status")),
            Column("customer__name", _("Customer")),
            Column("customer__country", _("Country")),
            Column("customer_email", _("Email"), optional=True),
            Column("total_cents", _("Total (cents)")),
            Column("total_cents", _("Total"), format=euros, name="total", optional=True, default=False),
        ],
        filters=[
            "status",
            "status__in",
            Filter("placed_at__gte", name="placed_after"),
            Filter("placed_at__lt", name="placed_before"),
            "customer__country",
            "total_cents__gte",
            "total_cents__lte",
            Filter("reference__icontains", name="reference"),
        ],
    )
)
