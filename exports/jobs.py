"""Background exports: queue a checked request as a job, cancel it, find it for a user, fail the lost ones, expire
the old ones. The worker's side (running a job into a stored file) is :mod:`exports.worker`.

Every change of a job's state is a compare-and-set (``UPDATE ... WHERE state = <expected>``): of a worker and a
cancel, or of two workers handed the same job, exactly one wins.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from exports import storage
from exports.conf import app_settings
from exports.job_models import ExportJob
from exports.models import ExportRun
from exports.runs import ExportRequest

logger = logging.getLogger("exports")

State = ExportJob.State
LIVE = (State.QUEUED, State.RUNNING)
#: The permission that lets a user see and download every user's export files.
VIEW_ALL_PERMISSION = "exports.view_all_export_files"


class Enqueue(Protocol):
    """Hands a job's id to a worker (``EXPORTS_JOB_ENQUEUE``); returns whether it could honour ``delay``."""

    def __call__(self, job_id: str, *, delay: int | None = None) -> bool: ...


def enqueue(job_id: str, *, delay: int | None = None) -> bool:
    """Hand ``job_id`` to a worker through the configured engine."""
    function: Enqueue = import_string(app_settings.JOB_ENQUEUE)
    return function(job_id, delay=delay)


def submit(
    request: ExportRequest,
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    columns: Sequence[str] | None = None,
    selection: str = "",
    admin: str = "",
) -> tuple[ExportJob, bool]:
    """Queue ``request`` (already checked by :func:`exports.runs.prepare`) as a job; ``(job, created)``.

    ``filters`` are the request's validated filters as given (parameter -> values), ``columns`` the optional columns
    asked for (``None``: the defaults); an admin request passes its changelist's query string as ``selection`` and
    ``"<site>:<app_label>.<model_name>"`` as ``admin`` instead. While the same user's identical job is queued or
    running, that job is returned and nothing new is queued (a double click).
    """
    asked_by: Any = request.user
    user: Any = asked_by if isinstance(asked_by, AbstractBaseUser) and asked_by.is_authenticated else None
    wanted = {key: list(values) for key, values in (filters or {}).items() if key in request.filters.values}
    fields: dict[str, Any] = {
        "export_name": request.export.name,
        "format": request.format.name,
        "dialect": request.format.dialect or "",
        "language": translation.get_language() or "",
        "filters": wanted,
        "selection": selection,
        "admin": admin,
        "columns": None if columns is None else sorted(columns),
    }
    job = ExportJob(
        user=user,
        username=user.get_username()[:150] if user is not None else "",
        surface=request.surface,
        fingerprint=hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest(),
        **fields,
    )
    for _attempt in range(3):
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:
            existing = ExportJob.objects.filter(user=user, fingerprint=job.fingerprint, state__in=LIVE).first()
            if existing is not None:
                return existing, False
            continue  # the identical job ended in between: queue this one
        enqueue(str(job.pk))
        return job, True
    raise RuntimeError("Could not queue the export job")  # pragma: no cover - three races in a row


def cancel(job: ExportJob) -> bool:
    """Cancel a queued or running job; a worker running it stops within about a second and deletes its file."""
    now = timezone.now()
    done = ExportJob.objects.filter(pk=job.pk, state__in=LIVE).update(state=State.CANCELLED, finished_at=now)
    job.refresh_from_db()
    return bool(done)


def visible_jobs(user: Any) -> models.QuerySet[ExportJob]:
    """The jobs ``user`` may see: their own, or everyone's with the "view all export files" permission."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)):
        return ExportJob.objects.none()
    if user.has_perm(VIEW_ALL_PERMISSION):
        return ExportJob.objects.all()
    return ExportJob.objects.filter(user=user)


def find(job_id: Any, user: Any) -> ExportJob | None:
    """The job ``job_id`` if ``user`` may see it, else ``None`` (whether or not it exists: no enumeration)."""
    job = visible_jobs(user).filter(pk=job_id).first()
    if job is not None and job.state == State.RUNNING:
        fail_stale(job_id=job.pk)
        job.refresh_from_db()
    return job


def status(job: ExportJob) -> dict[str, Any]:
    """The job's state as the status URL's JSON answers it."""
    percent = None
    if job.rows_total:
        percent = min(100, int(job.rows_done * 100 / job.rows_total))
    elif job.state == State.COMPLETED:
        percent = 100
    return {
        "id": str(job.pk),
        "export": job.export_name,
        "format": job.format,
        "state": job.state,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": percent,
        "bytes": job.bytes_written,
        "filename": job.filename,
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at),
    }


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def fail_stale(*, job_id: Any = None, now: datetime.datetime | None = None) -> int:
    """Fail the running jobs whose worker stopped beating (killed, or its host lost) for ``EXPORTS_JOB_STALE_AFTER``
    seconds, and free their users' slots; how many. They are not retried: a job that killed its worker (out of
    memory, say) would kill the next one too; the user starts it again if they still want it."""
    now = now or timezone.now()
    oldest = now - datetime.timedelta(seconds=app_settings.JOB_STALE_AFTER)
    stale = ExportJob.objects.filter(state=State.RUNNING, heartbeat_at__lt=oldest)
    if job_id is not None:
        stale = stale.filter(pk=job_id)
    runs = list(stale.exclude(run=None).values_list("run_id", flat=True))
    failed = stale.update(
        state=State.FAILED, finished_at=now, error="The worker running this export stopped before it finished."
    )
    if failed and runs:
        ExportRun.objects.filter(pk__in=runs, outcome=ExportRun.Outcome.RUNNING).update(
            outcome=ExportRun.Outcome.FAILED, finished_at=now, error="Stale: its worker stopped"
        )
    return failed


@dataclass(frozen=True)
class Cleanup:
    """What :func:`cleanup` did."""

    expired: int
    freed: int
    stale: int
    partial: int


def cleanup(*, now: datetime.datetime | None = None, dry_run: bool = False) -> Cleanup:
    """Delete the files of expired jobs (marking them expired), fail lost running jobs, and delete temporary files
    that killed workers left in the default storage; with ``dry_run``, count what would be done and change nothing."""
    now = now or timezone.now()
    if dry_run:
        oldest_beat = now - datetime.timedelta(seconds=app_settings.JOB_STALE_AFTER)
        stale = ExportJob.objects.filter(state=State.RUNNING, heartbeat_at__lt=oldest_beat).count()
    else:
        stale = fail_stale(now=now)
    expired = freed = 0
    for job in ExportJob.objects.filter(state=State.COMPLETED, expires_at__lte=now).only("pk", "file", "bytes_written"):
        if dry_run:
            expired, freed = expired + 1, freed + job.bytes_written
            continue
        if job.file:
            freed += storage.delete(job.file)
        expired += ExportJob.objects.filter(pk=job.pk, state=State.COMPLETED).update(state=State.EXPIRED, file="")
    partial = 0
    files = storage.get_storage()
    if isinstance(files, storage.PrivateFileSystemStorage):
        oldest = now.timestamp() - app_settings.JOB_STALE_AFTER
        for path in files.partial_files():
            if path.stat().st_mtime < oldest:
                freed += path.stat().st_size
                if not dry_run:
                    path.unlink(missing_ok=True)
                partial += 1
    return Cleanup(expired=expired, freed=freed, stale=stale, partial=partial)
