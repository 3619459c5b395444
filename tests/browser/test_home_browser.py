"""The demo's home page in a real browser: the exports the demo user may run, a download, and the runs it leaves."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from exports import registry
from orders.models import Order
from tests.browser.conftest import DEMO_USER
from tests.conftest import read_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_exports_only() -> Iterator[None]:
    """Only the demo's own exports (orders/exports.py) for this test: the page shows what `make demo` shows."""
    others = [export for export in registry if export.name != "orders"]
    for export in others:
        registry.unregister(export.name)
    try:
        yield
    finally:
        for export in others:
            registry.register(export)


def test_download_from_the_home_page_and_see_the_runs(demo, demo_exports_only, log_in, screenshot, tmp_path):
    page = log_in(*DEMO_USER, then="/")
    assert page.locator("#exports a.download").all_inner_texts() == ["/exports/orders.csv"]

    with page.expect_download() as info:
        page.click("#exports a.download")
    data = read_csv(Path(info.value.path()).read_bytes())
    assert len(data) == Order.objects.count() + 1
    # Runs from the other surfaces show up too: the command run as the demo user.
    call_command(
        "export",
        "orders",
        "--user",
        "demo",
        "-f",
        "status=paid",
        "-o",
        str(tmp_path / "paid.csv"),
        stdout=io.StringIO(),
    )

    page.reload()
    runs = page.locator("#runs tbody tr")
    assert runs.count() == 2
    newest, oldest = runs.nth(0).locator("td"), runs.nth(1).locator("td")
    paid = Order.objects.filter(status=Order.Status.PAID).count()
    assert newest.all_inner_texts()[1:5] == ["orders", "Command", "Completed", f"{paid:,}"]
    assert oldest.all_inner_texts()[1:5] == ["orders", "Download URL", "Completed", f"{Order.objects.count():,}"]
    screenshot(page, "home.png")


def test_anonymous_visitors_are_sent_to_log_in(demo, live_server, page):
    page.goto(f"{live_server.url}/")

    page.wait_for_url("**/admin/login/?next=/")
    assert page.locator("#id_username").is_visible()
