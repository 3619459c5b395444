"""Declaring and registering exports: the two declaration styles, names, and who may run an export."""

from __future__ import annotations

import pytest

from exports import Export, register, registry
from orders.models import Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db


def test_an_export_declared_as_a_subclass_runs_like_one_declared_with_arguments(
    client, exporter, make_orders, temporary_export
):
    class RecentOrders(Export):
        model = Order
        name = "recent-orders"
        columns = ["reference", "status"]
        ordering = ["-reference"]

    make_orders(2, status="paid")
    temporary_export(RecentOrders())
    client.force_login(exporter)
    rows = read_csv(body(client.get("/exports/recent-orders.csv")))
    expected = sorted(Order.objects.values_list("reference", flat=True), reverse=True)
    assert rows == [["Reference", "Status"], *[[reference, "Paid"] for reference in expected]]


def test_a_misspelt_option_is_refused_where_it_is_written():
    with pytest.raises(TypeError, match="colums"):
        Export(Order, colums=["reference"])  # type: ignore[call-arg]


def test_a_second_export_with_a_taken_name_is_refused(temporary_export):
    count = len(registry)
    assert "twice" not in registry
    first = temporary_export(Export(Order, name="twice"))
    assert "twice" in registry
    assert len(registry) == count + 1
    assert register(first) is first  # the same export again changes nothing
    with pytest.raises(ValueError, match="An export named 'twice' is already registered"):
        register(Export(Order, name="twice", columns=["reference"]))
    assert registry.get("twice") is first
    assert len(registry) == count + 1


def test_only_exports_can_be_registered():
    with pytest.raises(TypeError, match="register"):
        register(Order)  # type: ignore[type-var]


def test_without_a_permission_any_active_staff_user_may_export(client, django_user_model, temporary_export):
    temporary_export(Export(Order, name="open", columns=["reference"], permission=None))
    url = "/exports/open.csv"
    client.force_login(django_user_model.objects.create_user("customer"))
    assert client.get(url).status_code == 403
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 200
    staff.is_active = False
    staff.save()
    assert client.get(url).status_code in (302, 403)  # an inactive user is no longer logged in, nor let through


def test_has_permission_may_be_overridden_for_other_rules(client, django_user_model, temporary_export):
    class OwnDomainOnly(Export):
        model = Order
        name = "own-domain"

        def has_permission(self, user):
            return user.is_active and user.email.endswith("@shop.example")

    temporary_export(OwnDomainOnly())
    client.force_login(django_user_model.objects.create_user("ana", email="ana@shop.example"))
    assert client.get("/exports/own-domain.csv").status_code == 200
    client.force_login(django_user_model.objects.create_user("bo", email="bo@elsewhere.example", is_superuser=True))
    assert client.get("/exports/own-domain.csv").status_code == 403
