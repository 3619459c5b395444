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


#: Seconds each row of ``orders-paced`` takes (the browser test slows it down further, to watch its progress).
PACE = float(os.environ.get("EXPORTS_TEST_PACE", "0.001"))


def paced(reference: str) -> str:
    """A row that takes a moment (about a millisecond): a background export of a few thousand rows then runs long
    enough for a test to watch its progress, cancel it, kill its worker or its database connection midway."""
    time.sleep(PACE)
    return reference


orders_paced = register(
    Export(
        Order,
        name="orders-paced",
        columns=["id", Column("reference", format=paced), Column("customer_email", optional=True)],
        permission="orders.export_order",
        chunk_size=200,
    )
)


#: The reference of the row at which ``stalls-midway`` stops, until its process is ended by a signal.
STALLING_REFERENCE = "STALL"
#: The environment variable naming the file that ``stalls-midway`` creates when it stops: the test's cue to act.
STALL_MARKER = "EXPORTS_TESTS_STALL_MARKER"


def stall(reference: str) -> str:
    """A run still going when its process is signalled: the row called ``STALL`` waits for the end of the process."""
    if reference == STALLING_REFERENCE:
        Path(os.environ[STALL_MARKER]).touch()
        while True:
            time.sleep(0.05)
    return reference


stalls_midway = register(
    Export(
        Order,
        name="stalls-midway",
        columns=["id", Column("reference", format=stall), "customer_email"],
        permission="orders.export_order",
    )
)
