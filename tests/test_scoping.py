"""Per-user scoping: ``Export.get_queryset(user)`` applies on every surface (the URL, the command, the admin within
its changelist, and prepare(), which background jobs go through)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command

from exports.runs import prepare
from orders.models import Order
from tests.conftest import body, read_csv
from tests.testapp.scoping import CompanyOrders

pytestmark = pytest.mark.django_db

URL = "/exports/company-orders.csv"


def references(data: bytes | str) -> list[str]:
    return sorted(row[0] for row in read_csv(data)[1:])


ACME = ["acme-paid-1", "acme-paid-2", "acme-pending-1"]
GLOBEX = ["globex-1", "globex-2"]


def test_the_url_exports_only_the_users_rows(client, company_orders, companies, make_employee):
    client.force_login(make_employee("alice", "Acme"))
    assert references(body(client.get(URL))) == ACME
    client.force_login(make_employee("bob", "Globex"))
    assert references(body(client.get(URL))) == GLOBEX
    client.force_login(make_employee("carol"))
    assert read_csv(body(client.get(URL))) == [["Reference", "Name", "Status"]]


def test_filters_apply_within_the_users_rows(client, company_orders, companies, make_employee):
    client.force_login(make_employee("alice", "Acme"))
    assert references(body(client.get(URL, {"status": "paid"}))) == ["acme-paid-1", "acme-paid-2"]


def test_the_row_cap_counts_the_users_rows(client, company_orders, companies, make_employee, settings):
    settings.EXPORTS_MAX_ROWS = 2
    client.force_login(make_employee("bob", "Globex"))
    assert references(body(client.get(URL))) == GLOBEX
    client.force_login(make_employee("alice", "Acme"))
    assert client.get(URL).status_code == 400


def test_the_command_as_a_user_exports_that_users_rows(company_orders, companies, make_employee):
    make_employee("alice", "Acme")
    out = io.StringIO()
    call_command("export", "company-orders", "--user", "alice", stdout=out, stderr=io.StringIO())
    assert references(out.getvalue()) == ACME


def test_the_command_without_a_user_is_the_operator_and_exports_every_row(company_orders, companies):
    out = io.StringIO()
    call_command("export", "company-orders", stdout=out, stderr=io.StringIO())
    assert references(out.getvalue()) == sorted(ACME + GLOBEX)


def test_the_command_refuses_a_user_without_the_permission(company_orders, companies, make_employee):
    make_employee("mallory", "Acme", codenames=())
    with pytest.raises(CommandError, match="may not run the export"):
        call_command("export", "company-orders", "--user", "mallory", stdout=io.StringIO(), stderr=io.StringIO())


def test_prepare_scopes_the_rows_for_the_user_it_is_given(company_orders, companies, make_employee):
    # Every surface, background jobs included, goes through prepare(): the one place that calls the hook.
    seen: list[Any] = []
    alice = make_employee("alice", "Acme")
    export = CompanyOrders()
    original = export.get_queryset

    def spy(user: Any) -> Any:
        seen.append(user)
        return original(user)

    export.get_queryset = spy  # type: ignore[method-assign]
    request = prepare(export, surface="url", user=alice)
    assert seen == [alice]
    assert request.count() == 3
    assert references(b"".join(request.start().stream())) == ACME


@pytest.fixture
def company_admin(monkeypatch, company_orders):
    order_admin = admin.site._registry[Order]
    monkeypatch.setattr(order_admin, "export_name", company_orders.name)
    return order_admin


EXPORT_ALL = "/admin/orders/order/export/"
CHANGELIST = "/admin/orders/order/"


def test_the_admin_exports_the_users_rows_within_the_changelist(client, company_admin, companies, make_employee):
    client.force_login(make_employee("alice", "Acme", codenames=("view_order", "export_order")))
    assert references(body(client.get(EXPORT_ALL))) == ACME
    assert references(body(client.get(EXPORT_ALL, {"status__exact": "paid"}))) == ["acme-paid-1", "acme-paid-2"]
    # Globex's rows ticked in a crafted POST stay out: the export's scope limits the admin's selection.
    globex = [str(pk) for pk in Order.objects.filter(customer__name="Globex").values_list("pk", flat=True)]
    crafted = client.post(CHANGELIST, {"action": "export_as_csv", "index": 0, "_selected_action": globex})
    assert read_csv(body(crafted)) == [["Reference", "Name", "Status"]]


def test_the_admin_intersects_its_own_get_queryset_with_the_exports(
    client, company_admin, companies, make_employee, monkeypatch
):
    changelist_rows = company_admin.get_queryset
    monkeypatch.setattr(company_admin, "get_queryset", lambda request: changelist_rows(request).exclude(status="paid"))
    client.force_login(make_employee("alice", "Acme", codenames=("view_order", "export_order")))
    assert references(body(client.get(EXPORT_ALL))) == ["acme-pending-1"]
