"""Exports the server-process tests need registered inside the servers they start (found by autodiscovery)."""

from __future__ import annotations

from exports import Column, Export, register
from orders.models import Order

#: The reference of the row at which ``fails-midway`` breaks.
FAILING_REFERENCE = "BOOM"


def explode(reference: str) -> str:
    """A fault in the middle of a stream: the row called ``BOOM`` cannot be written."""
    if reference == FAILING_REFERENCE:
        raise RuntimeError("injected failure")
    return reference


fails_midway = register(
    Export(
        Order,
        name="fails-midway",
        columns=["id", Column("reference", format=explode), "customer_email"],
        permission="orders.export_order",
    )
)
