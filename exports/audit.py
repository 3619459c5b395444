"""The audit record of each run: written when the run starts, finished exactly once whatever the outcome.

The record is also the user's concurrency slot while the run lasts (:mod:`exports.slots`). It never holds the exported
data, only the filters, the selection, the column names and the format.
"""

from __future__ import annotations

import getpass
import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, models
from django.utils import timezone

from exports import slots
from exports.conf import app_settings
from exports.models import ExportRun

logger = logging.getLogger("exports")

#: A long admin selection (thousands of ids) is recorded up to this many characters.
MAX_SELECTION = 2000


def start(
    *,
    export_name: str,
    surface: ExportRun.Surface,
    user: Any,
    filters: dict[str, str],
    selection: str,
    columns: list[str],
    format: str = "csv",
    dialect: str = "",
) -> ExportRun | None:
    """Record the start of a run, holding a slot of its user.

    Returns ``None`` when no record is needed: ``EXPORTS_AUDIT`` is off and no concurrency limit applies. Raises
    :class:`~exports.exceptions.ExportBusy` when the user's slots are all taken.
    """
    user = user if isinstance(user, models.Model) and getattr(user, "is_authenticated", False) else None
    limited = user is not None and app_settings.MAX_CONCURRENT_PER_USER is not None
    if not app_settings.AUDIT and not limited:
        return None
    record = ExportRun(
        export_name=export_name,
        surface=surface,
        user=user,
        username=_username(user, surface),
        filters=filters,
        selection=selection,
        columns=columns,
        format=format,
        dialect=dialect,
    )
    slots.claim_slot(record)
    return record


def finish(record: ExportRun, *, outcome: ExportRun.Outcome, rows: int, size: int, error: str = "") -> None:
    """Close the record (and so free the slot); with ``EXPORTS_AUDIT`` off, delete it. Never raises."""
    now = timezone.now()
    records = ExportRun.objects.filter(pk=record.pk)
    try:
        if app_settings.AUDIT:
            ending = {
                "outcome": outcome,
                "rows_sent": rows,
                "bytes_sent": size,
                "finished_at": now,
                "duration": now - record.started_at,
                "error": error[:200],
            }
            records.update(**ending)
            # The instance too: the signal export_finished hands it to its receivers.
            for field, value in ending.items():
                setattr(record, field, value)
        else:
            records.delete()
    except DatabaseError:
        # The export's own failure may have broken the connection; the record stays "running" until its slot is
        # found stale. The bookkeeping must never hide the export's own outcome.
        logger.exception("Could not finish the audit record %s of export %r", record.pk, record.export_name)


def describe_selection(queryset: models.QuerySet[Any]) -> str:
    """The rows a surface chose itself (the admin's changelist), as the SQL condition that selects them."""
    try:
        sql = str(queryset.query)
    except EmptyResultSet:
        return "(nothing)"
    _, found, condition = sql.partition(" WHERE ")
    text = condition if found else "(all rows)"
    return text if len(text) <= MAX_SELECTION else text[: MAX_SELECTION - 1] + "…"


def _username(user: Any, surface: str) -> str:
    if isinstance(user, AbstractBaseUser):
        return user.get_username()[:150]
    if surface != ExportRun.Surface.COMMAND:
        return ""
    try:
        return getpass.getuser()[:150]  # a command run without --user: who ran it on this machine
    except (OSError, KeyError):
        return ""
