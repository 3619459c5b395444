"""The admin export flow in a real browser, on the demo's seeded orders: filters, selection, the action, "export
all matching", the column picker."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Q

from orders.exports import euros
from orders.models import Order
from tests.browser.conftest import DEMO_USER
from tests.conftest import read_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/orders/order/"
#: A surname that seed_orders gives a few dozen of the 2,000 demo orders' customers (ASCII: SQLite's LIKE folds only
#: ASCII case).
SURNAME = "Nakamura"


def download(page: Any, click: str) -> list[list[str]]:
    """Click ``click``, wait for the file the browser downloads, and parse it."""
    with page.expect_download() as info:
        page.click(click)
    path = info.value.path()
    return read_csv(Path(path).read_bytes())


def test_filter_select_three_rows_and_run_the_action(demo, log_in):
    page = log_in(*DEMO_USER, then=CHANGELIST)
    page.locator("#changelist-filter").get_by_role("link", name="Shipped").click()
    page.wait_for_url("**status__exact=shipped**")

    rows = page.locator("#result_list tbody tr")
    chosen = []
    for index in range(3):
        rows.nth(index).locator("input.action-select").check()
        chosen.append(rows.nth(index).locator("th.field-reference").inner_text())
    page.select_option("select[name=action]", "export_as_csv")
    page.click("button[name=index]")

    # The export has optional columns: the picker comes first, the defaults ticked.
    page.wait_for_selector("#exports-columns-form")
    assert page.locator("text=3 orders will be exported.").is_visible()
    data = download(page, "#exports-columns-form input[type=submit]")

    assert data[0] == ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Email", "Total (cents)"]
    assert sorted(row[1] for row in data[1:]) == sorted(chosen)
    assert {row[3] for row in data[1:]} == {"Shipped"}
    totals = dict(Order.objects.filter(reference__in=chosen).values_list("reference", "total_cents"))
    assert {row[1]: int(row[7]) for row in data[1:]} == totals


def test_export_all_matching_a_search(demo, log_in, screenshot):
    page = log_in(*DEMO_USER, then=CHANGELIST)
    page.click("#toggle-nav-sidebar")  # room for every column in the screenshot
    page.fill("#searchbar", SURNAME)
    page.press("#searchbar", "Enter")
    page.wait_for_url(f"**q={SURNAME}**")
    screenshot(page, "admin-changelist.png")

    # What the admin's search matches (OrderAdmin.search_fields), in the changelist's order: newest first.
    expected = Order.objects.filter(
        Q(reference__icontains=SURNAME) | Q(customer_email__icontains=SURNAME) | Q(customer__name__icontains=SURNAME)
    ).order_by("-pk")
    assert expected.count() > 1
    page.click("a.exports-all-link")
    page.wait_for_selector("#exports-columns-form")
    assert page.locator(f"text={expected.count()} orders will be exported.").is_visible()
    data = download(page, "#exports-columns-form input[type=submit]")

    assert [row[1] for row in data[1:]] == [order.reference for order in expected]
    assert all(SURNAME in row[4] for row in data[1:])


def test_pick_columns_on_the_intermediate_page(demo, log_in, screenshot):
    page = log_in(*DEMO_USER, then=CHANGELIST)
    page.click("#toggle-nav-sidebar")
    page.locator("#changelist-filter").get_by_role("link", name="Paid").click()
    page.wait_for_url("**status__exact=paid**")
    page.click("a.exports-all-link")

    page.wait_for_selector("#exports-columns-form")
    page.wait_for_load_state()  # the page's script has run
    # The page says what will be exported, and lists the required columns once, without a box.
    assert page.locator(".exports-criteria", has_text="Status: Paid").is_visible()
    assert page.locator(".exports-required").inner_text().startswith("Always included: ID, Reference,")
    assert page.get_by_label("Reference").count() == 0
    page.get_by_label("Email").uncheck()
    page.get_by_label("Total", exact=True).check()
    screenshot(page, "admin-columns.png")
    assert not page.locator("#exports-started").is_visible()
    data = download(page, "#exports-columns-form input[type=submit]")
    # The download started and the page stays: it says so, with the way back.
    assert page.locator("#exports-started").is_visible()
    assert page.locator("#exports-started a").get_attribute("href") == CHANGELIST + "?status__exact=paid"

    assert data[0] == ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Total (cents)", "Total"]
    paid = Order.objects.filter(status=Order.Status.PAID).order_by("-pk")  # the changelist's order: newest first
    assert len(data) == paid.count() + 1
    assert {row[3] for row in data[1:]} == {"Paid"}
    first = paid.first()
    assert first is not None
    assert data[1][1] == first.reference
    assert data[1][7] == str(euros(first.total_cents))


@pytest.mark.parametrize("fmt", ["jsonl", "xlsx"])
def test_choose_a_format_on_the_export_page(demo, log_in, fmt):
    if fmt == "xlsx":
        import openpyxl
    page = log_in(*DEMO_USER, then=CHANGELIST + "?status__exact=shipped")
    page.click("a.exports-all-link")
    page.wait_for_selector("#exports-columns-form")
    page.wait_for_load_state()  # the page's script has run
    assert page.locator(".exports-dialect").is_visible()  # CSV is preselected: its dialect is offered
    page.select_option("#id_exports_format", fmt)
    assert not page.locator(".exports-dialect").is_visible()
    with page.expect_download() as info:
        page.click("#exports-columns-form input[type=submit]")
    assert info.value.suggested_filename.endswith(f".{fmt}")
    data = Path(info.value.path()).read_bytes()
    shipped = Order.objects.filter(status=Order.Status.SHIPPED).count()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert len(rows) == shipped and {row["status"] for row in rows} == {"Shipped"}
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        header, *cells = list(sheet.iter_rows(values_only=True))
        assert header[:2] == ("ID", "Reference") and len(cells) == shipped
        assert {row[3] for row in cells} == {"Shipped"} and all(isinstance(row[0], int) for row in cells)


def test_a_user_without_the_permission_sees_no_action_and_no_button(demo, log_in, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="secret-pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    page = log_in("viewer", "secret-pw", then=CHANGELIST)

    assert page.locator("#result_list tbody tr").count() == 50
    assert page.locator("select[name=action]").count() == 0
    assert page.locator("a.exports-all-link").count() == 0
