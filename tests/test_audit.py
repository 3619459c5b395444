"""The audit record: one ExportRun per run from every surface, opened before the first byte, finished in finally."""

from __future__ import annotations

import getpass
import io
import logging

import pytest
from django.core.management import call_command
from django.db import models

from exports import Column, Export
from exports.models import ExportRun
from exports.runs import prepare
from orders.models import Order
from tests.conftest import body, close_response, read_csv

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"
SECRET = "secret.person@example.com"


def only_run() -> ExportRun:
    (run,) = ExportRun.objects.all()
    return run


def failing_after(rows: int):
    """A format hook that fails on the row after ``rows`` rows (a fault in the middle of the stream)."""
    seen = 0

    def format_reference(value: str) -> str:
        nonlocal seen
        seen += 1
        if seen > rows:
            raise RuntimeError(f"injected failure at {value}")
        return value

    return format_reference


def test_a_download_is_recorded_from_start_to_end(client, exporter, make_orders):
    make_orders(3, status="paid", customer_email=SECRET)
    client.force_login(exporter)
    response = client.get(URL, {"status": "paid", "columns": "customer_email"})
    run = only_run()
    assert run.outcome == ExportRun.Outcome.RUNNING  # written before the first byte
    assert run.finished_at is None
    data = body(response)
    run.refresh_from_db()
    assert run.outcome == ExportRun.Outcome.COMPLETED
    assert (run.export_name, run.surface, run.user, run.username) == ("orders", "url", exporter, "exporter")
    assert run.filters == {"status": "paid"}
    assert "customer_email" in run.columns
    assert (run.rows_sent, run.bytes_sent) == (3, len(data))
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.duration == run.finished_at - run.started_at
    assert run.error == ""


def test_the_record_never_holds_the_exported_data(client, exporter, make_orders):
    orders = make_orders(2, customer_email=SECRET)
    client.force_login(exporter)
    data = body(client.get(URL, {"columns": "customer_email"}))
    assert SECRET.encode() in data
    stored = [str(getattr(only_run(), field.attname)) for field in ExportRun._meta.concrete_fields]
    for value in [SECRET, orders[0].reference, "Ångström"]:
        assert not any(value in text for text in stored)


def test_a_client_that_goes_away_is_recorded_as_aborted(client, exporter, make_orders, temporary_export, settings):
    settings.EXPORTS_BUFFER_SIZE = 1
    make_orders(50)
    temporary_export(Export(Order, name="slow", columns=["reference"], chunk_size=5, permission=None))
    client.force_login(exporter)
    response = client.get("/exports/slow.csv")
    next(iter(response.streaming_content))
    close_response(response)
    run = only_run()
    assert run.outcome == ExportRun.Outcome.ABORTED
    assert run.bytes_sent > 0 and run.rows_sent < 50


def test_a_response_closed_before_its_first_chunk_ends_the_run(client, exporter, make_orders):
    make_orders(2)
    client.force_login(exporter)
    close_response(client.get(URL))
    run = only_run()
    assert run.outcome == ExportRun.Outcome.ABORTED
    assert (run.rows_sent, run.bytes_sent) == (0, 0)
    assert client.get(URL).status_code == 200  # and its slot is free


def test_a_failure_midway_is_logged_and_recorded(client, exporter, make_orders, temporary_export, caplog):
    make_orders(30)
    columns = [Column("reference", format=failing_after(12))]
    temporary_export(Export(Order, name="flaky", columns=columns, chunk_size=5, permission=None))
    client.force_login(exporter)
    response = client.get("/exports/flaky.csv")
    with caplog.at_level(logging.ERROR, logger="exports"), pytest.raises(RuntimeError):
        body(response)
    run = only_run()
    # Batches of 5, the first sent at once: the second waits in the encoder for more when the third fails.
    assert (run.outcome, run.error, run.rows_sent) == (ExportRun.Outcome.FAILED, "RuntimeError", 5)
    (record,) = [r for r in caplog.records if r.name == "exports"]
    assert record.getMessage() == "Export 'flaky' failed after 5 rows (user exporter, url)"
    assert record.exc_info is not None


