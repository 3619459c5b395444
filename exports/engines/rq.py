"""Background exports run by RQ workers on Redis: ``EXPORTS_JOB_ENQUEUE = "exports.engines.rq.enqueue"``.

A thin RQ job calls the same function as the Tasks API's task (:func:`exports.worker.execute`) with the job's id, so
it works the same on every supported Django (the Tasks API's RQ backend, django-tasks-rq, implements the backport's
backend only: see docs/jobs.md). Workers: ``DJANGO_SETTINGS_MODULE=... rq worker --url <EXPORTS_RQ_URL>
--with-scheduler <EXPORTS_RQ_QUEUE>``; the scheduler runs the jobs that wait for their user's slot.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from exports.conf import app_settings


def enqueue(job_id: str, *, delay: int | None = None) -> bool:
    """Queue ``job_id`` on the RQ queue once the current transaction commits (``delay``: that many seconds later)."""
    from redis import Redis
    from rq import Queue

    queue = Queue(app_settings.RQ_QUEUE, connection=Redis.from_url(app_settings.RQ_URL))
    # No time limit: an export takes as long as its rows do; a lost worker is found by its heartbeat instead.
    options: dict[str, Any] = {"job_timeout": -1, "result_ttl": 3600, "failure_ttl": 24 * 3600}
    if delay:
        transaction.on_commit(lambda: queue.enqueue_in(datetime.timedelta(seconds=delay), run, job_id, **options))
    else:
        transaction.on_commit(lambda: queue.enqueue(run, job_id, **options))
    return True


def run(job_id: str) -> str:
    """The RQ job: set Django up in the worker if it is not yet, then run the export job."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from exports.worker import execute

    return execute(job_id)
