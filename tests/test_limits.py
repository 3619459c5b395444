"""Limits: the most rows an export may write, and one running export per user (429 + Retry-After)."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from exports import Export, slots
from exports.models import ExportRun
from exports.runs import prepare
from orders.models import Order
from tests.conftest import body, close_response

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"


def running(user) -> ExportRun:
    return ExportRun.objects.create(export_name="orders", surface="url", user=user, slot=0, host=slots.HOST)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


# Row limit --------------------------------------------------------------------------------------------------------


def test_an_export_over_its_row_limit_is_refused_before_streaming(client, exporter, make_orders, temporary_export):
    make_orders(3, status="paid")
    make_orders(1, status="shipped")
    temporary_export(Export(Order, name="capped", columns=["reference"], max_rows=2, permission=None))
    client.force_login(exporter)
    response = client.get("/exports/capped.csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "The export 'capped' would write more than 2 rows, its limit. Narrow it down with filters and try again.\n"
    )
    assert not ExportRun.objects.exists()  # refused before the run: no record, no slot
    temporary_export(Export(Order, name="capped-3", columns=["reference"], max_rows=3, permission=None))
    assert client.get("/exports/capped-3.csv").status_code == 400
    temporary_export(Export(Order, name="capped-4", columns=["reference"], max_rows=4, permission=None))
    assert client.get("/exports/capped-4.csv").status_code == 200


def test_the_global_row_limit_applies_to_every_surface(client, exporter, make_orders, settings):
    settings.EXPORTS_MAX_ROWS = 2
    make_orders(3)
    client.force_login(exporter)
    assert client.get(URL).status_code == 400
    assert client.get(URL, {"status": "paid"}).status_code in (200, 400)  # a filter narrows it (random statuses)
    with pytest.raises(CommandError, match="would write more than 2 rows"):
        call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())


def test_rows_added_after_the_check_fail_the_stream_rather_than_truncate_it(exporter, make_orders, temporary_export):
    make_orders(5)
    export = temporary_export(Export(Order, name="capped", columns=["reference"], max_rows=5, chunk_size=2))
    job = prepare(export, surface="url", user=exporter)
    make_orders(3)  # the same transaction here, so the stream sees them
    with pytest.raises(Exception, match="grew beyond its limit of 5 rows"):
        b"".join(job.start().stream())
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.FAILED


# One running export per user ---------------------------------------------------------------------------------------


def test_a_second_export_while_one_runs_is_a_429_with_retry_after(client, exporter, make_orders, django_user_model):
    make_orders(3)
    client.force_login(exporter)
    first = client.get(URL)
    second = client.get(URL)
    assert second.status_code == 429
    assert second["Retry-After"] == "30"
    assert second["Content-Type"] == "text/plain; charset=utf-8"
    assert second.content.decode() == (
        "You are already running 1 export, the most allowed at once. Try again when it has finished.\n"
    )
    other = django_user_model.objects.create_superuser("other", password="pw")
    client.force_login(other)
    assert client.get(URL).status_code == 200  # the limit is per user
    client.force_login(exporter)
    body(first)  # completed: the slot is free again
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("ending", ["completed", "aborted", "failed"])
def test_the_slot_is_freed_however_the_run_ends(client, exporter, make_orders, ending, monkeypatch):
    make_orders(3)
    client.force_login(exporter)
    response = client.get(URL)
    if ending == "completed":
        body(response)
    elif ending == "aborted":
        close_response(response)
    else:
        from exports import runs

        def broken(*args, **kwargs):
            yield b"id\n", 0
            raise OSError("disk on fire")

        monkeypatch.setattr(runs, "export_chunks", broken)
        with pytest.raises(OSError):
            body(response)
    assert ExportRun.objects.get().outcome == ending
    monkeypatch.undo()
    assert client.get(URL).status_code == 200


def test_the_limit_is_a_setting(client, exporter, make_orders, settings):
    make_orders(1)
    client.force_login(exporter)
    settings.EXPORTS_MAX_CONCURRENT_PER_USER = 2
    settings.EXPORTS_RETRY_AFTER = 7
    responses = [client.get(URL) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2]["Retry-After"] == "7"
    assert "already running 2 exports" in responses[2].content.decode()
    settings.EXPORTS_MAX_CONCURRENT_PER_USER = None
    assert all(client.get(URL).status_code == 200 for _ in range(3))
    assert set(ExportRun.objects.filter(outcome="running").values_list("slot", flat=True)) == {0, 1, None}


def test_a_slot_whose_process_died_is_taken_back(client, exporter, make_orders):
    make_orders(1)
    client.force_login(exporter)
    held = running(exporter)
    held.pid = dead_pid()
    held.save()
    assert client.get(URL).status_code == 200
    held.refresh_from_db()
    assert held.outcome == ExportRun.Outcome.FAILED
    assert held.error == "lost: its process ended"


def test_any_run_that_starts_marks_every_lost_run_failed(client, exporter, django_user_model, make_orders):
    # Not only the user whose slot it holds: a run whose process is gone shows as failed, not running forever.
    make_orders(1)
    other = django_user_model.objects.create_user("other")
    lost = [running(exporter), running(other), running(None)]
    for record in lost:
        record.pid = dead_pid()
        record.save()
    alive = running(None)
    alive.pid = os.getpid()
    alive.save()
    call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())  # no user
    outcomes = dict(ExportRun.objects.values_list("pk", "error"))
    assert [outcomes[record.pk] for record in lost] == ["lost: its process ended"] * 3
    assert ExportRun.objects.get(pk=alive.pk).outcome == ExportRun.Outcome.RUNNING


def test_a_run_older_than_stale_after_is_marked_lost_on_any_host(make_orders, settings):
    make_orders(1)
    settings.EXPORTS_STALE_AFTER = 60
    old = ExportRun.objects.create(export_name="orders", surface="url", host="elsewhere", pid=1)
    ExportRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - datetime.timedelta(seconds=61))
    recent = ExportRun.objects.create(export_name="orders", surface="url", host="elsewhere", pid=1)
    out = io.StringIO()
    call_command("exports_cleanup", stdout=out)
    assert out.getvalue().splitlines()[0] == "Marked 1 lost run as failed."
    old.refresh_from_db()
    assert (old.outcome, old.error) == ("failed", "lost: still running after EXPORTS_STALE_AFTER")
    assert ExportRun.objects.get(pk=recent.pk).outcome == "running"


def test_a_slot_held_too_long_is_taken_back_and_a_live_one_is_not(client, exporter, make_orders, settings):
    make_orders(1)
    client.force_login(exporter)
    held = running(exporter)
    held.pid = os.getpid()
    held.save()
    assert client.get(URL).status_code == 429  # alive and recent: still held
    settings.EXPORTS_STALE_AFTER = 60
    ExportRun.objects.filter(pk=held.pk).update(started_at=timezone.now() - datetime.timedelta(seconds=61))
    assert client.get(URL).status_code == 200


def test_the_command_as_a_busy_user_is_a_command_error(exporter, make_orders):
    make_orders(1)
    running(exporter).save()
    with pytest.raises(CommandError, match="already running 1 export"):
        call_command("export", "orders", "--user", "exporter", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())  # no user: no per-user limit


def test_the_command_user_must_exist_and_have_the_permission(django_user_model):
    with pytest.raises(CommandError, match="No user is called 'ghost'."):
        call_command("export", "orders", "--user", "ghost", stdout=io.StringIO(), stderr=io.StringIO())
    django_user_model.objects.create_user("nobody", is_staff=True)
    with pytest.raises(CommandError, match="The user 'nobody' may not run the export 'orders'."):
        call_command("export", "orders", "--user", "nobody", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_run_that_is_never_streamed_frees_its_slot(exporter, make_orders):
    from orders.exports import orders

    with prepare(orders, surface="admin", user=exporter).start():
        pass
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.ABORTED
    with prepare(orders, surface="admin", user=exporter).start():
        pass


def test_a_failure_before_the_first_chunk_ends_the_run_and_frees_the_slot(
    client, exporter, make_orders, temporary_export
):
    make_orders(2)

    def broken_name(export):
        raise RuntimeError("no name today")

    temporary_export(Export(Order, name="unnamed", columns=["reference"], filename=broken_name, permission=None))
    client.raise_request_exception = False
    client.force_login(exporter)
    assert client.get("/exports/unnamed.csv").status_code == 500  # a bug in the declaration, not the request
    assert list(ExportRun.objects.values_list("outcome", "error")) == [("failed", "RuntimeError")]
    assert client.get(URL).status_code == 200  # the user is not locked out


def test_a_run_started_by_hand_is_ended_by_its_context_manager_whatever_happens(exporter, make_orders):
    from orders.exports import orders

    with pytest.raises(KeyError), prepare(orders, surface="command", user=exporter).start():
        raise KeyError("anything")
    with pytest.raises(KeyboardInterrupt), prepare(orders, surface="command", user=exporter).start():
        raise KeyboardInterrupt
    assert list(ExportRun.objects.order_by("pk").values_list("outcome", "error")) == [
        ("failed", "KeyError"),
        ("aborted", "KeyboardInterrupt"),
    ]