def test_the_command_records_the_operating_system_user(make_orders):
    make_orders(4)
    call_command("export", "orders", "-f", "status__in=paid,shipped", stdout=io.StringIO(), stderr=io.StringIO())
    run = only_run()
    assert (run.surface, run.user, run.username) == ("command", None, getpass.getuser())
    assert run.filters == {"status__in": "paid,shipped"}
    assert run.outcome == ExportRun.Outcome.COMPLETED


def test_the_command_runs_where_the_operating_system_user_has_no_name(make_orders, monkeypatch):
    def nameless() -> str:
        raise OSError("No username set in the environment")  # a container's user without a passwd entry

    monkeypatch.setattr(getpass, "getuser", nameless)
    make_orders(1)
    call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())
    run = only_run()
    assert (run.surface, run.user, run.username, run.outcome) == ("command", None, "", ExportRun.Outcome.COMPLETED)


def test_the_command_runs_as_a_user_with_the_permission(make_orders, exporter, django_user_model):
    make_orders(1)
    call_command("export", "orders", "--user", "exporter", stdout=io.StringIO(), stderr=io.StringIO())
    assert (only_run().user, only_run().username) == (exporter, "exporter")


def test_the_admin_surface_records_its_selection(exporter, make_orders, django_assert_max_num_queries):
    from orders.exports import orders

    chosen = make_orders(3)[:2]
    queryset = Order.objects.filter(pk__in=[order.pk for order in chosen])
    job = prepare(orders, surface="admin", user=exporter, queryset=queryset)
    assert len(read_csv(b"".join(job.start().stream()))) == 3
    run = only_run()
    assert (run.surface, run.rows_sent, run.outcome) == ("admin", 2, ExportRun.Outcome.COMPLETED)
    assert '"orders_order"."id" IN' in run.selection
    assert all(str(order.pk) in run.selection for order in chosen)


def test_a_long_selection_is_cut(exporter, make_orders):
    from orders.exports import orders

    with prepare(orders, surface="admin", user=exporter, queryset=Order.objects.filter(pk__in=range(1, 5000))).start():
        pass
    assert len(only_run().selection) == 2000


def test_an_empty_selection(exporter):
    from orders.exports import orders

    with prepare(orders, surface="admin", user=exporter, queryset=Order.objects.none()).start():
        pass
    assert only_run().selection == "(nothing)"


def test_without_the_audit_setting_no_record_is_kept(client, exporter, make_orders, settings):
    settings.EXPORTS_AUDIT = False
    make_orders(2)
    client.force_login(exporter)
    response = client.get(URL)
    assert ExportRun.objects.filter(outcome="running").count() == 1  # it still holds the user's slot while it runs
    body(response)
    assert not ExportRun.objects.exists()
    settings.EXPORTS_MAX_CONCURRENT_PER_USER = None
    body(client.get(URL))
    assert not ExportRun.objects.exists()


def test_the_admin_shows_runs_read_only(admin_client, admin_user, make_orders):
    make_orders(1)
    body(admin_client.get(URL))
    run = only_run()
    changelist = admin_client.get("/admin/exports/exportrun/")
    assert changelist.status_code == 200
    assert b"orders" in changelist.content
    assert admin_client.get("/admin/exports/exportrun/add/").status_code == 403
    detail = admin_client.get(f"/admin/exports/exportrun/{run.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert admin_client.post(f"/admin/exports/exportrun/{run.pk}/change/", {"outcome": "completed"}).status_code == 403
    assert admin_client.post(f"/admin/exports/exportrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.COMPLETED


def test_the_record_survives_its_user(client, exporter, make_orders):
    make_orders(1)
    client.force_login(exporter)
    body(client.get(URL))
    exporter.delete()
    run = only_run()
    assert (run.user, run.username) == (None, "exporter")


def test_a_broken_database_at_the_end_is_logged_not_raised(exporter, make_orders, monkeypatch, caplog):
    from django.db import DatabaseError

    from orders.exports import orders

    make_orders(1)
    job = prepare(orders, surface="url", user=exporter)

    def broken(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(models.QuerySet, "update", broken)
    with caplog.at_level(logging.ERROR, logger="exports"):
        assert len(read_csv(b"".join(job.start().stream()))) == 2
    assert "Could not finish the audit record" in caplog.text
