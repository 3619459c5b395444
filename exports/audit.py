"""The audit record of each run: written before the first byte, finished in ``finally`` whatever the outcome."""

from __future__ import annotations

import getpass
import logging
import os
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, models
from django.utils import timezone

from exports import limits
from exports.conf import app_settings
from exports.models import ExportRun

if TYPE_CHECKING:
    from exports.pipeline import ExportJob

logger = logging.getLogger("exports")

#: A long admin selection (thousands of ids) is recorded up to this many characters.
MAX_SELECTION = 2000


def start(job: ExportJob) -> ExportRun | None:
    """Record the start of ``job``'s run, holding a slot of its user (see :mod:`exports.limits`).

    Returns ``None`` when no record is needed: ``EXPORTS_AUDIT`` is off and no concurrency limit applies. Raises
    :class:`~exports.exceptions.ExportBusy` when the user's slots are all taken.
    """
    user = job.user if isinstance(job.user, models.Model) and job.user.is_authenticated else None
    limited = user is not None and app_settings.MAX_CONCURRENT_PER_USER is not None
    if not app_settings.AUDIT and not limited:
        return None
    run = ExportRun(
        export_name=job.export.name,
        surface=job.surface,
        user=user,
        username=_username(user, job.surface),
        filters=job.filters.as_strings(),
        selection=job.selection,
        columns=[column.key for column in job.columns],
        host=limits.HOST,
        pid=os.getpid(),
    )
    limits.claim_slot(run)
    return run


def finish(run: ExportRun, job: ExportJob, outcome: ExportRun.Outcome, error: str = "") -> None:
    """Close the record (and so free the slot); with ``EXPORTS_AUDIT`` off, delete it. Never raises."""
    now = timezone.now()
    records = ExportRun.objects.filter(pk=run.pk)
    try:
        if app_settings.AUDIT:
            records.update(
                outcome=outcome,
                rows_sent=job.rows_sent,
                bytes_sent=job.bytes_sent,
                finished_at=now,
                duration=now - run.started_at,
                error=error[:200],
            )
        else:
            records.delete()
    except DatabaseError:
        # The export's own failure may have broken the connection; the record stays "running" until its slot is
        # found stale. Never let the bookkeeping hide the export's own outcome.
        logger.exception("Could not finish the audit record %s of export %r", run.pk, run.export_name)


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
    if surface != "command":
        return ""
    try:
        return getpass.getuser()[:150]  # a command run without --user: who ran it on this machine
    except (OSError, KeyError):
        return ""
