"""The demo's exports, found by ``exports`` the way ``admin.py`` is found by the admin."""

from __future__ import annotations

from decimal import Decimal

from exports import Column, Export, Filter, register
from orders.models import Order


def euros(cents: int) -> Decimal:
    """``-1250`` -> ``Decimal("-12.50")``: exact, and written as a number (a negative amount is not escaped as text)."""
    return Decimal(cents).scaleb(-2)


orders = register(
    Export(
        Order,
        columns=[
            Column("id", "ID"),
            "reference",
            Column("placed_at", "Placed at"),
            Column("status", "Status"),
            Column("customer__name", "Customer"),
            Column("customer__country", "Country"),
            Column("customer_email", "Email", optional=True),
            Column("total_cents", "Total (cents)"),
            Column("total_cents", "Total", format=euros, name="total", optional=True, default=False),
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
