"""The worker's side of a job, run by the real database worker in the test process: cancels, refusals, storage
failures, the per-user slot, expiry, lost workers and the command line."""

from __future__ import annotations

import datetime
import gzip
import io
import os
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from exports import slots, worker
from exports.job_models import ExportJob
from exports.models import ExportRun
from tests.conftest import body, read_csv
from tests.jobs.conftest import post_export, state_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_cancelled_while_it_runs_keeps_no_file(client, exporter, make_orders, run_worker, job_files, monkeypatch):
    from exports import storage

    make_orders(200)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    saved = storage.store

    def cancel_then_store(chunks, **kwargs):
        # The owner clicks "Cancel" while the rows stream (whether or not the worker notices before the end).
        ExportJob.objects.filter(pk=job.pk).update(state="cancelled")
        return saved(chunks, **kwargs)

    monkeypatch.setattr(storage, "store", cancel_then_store)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.file) == ("cancelled", "")
    assert not job_files.exists() or [p for p in job_files.rglob("*") if p.is_file()] == []


def test_a_cancel_noticed_mid_stream_stops_the_run(exporter, make_orders, job_files, monkeypatch):
    make_orders(50)
    monkeypatch.setattr(worker, "BEAT_INTERVAL", 0.01)
    job = ExportJob.objects.create(user=exporter, username="exporter", export_name="orders", surface="url")

    class Slow(worker.Heartbeat):
        def counted(self, run):
            super().counted(run)
            if run.rows_sent:  # after the first batch: wait until the heartbeat has seen the cancel
                # The owner's click comes from elsewhere: another thread, so another connection (this one reads
                # inside the run's read-only snapshot on PostgreSQL).
                click = threading.Thread(target=cancel)
                click.start()
                click.join()
                assert self.cancelled.wait(10)

    def cancel():
        ExportJob.objects.filter(pk=job.pk).update(state="cancelled")
        connection.close()

    monkeypatch.setattr(worker, "Heartbeat", Slow)
    monkeypatch.setattr("exports.conf.Settings.CHUNK_SIZE", property(lambda self: 10))
    monkeypatch.setattr("exports.conf.Settings.COPY", property(lambda self: False))
    assert worker.execute(str(job.pk)) == "cancelled"
    run = ExportRun.objects.get()
    assert run.outcome == "aborted" and 0 < run.rows_sent < 50
    assert not job_files.exists() or list(job_files.iterdir()) == []


def test_an_unwritable_storage_fails_the_job_with_the_reason(
    client, exporter, make_orders, run_worker, settings, tmp_path
):
    make_orders(5)
    (tmp_path / "a-file").write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "exports.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "a-file" / "exports")},
        },
    }
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    state = state_of(client, job)
    assert state["state"] == "failed"
    assert state["error"] == "The file could not be written or stored: Not a directory."
    assert state["download_url"] is None
    assert client.get(f"/exports/jobs/{job.pk}/download").status_code == 404
    assert ExportRun.objects.get().outcome == "failed"


def test_the_permission_is_checked_again_when_the_job_runs(client, exporter, make_orders, run_worker):
    make_orders(5)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    exporter.user_permissions.clear()
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.file) == ("failed", "")
    assert job.error == "exporter may no longer run the export 'orders'."


def test_the_row_cap_is_checked_again_when_the_job_runs(client, exporter, make_orders, run_worker, settings):
    make_orders(3)
    settings.EXPORTS_MAX_ROWS = 3
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    make_orders(1)
    assert client.post("/exports/orders.csv?columns=total").status_code == 400  # refused before it is queued
    run_worker()
    job.refresh_from_db()
    assert job.state == "failed" and "more than 3 rows" in job.error


def test_a_job_whose_user_is_busy_waits_in_the_queue(client, exporter, make_orders, run_worker):
    from django_tasks_db.models import DBTaskResult

    make_orders(5)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    busy = ExportRun(export_name="orders", surface="url", user=exporter)
    slots.claim_slot(busy)  # the user's one slot, held by a download still streaming in this very process
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("queued", 1)
    waiting = DBTaskResult.objects.filter(status="READY").get()
    assert waiting.run_after > timezone.now() + datetime.timedelta(seconds=20)

    ExportRun.objects.filter(pk=busy.pk).update(outcome="completed")
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_done) == ("completed", 2, 5)


