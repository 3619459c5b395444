"""Background exports run by real worker processes on the PostgreSQL test database: two workers share one queue and
run a job once; a worker killed mid-job, a database connection killed mid-job, a cancel mid-job; RQ and Celery
workers on the local Redis run the same job function."""

from __future__ import annotations

import os
import signal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from exports import tasks
from exports.job_models import ExportJob
from exports.models import ExportRun
from tests.conftest import body, read_csv
from tests.jobs.conftest import post_export, state_of
from tests.jobs.processes import logs, needs_redis
from tests.servers.conftest import NEEDS_POSTGRES, SERVER_TESTS, fill_orders, wait_until

pytestmark = [*SERVER_TESTS, NEEDS_POSTGRES]

#: Long enough for a worker to be caught midway: the paced export takes about a millisecond a row.
PACED_ROWS = 20_000


def job_state(job: ExportJob) -> str:
    job.refresh_from_db()
    return job.state


def files_in(folder) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def started(job: ExportJob) -> bool:
    job.refresh_from_db()
    return job.rows_done > 0


@pytest.fixture
def logged_in(client, exporter):
    client.force_login(exporter)
    return client


@pytest.fixture
def colleague(django_user_model):
    """A second user with the export permission: the per-user limit (one export at a time) does not order their job
    after the first user's."""
    user = django_user_model.objects.create_user("colleague", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_order"))
    client = Client()
    client.force_login(user)
    return client


def test_two_db_workers_share_one_queue_and_run_each_job_once(logged_in, colleague, start_worker, tmp_path):
    fill_orders(3_000)
    _, first = post_export(logged_in, "/exports/orders.csv")
    _, second = post_export(colleague, "/exports/orders.csv?status=paid")
    tasks.run_export_job.enqueue(str(first.pk))  # handed over twice, as an at-least-once queue may
    workers = [start_worker("db"), start_worker("db")]
    assert wait_until(lambda: {job_state(first), job_state(second)} == {"completed"}, timeout=120), logs(tmp_path)
    assert (first.attempts, second.attempts) == (1, 1)
    assert ExportRun.objects.count() == 2
    assert len(read_csv(body(logged_in.get(f"/exports/jobs/{first.pk}/download")))) == 3_001
    assert all(worker.poll() is None for worker in workers)


def test_a_worker_killed_mid_job_fails_it_and_leaves_no_file(logged_in, start_worker, settings, job_files, tmp_path):
    fill_orders(PACED_ROWS)
    _, job = post_export(logged_in, "/exports/orders-paced.csv")
    worker = start_worker("db")
    assert wait_until(lambda: started(job), timeout=120), logs(tmp_path)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    settings.EXPORTS_JOB_STALE_AFTER = 2
    assert wait_until(lambda: state_of(logged_in, job)["state"] == "failed", timeout=30)
    state = state_of(logged_in, job)
    assert state["error"] == "The worker running this export stopped before it finished."
    assert state["download_url"] is None
    assert logged_in.get(f"/exports/jobs/{job.pk}/download").status_code == 404
    assert files_in(job_files) == []
    assert ExportRun.objects.get().outcome == "failed"


def test_a_database_connection_killed_mid_job_fails_it_and_the_worker_goes_on(
    logged_in, start_worker, job_files, tmp_path
):
    fill_orders(PACED_ROWS)
    _, job = post_export(logged_in, "/exports/orders-paced.csv")
    worker = start_worker("db")
    assert wait_until(lambda: started(job), timeout=120), logs(tmp_path)
    with connection.cursor() as cursor:
        # The export reads in its own transaction: the worker's backend with one open, on this test database only.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND backend_type = 'client backend'"
        )
        assert cursor.rowcount == 1
    assert wait_until(lambda: job_state(job) == "failed", timeout=30), logs(tmp_path)
    assert job.error == "The database connection failed while the file was being prepared."
    assert files_in(job_files) == []

    _, next_job = post_export(logged_in, "/exports/orders.csv?status=paid")
    assert wait_until(lambda: job_state(next_job) == "completed", timeout=120), logs(tmp_path)
    assert worker.poll() is None


def test_a_running_job_cancelled_by_its_owner_stops_and_keeps_no_file(logged_in, start_worker, job_files, tmp_path):
    fill_orders(PACED_ROWS)
    _, job = post_export(logged_in, "/exports/orders-paced.csv")
    start_worker("db")
    assert wait_until(lambda: started(job), timeout=120), logs(tmp_path)
    assert logged_in.post(f"/exports/jobs/{job.pk}/cancel").json()["state"] == "cancelled"
    assert wait_until(lambda: ExportRun.objects.filter(outcome="aborted").exists(), timeout=30), logs(tmp_path)
    run = ExportRun.objects.get()
    assert 0 < run.rows_sent < PACED_ROWS
    assert job_state(job) == "cancelled" and files_in(job_files) == []


def test_two_rq_workers_run_each_job_once(logged_in, colleague, start_worker, settings, queue_name, tmp_path):
    needs_redis()
    from exports.engines import rq as rq_engine

    settings.EXPORTS_JOB_ENQUEUE = "exports.engines.rq.enqueue"
    settings.EXPORTS_RQ_URL = "redis://127.0.0.1:6379/7"
    settings.EXPORTS_RQ_QUEUE = queue_name
    fill_orders(3_000)
    _, first = post_export(logged_in, "/exports/orders.csv")
    _, second = post_export(colleague, "/exports/orders.csv?status=paid")
    rq_engine.enqueue(str(first.pk))  # handed over twice
    start_worker("rq")
    start_worker("rq")
    assert wait_until(lambda: {job_state(first), job_state(second)} == {"completed"}, timeout=120), logs(tmp_path)
    assert (first.attempts, second.attempts, ExportRun.objects.count()) == (1, 1, 2)
    assert len(read_csv(body(colleague.get(f"/exports/jobs/{second.pk}/download")))) == 3_001


def test_a_celery_worker_runs_the_job_through_the_documented_recipe(
    logged_in,
    start_worker,
    settings,
    queue_name,
    tmp_path,
):
    needs_redis()
    settings.EXPORTS_JOB_ENQUEUE = "tests.jobs.celery_app.enqueue"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/7"
    settings.CELERY_QUEUE = queue_name
    fill_orders(1_000)
    _, job = post_export(logged_in, "/exports/orders.csv")
    start_worker("celery")
    assert wait_until(lambda: job_state(job) == "completed", timeout=120), logs(tmp_path)
    assert len(read_csv(body(logged_in.get(f"/exports/jobs/{job.pk}/download")))) == 1_001
    assert os.path.basename(job.file) == job.file
