from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import Customer, Order
from orders.seed_data import PLACED_BEFORE, PLACED_SPAN

ROW_FIELDS = (
    "id",
    "reference",
    "customer__name",
    "customer__country",
    "customer_email",
    "total_cents",
    "status",
    "placed_at",
)

on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="COPY path: needs DATABASE_URL=postgres://...",
)


class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def seed(*args: str, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_orders", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def order_rows() -> list[tuple[Any, ...]]:
    return list(Order.objects.order_by("id").values_list(*ROW_FIELDS))


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows() -> None:
    seed("--truncate", count=60, seed=7, customers=40)
    first = order_rows()
    seed("--truncate", count=60, seed=7, customers=40)

    assert order_rows() == first
    assert len(first) == 60
    assert Customer.objects.count() == 40


@pytest.mark.django_db
def test_another_seed_gives_other_rows() -> None:
    seed("--truncate", count=60, seed=7)
    first = order_rows()
    seed("--truncate", count=60, seed=8)

    assert order_rows() != first


@pytest.mark.django_db
def test_first_twenty_orders_hold_the_awkward_strings() -> None:
    seed(count=20)

    names = set(Order.objects.values_list("customer__name", flat=True))
    emails = set(Order.objects.values_list("customer_email", flat=True))
    assert "Zoë Ångström" in names
    assert any("🎉" in name for name in names)
    for fragment in (",", '"', "\n", "\r\n", ";"):
        assert any(fragment in name for name in names), fragment
    for prefix in ("=", "-", "@", "+", "'", "\t", " "):
        assert any(name.startswith(prefix) for name in names), prefix
    assert any(name.endswith(" ") for name in names)
    assert any("+" in email for email in emails)
    assert any(email.startswith("=") for email in emails)
    assert set(Order.objects.values_list("total_cents", flat=True)) >= {0, -1, 1, 98_765_432_101}


@pytest.mark.django_db
def test_rows_are_plausible() -> None:
    seed(count=1000)

    orders = list(Order.objects.order_by("id"))
    refunds = [order for order in orders if order.total_cents < 0]
    assert 0.01 < len(refunds) / len(orders) < 0.1
    assert all(order.status == Order.Status.REFUNDED for order in refunds)
    assert {order.status for order in orders} == set(Order.Status.values)
    assert all(PLACED_BEFORE - PLACED_SPAN <= order.placed_at < PLACED_BEFORE for order in orders)
    assert len({order.placed_at.microsecond for order in orders}) > 900
    assert [order.placed_at for order in orders] == sorted(order.placed_at for order in orders)
    assert orders[-1].customer_email.endswith("@example.com")


@pytest.mark.django_db
def test_appends_after_the_highest_order() -> None:
    seed(count=10)
    seed(count=5, customers=3)

    assert list(Order.objects.order_by("id").values_list("id", "reference")) == [
        (number, f"ORD-{number:07d}") for number in range(1, 16)
    ]
    assert Customer.objects.count() == 1000  # reused, not created again


@pytest.mark.django_db
def test_truncate_starts_again_at_one() -> None:
    seed(count=10)
    seed("--truncate", count=3, customers=5)

    assert list(Order.objects.order_by("id").values_list("reference", flat=True)) == [
        "ORD-0000001",
        "ORD-0000002",
        "ORD-0000003",
    ]
    assert Customer.objects.count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize(("option", "value"), [("count", -1), ("customers", 0)])
def test_bad_numbers_are_command_errors(option: str, value: int) -> None:
    options = {"count": 1, option: value}
    with pytest.raises(CommandError, match=f"--{option} must be"):
        seed(**options)
    assert not Order.objects.exists()


def test_count_is_required() -> None:
    with pytest.raises(CommandError, match="--count"):
        seed()


@pytest.mark.django_db
def test_output_summary_and_quiet() -> None:
    out, err = seed(count=20)
    assert out.startswith("Seeded 20 orders in ")
    assert err == ""  # stderr is no terminal here: no progress

    out, err = seed(count=20, verbosity=0)
    assert (out, err) == ("", "")


@pytest.mark.django_db
def test_progress_on_a_terminal() -> None:
    err = TTYStringIO()
    call_command("seed_orders", count=20, stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("\rseeded 20 / 20 orders (")
    assert err.getvalue().endswith("/s)\n")


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_path_round_trips_awkward_text_and_resets_the_sequence() -> None:
    seed("--truncate", count=20)
    expected = order_rows()
    seed("--truncate", count=20)

    assert order_rows() == expected
    assert Order.objects.get(id=5).customer.name == "Acme Corp\nAccounts Dept"
    assert Order.objects.get(id=2).customer_email == "party.planners+🎉@example.com"
    customer = Customer.objects.create(name="New", country="SE")
    assert customer.id == 1001
    assert (
        Order.objects.create(
            reference="manual",
            customer=customer,
            customer_email="a@example.com",
            total_cents=1,
            placed_at=PLACED_BEFORE,
        ).id
        == 21
    )


@pytest.mark.django_db
def test_demo_setup_creates_a_staff_user_who_may_export() -> None:
    out = io.StringIO()
    call_command("demo_setup", count=30, stdout=out)

    user = get_user_model()._default_manager.get(username="demo")
    assert user.is_staff
    assert not user.is_superuser
    assert user.check_password("demo")
    assert user.has_perm("orders.export_order")
    assert user.has_perm("orders.view_order")
    assert user.has_perm("orders.view_customer")
    assert not user.has_perm("orders.change_order")
    assert Order.objects.count() == 30
    assert "http://127.0.0.1:8000/admin/" in out.getvalue()
    assert "http://127.0.0.1:8000/exports/orders.csv" in out.getvalue()


@pytest.mark.django_db
def test_demo_setup_is_idempotent_and_resets_the_password() -> None:
    call_command("demo_setup", count=30, stdout=io.StringIO())
    user = get_user_model()._default_manager.get(username="demo")
    user.set_password("changed")
    user.is_superuser = True
    user.save()

    call_command("demo_setup", count=30, stdout=io.StringIO())

    user.refresh_from_db()
    assert user.check_password("demo")
    assert not user.is_superuser
    assert get_user_model()._default_manager.filter(username="demo").count() == 1
    assert Order.objects.count() == 30  # not seeded twice
