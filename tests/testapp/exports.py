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
