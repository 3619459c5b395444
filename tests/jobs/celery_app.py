"""The Celery recipe of docs/jobs.md, as the tests run it: a task that calls the export job's function, and the
enqueue function ``EXPORTS_JOB_ENQUEUE`` names."""

from __future__ import annotations

from celery import Celery
from django.conf import settings
from django.db import transaction

app = Celery("exports_tests")
app.conf.broker_url = getattr(settings, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
app.conf.task_default_queue = getattr(settings, "CELERY_QUEUE", "celery")
app.conf.broker_connection_retry_on_startup = True


@app.task(name="exports.run_export_job")  # type: ignore[untyped-decorator]
def run_export_job(job_id: str) -> str:
    from exports.worker import execute

    return execute(job_id)


def enqueue(job_id: str, *, delay: int | None = None) -> bool:
    queue = getattr(settings, "CELERY_QUEUE", "celery")
    transaction.on_commit(lambda: run_export_job.apply_async((job_id,), countdown=delay or 0, queue=queue))
    return True
