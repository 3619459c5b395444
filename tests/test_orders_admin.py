from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orders.admin import format_cents
from orders.models import Order

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def orders(db: None) -> None:
    call_command("seed_orders", count=120, customers=50, stdout=io.StringIO())


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (1, "0.01"), (-1, "-0.01"), (-123_456, "-1,234.56"), (98_765_432_101, "987,654,321.01")],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


@pytest.mark.usefixtures("orders")
def test_changelist_runs_a_bounded_number_of_queries(admin_client: Client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    newest = Order.objects.order_by("-pk").first()
    assert newest is not None
    assert format_cents(newest.total_cents) in response.content.decode()


@pytest.mark.usefixtures("orders")
def test_country_filter_lists_the_customer_countries(admin_client: Client) -> None:
    response = admin_client.get(CHANGELIST, {"customer__country": "SE"})

    assert response.status_code == 200
    result = response.context["cl"].queryset
    assert result.exists()
    assert set(result.values_list("customer__country", flat=True)) == {"SE"}
    assert "customer__country=JP" in response.content.decode()


@pytest.mark.usefixtures("orders")
def test_search_by_reference_email_and_customer_name(admin_client: Client) -> None:
    for query, reference in (("ORD-0000003", "ORD-0000003"), ("=1+1@", "ORD-0000006"), ("Ångström", "ORD-0000001")):
        response = admin_client.get(CHANGELIST, {"q": query})
        assert reference in {order.reference for order in response.context["cl"].queryset}, query


@pytest.mark.usefixtures("orders")
def test_demo_user_may_view_but_not_change(client: Client) -> None:
    call_command("demo_setup", stdout=io.StringIO())
    client.force_login(get_user_model()._default_manager.get(username="demo"))

    assert client.get(CHANGELIST).status_code == 200
    order = Order.objects.get(reference="ORD-0000001")
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    assert client.post(change_url, {"reference": "X"}).status_code == 403
    assert client.get(reverse("admin:orders_customer_changelist")).status_code == 200
