"""``export_started`` and ``export_finished``: sent once per run, on every surface, by the run's one owner.

Both are sent with the :class:`~exports.Export` as ``sender`` and these keyword arguments:

* ``run``: the :class:`~exports.models.ExportRun` audit record, or ``None`` when none is kept (``EXPORTS_AUDIT``
  off); at ``export_finished`` it holds the outcome, rows, size and duration.
* ``user``: who runs it; ``None`` for the operator (``manage.py export`` without ``--user``).
* ``surface``: ``"url"``, ``"admin"`` or ``"command"`` (an :class:`~exports.models.ExportRun.Surface`).
* ``format``: the file's format name (``"csv"``).
* ``rows``, ``bytes``: what was streamed so far (``0`` at the start).
* ``outcome``: ``"running"`` at the start; ``"completed"``, ``"aborted"`` (the client left) or ``"failed"`` at the end.
* ``error``: the exception's class name for a failed run, else ``""``.

``export_finished`` follows every ``export_started``, whatever the ending: a failure, a closed connection, Ctrl-C. A
receiver that raises is logged (on the ``django.dispatch`` and ``exports`` loggers) and never breaks the export nor
leaves it unfinished. Receivers run in the thread that runs the export, so keep them quick.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger("exports")

export_started = Signal()
export_finished = Signal()


def send(signal: Signal, export: Any, **kwargs: Any) -> None:
    """Send ``signal`` to every receiver; one that raises is logged, and the others still run."""
    for receiver, result in signal.send_robust(sender=export, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "A receiver of %s failed for export %r: %s: %s",
                "export_started" if signal is export_started else "export_finished",
                getattr(export, "name", export),
                type(result).__name__,
                result,
                extra={"receiver": receiver},
            )


def format_name(request: Any) -> str:
    """The name of the request's format: its ``format`` attribute (a name, or an object with a ``name``), else CSV."""
    chosen = getattr(request, "format", None)
    if chosen is None:
        return "csv"
    return chosen if isinstance(chosen, str) else str(getattr(chosen, "name", chosen))
