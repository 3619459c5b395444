"""The README's scoping recipe, "each user exports only their own company's orders", on the demo's orders.

A user's companies are their groups, each named after a customer; a real project would follow a foreign key
(``orders.filter(customer__company=user.profile.company)``). Registered per test, not autodiscovered.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from exports import Export
from orders.models import Order


class CompanyOrders(Export):
    model = Order
    name = "company-orders"
    columns = ["reference", "customer__name", "status"]
    filters = ["status"]
    permission = "orders.export_order"
    formats = ["csv"]  # one format and no optional column: the admin downloads at once, without its export page

    def get_queryset(self, user: Any) -> models.QuerySet[Any]:
        orders = super().get_queryset(user)
        if user is None:  # manage.py export without --user: the operator, who has shell access anyway
            return orders
        return orders.filter(customer__name__in=user.groups.values("name"))
