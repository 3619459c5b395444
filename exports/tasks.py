"""The background task of an export job on Django's Tasks API: ``django.tasks`` on Django 6, the ``django-tasks``
backport on Django 5.2 (the same names), whichever backend the project configures in ``TASKS``.

The task takes the job's id and nothing else; the job record says what to run. It is enqueued once the transaction
that created the job commits, so a worker never looks for a job that is not there yet.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:  # the backport is installed on every supported Django, and typed: the same names as Django 6's
    from django_tasks import task, task_backends
else:
    try:
        from django.tasks import task, task_backends
    except ImportError:  # Django 5.2: the backport
        from django_tasks import task, task_backends

from exports.conf import app_settings


@task()
def run_export_job(job_id: str) -> str:
    """Run the export job ``job_id`` on a worker; returns the state it ended in."""
    from exports.worker import execute

    return execute(job_id)


def enqueue(job_id: str, *, delay: int | None = None) -> bool:
    """Hand ``job_id`` to a worker through the Tasks API, after the current transaction commits.

    ``delay``: run it no sooner than this many seconds from now (a job waiting for its user's slot), when the
    backend can defer. Returns ``False``, enqueuing nothing, when it cannot.
    """
    options: dict[str, Any] = {
        "backend": app_settings.JOB_TASK_BACKEND,
        "queue_name": app_settings.JOB_QUEUE,
    }
    if delay:
        if not task_backends[app_settings.JOB_TASK_BACKEND].supports_defer:
            return False
        options["run_after"] = timezone.now() + datetime.timedelta(seconds=delay)
    configured = run_export_job.using(**options)
    transaction.on_commit(lambda: configured.enqueue(job_id))
    return True
