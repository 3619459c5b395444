"""The demo's receivers of the exports' signals: a log line when a download starts and one when it ends.

Runs of ``manage.py export`` are left out: its stderr is for its progress and for one line when it fails, and the
person at the shell sees the outcome there anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from exports import Export

logger = logging.getLogger("orders")

COMMAND = "command"


def log_start(sender: Export, *, user: Any, surface: str, format: str, **kwargs: Any) -> None:
    if surface != COMMAND:
        logger.info("Export %r started by %s (%s, %s)", sender.name, user, surface, format)


def log_end(
    sender: Export, *, user: Any, surface: str, outcome: str, rows: int, bytes: int, error: str, **kwargs: Any
) -> None:
    if surface != COMMAND:
        failure = f" ({error})" if error else ""
        logger.info(
            "Export %r %s%s after %d rows, %d bytes, by %s (%s)",
            sender.name,
            outcome,
            failure,
            rows,
            bytes,
            user,
            surface,
        )
