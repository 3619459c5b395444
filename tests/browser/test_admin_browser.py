"""The admin export flow in a real browser: filters, selection, the action, "export all matching", the picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from model_bakery import baker
from model_bakery.utils import seq

from orders.models import Customer, Order
from tests.conftest import read_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def shop(make_orders) -> None:
    se = baker.make(Customer, name="Åsa Berg", country="SE")
    jp = baker.make(Customer, name="Kenji Sato", country="JP")
    # References of digits only, so a search term can only match the customer (baker's are random letters).
    make_orders(30, customer=se, status="paid", customer_email="asa@example.se", reference=seq("1-"))
    make_orders(25, customer=jp, status="paid", customer_email="kenji@example.jp", reference=seq("2-"))
    make_orders(
        10, customer=se, status="shipped", customer_email="asa@example.se", total_cents=-1250, reference=seq("3-")
    )


@pytest.fixture
def log_in(live_server, django_user_model, page):
    """Create a staff user with ``codenames`` and log in through the admin's login form."""

    def log_in(*codenames: str) -> Any:
        user = django_user_model.objects.create_user("browser", password="secret-pw", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        page.goto(f"{live_server.url}/admin/login/?next={CHANGELIST}")
        page.fill("#id_username", "browser")
        page.fill("#id_password", "secret-pw")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}{CHANGELIST}")
        return page

    return log_in


def download(page: Any, click: str) -> list[list[str]]:
    """Click ``click``, wait for the file the browser downloads, and parse it."""
    with page.expect_download() as info:
        page.click(click)
    path = info.value.path()
    return read_csv(Path(path).read_bytes())


def test_filter_select_three_rows_and_run_the_action(log_in, shop):
    page = log_in("view_order", "export_order")
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
    assert {row[7] for row in data[1:]} == {"-1250"}


def test_export_all_matching_a_search(log_in, shop, screenshot):
    page = log_in("view_order", "export_order")
    page.fill("#searchbar", "kenji")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=kenji**")
    screenshot(page, "admin-changelist.png")

    page.click("a.exports-all-link")
    page.wait_for_selector("#exports-columns-form")
    assert page.locator("text=25 orders will be exported.").is_visible()
    data = download(page, "#exports-columns-form input[type=submit]")

    expected = Order.objects.filter(customer__name="Kenji Sato").order_by("-pk")  # the changelist's order: newest first
    assert [row[1] for row in data[1:]] == [order.reference for order in expected]
    assert len(data) == 26


def test_pick_columns_on_the_intermediate_page(log_in, shop, screenshot):
    page = log_in("view_order", "export_order")
    page.locator("#changelist-filter").get_by_role("link", name="Paid").click()
    page.wait_for_url("**status__exact=paid**")
    page.click("a.exports-all-link")

    page.wait_for_selector("#exports-columns-form")
    page.get_by_label("Email").uncheck()
    page.get_by_label("Total", exact=True).check()
    # Required columns are shown, ticked and cannot be unticked.
    assert page.get_by_label("Reference").is_disabled()
    screenshot(page, "admin-columns.png")
    data = download(page, "#exports-columns-form input[type=submit]")

    assert data[0] == ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Total (cents)", "Total"]
    assert len(data) == 56
    assert {row[3] for row in data[1:]} == {"Paid"}


def test_a_user_without_the_permission_sees_no_action_and_no_button(log_in, shop):
    page = log_in("view_order")

    assert page.locator("#result_list tbody tr").count() == 50
    assert page.locator("select[name=action]").count() == 0
    assert page.locator("a.exports-all-link").count() == 0