def test_files_may_be_stored_gzipped(client, exporter, make_orders, run_worker, settings):
    make_orders(4)
    settings.EXPORTS_JOB_GZIP = True
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    response = client.get(f"/exports/jobs/{job.pk}/download")
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].endswith('.csv.gz"')
    assert len(read_csv(gzip.decompress(body(response)))) == 5


def test_stored_files_are_private_and_unguessable(client, exporter, make_orders, run_worker, job_files):
    make_orders(2)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    job.refresh_from_db()
    path = job_files / job.file
    assert (path.stat().st_mode & 0o777, job_files.stat().st_mode & 0o777) == (0o600, 0o700)
    assert len(job.file) >= 40 and "orders" not in job.file


def test_cleanup_deletes_expired_files_and_says_what_it_freed(client, exporter, make_orders, run_worker, job_files):
    make_orders(20)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    job.refresh_from_db()
    size = (job_files / job.file).stat().st_size
    out = io.StringIO()
    call_command("exports_cleanup", stdout=out)
    assert out.getvalue().splitlines() == [
        "Marked 0 lost runs as failed.",
        "Deleted 0 expired export files and 0 temporary files: 0 bytes freed. "
        "0 jobs whose worker stopped marked failed.",
    ]
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    dry = io.StringIO()
    call_command("exports_cleanup", "--dry-run", stdout=dry)
    assert dry.getvalue().splitlines()[1] == (
        f"Would delete 1 expired export file and 0 temporary files ({size:,} bytes) and mark 0 jobs whose worker "
        "stopped failed."
    )
    assert (job_files / job.file).exists()
    call_command("exports_cleanup", stdout=out)
    assert f"Deleted 1 expired export file and 0 temporary files: {size:,} bytes freed." in out.getvalue()
    job.refresh_from_db()
    assert (job.state, job.file) == ("expired", "")
    assert list(job_files.iterdir()) == []
    assert client.get(f"/exports/jobs/{job.pk}/download").status_code == 410


def test_a_job_whose_worker_stopped_beating_is_failed_when_looked_at(client, exporter, settings):
    settings.EXPORTS_JOB_STALE_AFTER = 30
    run = ExportRun.objects.create(export_name="orders", surface="url", user=exporter, slot=0, pid=os.getpid())
    old = timezone.now() - datetime.timedelta(seconds=31)
    job = ExportJob.objects.create(
        user=exporter, export_name="orders", surface="url", state="running", heartbeat_at=old, run=run
    )
    client.force_login(exporter)
    state = state_of(client, job)
    assert state["state"] == "failed"
    assert state["error"] == "The worker running this export stopped before it finished."
    run.refresh_from_db()
    assert run.outcome == "failed"


def test_the_command_queues_a_job_and_lists_the_recent_ones(exporter, make_orders, run_worker):
    make_orders(3, status="paid")
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "orders", "--background", "--user", "exporter", "-f", "status=paid", stdout=out, stderr=err)
    job_id, url = out.getvalue().strip().split("\t")
    assert url == f"/exports/jobs/{job_id}/"
    run_worker()
    out = io.StringIO()
    call_command("export", "--jobs", stdout=out)
    line = out.getvalue().splitlines()[0].split("\t")
    assert line[:6] == [job_id, "completed", "orders", "csv", "exporter", "3/3 rows"]
    assert ExportJob.objects.get().filters == {"status": ["paid"]}


def test_the_command_queues_the_format_its_output_names_in_the_dialect_asked(exporter, make_orders, run_worker):
    make_orders(2)
    out = io.StringIO()
    call_command("export", "orders", "--background", "--format", "tsv", stdout=out)
    call_command("export", "orders", "--background", "--dialect", "excel", stdout=out)
    run_worker()
    jobs = ExportJob.objects.order_by("created_at")
    assert [(job.format, job.dialect, job.state) for job in jobs] == [
        ("tsv", "", "completed"),
        ("csv", "excel", "completed"),
    ]
    assert [job.filename.rsplit(".", 1)[1] for job in jobs] == ["tsv", "csv"]
