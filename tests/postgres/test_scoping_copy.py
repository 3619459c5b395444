"""Per-user scoping on the COPY path: the user's scope is part of the query that COPY runs, on every surface."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection

from exports.runs import prepare
from exports.sources.copy import CopyPlan, copy_chunks
from orders.models import Order
from tests.conftest import body
from tests.test_scoping import ACME, GLOBEX, references
from tests.testapp.scoping import CompanyOrders

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL"),
]


@pytest.fixture
def through_copy():
    """Counts the runs that stream through COPY."""
    with mock.patch("exports.pipeline.copy_chunks", wraps=copy_chunks) as spy:
        yield spy


def test_copy_and_the_orm_give_the_same_scoped_bytes(companies, make_employee):
    alice = make_employee("alice", "Acme")
    copied = prepare(CompanyOrders(copy=True), surface="url", user=alice)
    assert isinstance(copied.source(), CopyPlan), copied.source()
    data = b"".join(copied.start().stream())
    assert references(data) == ACME
    assert data == b"".join(prepare(CompanyOrders(copy=False), surface="url", user=alice).start().stream())


def test_the_url_streams_the_users_rows_through_copy(client, company_orders, companies, make_employee, through_copy):
    client.force_login(make_employee("bob", "Globex"))
    assert references(body(client.get("/exports/company-orders.csv"))) == GLOBEX
    assert through_copy.call_count == 1


def test_the_command_streams_the_users_rows_through_copy(company_orders, companies, make_employee, through_copy):
    make_employee("alice", "Acme")
    out = io.StringIO()
    call_command("export", "company-orders", "--user", "alice", stdout=out, stderr=io.StringIO())
    assert references(out.getvalue()) == ACME
    assert through_copy.call_count == 1


def test_the_admin_streams_the_users_rows_through_copy(
    client, company_orders, companies, make_employee, monkeypatch, through_copy
):
    monkeypatch.setattr(admin.site._registry[Order], "export_name", company_orders.name)
    client.force_login(make_employee("alice", "Acme", codenames=("view_order", "export_order")))
    assert references(body(client.get("/admin/orders/order/export/", {"status__exact": "paid"}))) == ACME[:2]
    assert through_copy.call_count == 1
