"""Exports the server-process tests need registered inside the servers they start (found by autodiscovery)."""

from __future__ import annotations

import os
import time
from pathlib import Path

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


#: How many rows ``stalls-midway`` writes before it stalls.
ROWS_BEFORE_STALL = 2500
_written = 0


def stall(reference: str) -> str:
    """Stall mid-stream, after telling the test so, when ``EXPORTS_TESTS_STALL_MARKER`` names the file to create:
    a test can then interrupt a run that is certain to be under way (and it is never waiting on a clock)."""
    global _written
    marker = os.environ.get("EXPORTS_TESTS_STALL_MARKER")
    _written += 1
    if marker and _written == ROWS_BEFORE_STALL + 1:
        Path(marker).touch()
        time.sleep(120)  # until the test's signal; bounded, so a test that never sends one still ends
    return reference


stalls_midway = register(
    Export(
        Order,
        name="stalls-midway",
        columns=["id", Column("reference", format=stall), "customer_email"],
        permission="orders.export_order",
    )
)
