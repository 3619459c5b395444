"""Background jobs in the test process: a private storage folder per test, and the database worker run in batch."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from exports.job_models import ExportJob
from tests.jobs.processes import queue_name, start_worker  # noqa: F401 - fixtures of the worker-process tests


@pytest.fixture(autouse=True)
def job_files(settings, tmp_path: Path) -> Path:
    """Each test's job files in its own private folder."""
    folder = tmp_path / "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {"BACKEND": "exports.storage.PrivateFileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    return folder


@pytest.fixture
def run_worker() -> Callable[[], str]:
    """Run the queued jobs with the real database worker, in batch mode (it stops when the queue is empty)."""

    def run() -> str:
        out = io.StringIO()
        call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, stdout=out, stderr=out)
        return out.getvalue()

    return run


def post_export(client: Any, path: str) -> tuple[Any, Any]:
    """``POST`` to an export's URL; the answer and the job it queued (if any)."""
    response = client.post(path)
    job = ExportJob.objects.get(pk=response.json()["id"]) if response.status_code == 202 else None
    return response, job


def state_of(client: Any, job: ExportJob) -> dict[str, Any]:
    response = client.get(f"/exports/jobs/{job.pk}/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return dict(json.loads(response.content))
