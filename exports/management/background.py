"""The ``export`` command's background half: ``--background`` queues the checked request as a job, ``--jobs`` lists
the recent ones."""

from __future__ import annotations

from django.core.management.base import CommandParser
from django.urls import reverse
from django.utils.translation import gettext as _

from exports import jobs
from exports.columns import parse_column_keys
from exports.job_models import ExportJob
from exports.management.arguments import parse_filters
from exports.runs import ExportRequest

#: How many jobs ``--jobs`` lists, the newest first.
RECENT_JOBS = 20


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--background",
        action="store_true",
        help=_(
            "Queue the export as a background job (run by a worker, stored, downloaded from its status URL) "
            "and print its id and status URL."
        ),
    )
    parser.add_argument(
        "--jobs", dest="list_jobs", action="store_true", help=_("List the recent background jobs and exit.")
    )


def queue(request: ExportRequest, *, filters: list[str], columns: str | None) -> tuple[str, bool]:
    """Queue ``request`` as a job, with the command's ``--filter`` and ``--columns``: the line to print (its id and
    status URL) and whether it is a new job (``False``: the same export was already queued or running, and that job
    is the one shown)."""
    chosen = parse_column_keys([columns]) if columns is not None else None
    job, created = jobs.submit(request, filters=parse_filters(filters), columns=chosen)
    return f"{job.pk}\t{reverse('exports:job', args=[job.pk])}", created


def recent_jobs() -> list[str]:
    """One line for each recent job: id, state, export, format, user, progress, when, status URL."""
    lines = []
    for job in ExportJob.objects.order_by("-created_at")[:RECENT_JOBS]:
        total = f"/{job.rows_total}" if job.rows_total is not None else ""
        lines.append(
            f"{job.pk}\t{job.state}\t{job.export_name}\t{job.format}\t{job.username or '-'}\t"
            f"{job.rows_done}{total} rows\t{job.created_at:%Y-%m-%d %H:%M:%S}\t{reverse('exports:job', args=[job.pk])}"
        )
    return lines
