"""``export_started`` and ``export_finished``: once per run on every surface, whatever the ending, with the run."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from exports import Column, Export
from exports.admin import CHOSEN_FIELD
from exports.admin.picker import COLUMNS_FIELD
from exports.models import ExportRun
from exports.signals import export_finished, export_started
from orders.models import Order
from tests.conftest import body, close_response

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"


class Received(list[dict[str, Any]]):
    """What the receivers got, in order: the signal's name, the sender, its arguments, and the record's outcome
    when it was sent (the record itself changes afterwards)."""

    def named(self, name: str) -> list[dict[str, Any]]:
        return [call for call in self if call["signal"] == name]

    def once_each(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert [call["signal"] for call in self] == ["started", "finished"]
        return self[0], self[1]


@pytest.fixture
def received() -> Iterator[Received]:
    calls = Received()

    def receiver(name: str) -> Any:
        def receive(sender: Any, signal: Any, **kwargs: Any) -> None:
            record = kwargs["run"]
            calls.append({"signal": name, "sender": sender, **kwargs, "recorded": getattr(record, "outcome", None)})

        return receive

    on_started, on_finished = receiver("started"), receiver("finished")
    export_started.connect(on_started)
    export_finished.connect(on_finished)
    yield calls
    export_started.disconnect(on_started)
    export_finished.disconnect(on_finished)


def test_the_url_sends_both_once_with_the_run(client, exporter, make_orders, received):
    from orders.exports import orders

    make_orders(3)
    client.force_login(exporter)
    response = client.get(URL)
    assert received.named("started") and not received.named("finished")  # the stream has not been read yet
    data = body(response)
    started, finished = received.once_each()
    record = ExportRun.objects.get()
    for call in (started, finished):
        assert call["sender"] is orders
        assert (call["run"], call["user"], call["surface"], call["format"]) == (record, exporter, "url", "csv")
    assert (started["outcome"], started["rows"], started["bytes"], started["error"]) == ("running", 0, 0, "")
    assert (finished["outcome"], finished["rows"], finished["bytes"], finished["error"]) == (
        "completed",
        3,
        len(data),
        "",
    )
    assert (started["recorded"], finished["recorded"]) == ("running", "completed")
    assert finished["run"].rows_sent == 3 and finished["run"].duration is not None


def test_head_and_refused_requests_send_nothing(client, exporter, make_orders, received, settings):
    make_orders(1)
    client.force_login(exporter)
    assert client.head(URL).status_code == 200
    assert client.get(URL, {"status": "nonsense"}).status_code == 400
    settings.EXPORTS_MAX_CONCURRENT_PER_USER = 1
    running = client.get(URL)
    assert client.get(URL).status_code == 429
    close_response(running)
    assert [call["signal"] for call in received] == ["started", "finished"]


def test_a_failure_midway_sends_export_finished_failed(client, exporter, make_orders, temporary_export, received):
    make_orders(30)
    seen: list[str] = []

    def explode(reference: str) -> str:
        seen.append(reference)
        if len(seen) > 12:
            raise RuntimeError("injected")
        return reference

    temporary_export(Export(Order, name="flaky", columns=[Column("reference", format=explode)], chunk_size=5))
    client.force_login(exporter)
    with pytest.raises(RuntimeError):
        body(client.get("/exports/flaky.csv"))
    _, finished = received.once_each()
    assert (finished["outcome"], finished["error"], finished["recorded"]) == ("failed", "RuntimeError", "failed")


def test_a_client_that_goes_away_sends_export_finished_aborted(
    client, exporter, make_orders, temporary_export, received, settings
):
    settings.EXPORTS_BUFFER_SIZE = 1
    make_orders(20)
    temporary_export(Export(Order, name="slow", columns=["reference"], chunk_size=5))
    client.force_login(exporter)
    response = client.get("/exports/slow.csv")
    next(iter(response.streaming_content))
    close_response(response)
    _, finished = received.once_each()
    assert (finished["outcome"], finished["error"], finished["recorded"]) == ("aborted", "", "aborted")
    assert 0 < finished["rows"] < 20


def test_a_response_closed_before_its_first_chunk_sends_export_finished(client, exporter, make_orders, received):
    make_orders(2)
    client.force_login(exporter)
    close_response(client.get(URL))
    _, finished = received.once_each()
    assert (finished["outcome"], finished["rows"], finished["bytes"]) == ("aborted", 0, 0)


def test_the_admin_sends_both_once(admin_client, admin_user, make_orders, received):
    make_orders(4)
    body(admin_client.post("/admin/orders/order/export/", {CHOSEN_FIELD: "1", COLUMNS_FIELD: ["customer_email"]}))
    started, finished = received.once_each()
    assert (started["surface"], started["user"]) == ("admin", admin_user)
    assert (finished["outcome"], finished["rows"]) == ("completed", 4)


def test_the_command_sends_both_once_for_the_operator_and_for_a_user(make_orders, exporter, received, tmp_path):
    make_orders(2)
    call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())
    started, finished = received.once_each()
    assert (started["surface"], started["user"], finished["outcome"], finished["rows"]) == (
        "command",
        None,
        "completed",
        2,
    )
    received.clear()
    target = tmp_path / "orders.csv"
    call_command("export", "orders", "--user", "exporter", "-o", str(target), stdout=io.StringIO())
    started, finished = received.once_each()
    assert (started["user"], finished["outcome"], finished["bytes"]) == (exporter, "completed", target.stat().st_size)


def test_the_command_sends_export_finished_when_the_file_cannot_be_written(make_orders, received, tmp_path):
    make_orders(2)
    with pytest.raises(CommandError):
        call_command("export", "orders", "-o", str(tmp_path / "missing" / "orders.csv"), stdout=io.StringIO())
    _, finished = received.once_each()
    assert finished["outcome"] == "failed"


def test_without_the_audit_record_run_is_none(client, exporter, make_orders, received, settings):
    settings.EXPORTS_AUDIT = False
    make_orders(1)
    client.force_login(exporter)
    body(client.get(URL))
    started, finished = received.once_each()
    assert (started["run"], finished["run"], finished["outcome"]) == (None, None, "completed")


def test_a_receiver_that_raises_breaks_neither_the_export_nor_its_ending(
    client, exporter, make_orders, received, caplog
):
    def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("receiver bug")

    make_orders(3)
    client.force_login(exporter)
    export_started.connect(broken)
    export_finished.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="exports"):
            rows = body(client.get(URL)).splitlines()
    finally:
        export_started.disconnect(broken)
        export_finished.disconnect(broken)
    assert len(rows) == 4
    assert [call["signal"] for call in received] == ["started", "finished"]  # the other receivers still ran
    assert ExportRun.objects.get().outcome == "completed"
    logged = [r.getMessage() for r in caplog.records if r.name == "exports"]
    assert logged == [
        "A receiver of export_started failed for export 'orders': ValueError: receiver bug",
        "A receiver of export_finished failed for export 'orders': ValueError: receiver bug",
    ]


def test_the_demo_logs_each_download_and_its_ending(client, exporter, make_orders, caplog):
    make_orders(2)
    client.force_login(exporter)
    with caplog.at_level(logging.INFO, logger="orders"):
        data = body(client.get(URL))
        call_command("export", "orders", stdout=io.StringIO(), stderr=io.StringIO())
    assert [r.getMessage() for r in caplog.records if r.name == "orders"] == [
        "Export 'orders' started by exporter (url, csv)",
        f"Export 'orders' completed after 2 rows, {len(data)} bytes, by exporter (url)",
    ]
