"""A background export in a real browser: started on the admin's column page, followed on "My exports" while a real
database worker prepares it, then downloaded and parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin

from orders.models import Order
from tests.browser.conftest import DEMO_USER
from tests.conftest import read_csv
from tests.jobs.conftest import job_files  # noqa: F401 - the worker's and the live server's folder of files
from tests.jobs.processes import logs, queue_name, start_worker  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/orders/order/"


def progress(page: Any) -> tuple[str, int]:
    job = page.locator(".exports-job").first
    return job.get_attribute("data-state") or "", int(job.locator(".exports-progress").evaluate("bar => bar.value"))


def test_a_background_export_from_the_admin_shows_its_progress_then_downloads(
    demo,
    log_in,
    start_worker,  # noqa: F811
    monkeypatch,
    screenshot,
    tmp_path,
):
    # The paced export takes a few milliseconds a row: its 2,000 demo orders last long enough to watch the bar.
    monkeypatch.setattr(admin.site._registry[Order], "export_name", "orders-paced")
    start_worker("db", EXPORTS_TEST_PACE="0.004")
    page = log_in(*DEMO_USER, then=CHANGELIST)
    page.get_by_role("link", name="Export all matching orders").click()
    page.wait_for_selector("#exports-columns-form")
    page.get_by_role("button", name="Prepare the file in the background").click()
    page.wait_for_url(f"**{CHANGELIST}")
    page.locator(".messagelist").get_by_role("link", name="My exports").click()
    page.wait_for_selector(".exports-job")

    seen = []
    page.wait_for_function(
        "() => { const bar = document.querySelector('.exports-progress');"
        " return bar && bar.value > 0 && bar.value < 100; }",
        timeout=60_000,
    )
    seen.append(progress(page))
    screenshot(page, "my-exports.png")
    page.wait_for_function(
        "() => document.querySelector('.exports-job').dataset.state === 'completed'", timeout=120_000
    )
    seen.append(progress(page))
    assert seen[0][0] == "running" and 0 < seen[0][1] < 100
    assert seen[1] == ("completed", 100), logs(tmp_path)

    with page.expect_download() as info:
        page.locator(".exports-download a").click()
    data = read_csv(Path(info.value.path()).read_bytes())
    assert data[0][:2] == ["Id", "Reference"]
    assert sorted(int(row[0]) for row in data[1:]) == sorted(Order.objects.values_list("pk", flat=True))
