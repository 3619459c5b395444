"""The demo's home page: the exports the logged-in user may run, with their links, and that user's recent runs."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from model_bakery import baker

from exports import Export
from exports.models import ExportRun
from orders.models import Customer, Order
from project.views import RECENT_RUNS

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/"


def test_a_user_sees_the_exports_they_may_run_with_their_links(client, exporter):
    client.force_login(exporter)

    response = client.get("/")

    assert response.status_code == 200
    exports = [link.name for link in response.context["exports"]]
    assert "orders" in exports
    assert 'href="/exports/orders.csv"' in response.text
    assert "manage.py export orders" in response.text
    assert "<code>placed_after</code>" in response.text


def test_exports_the_user_may_not_run_are_not_listed(client, exporter, temporary_export):
    temporary_export(Export(Customer, name="customers-secret"))  # needs orders.export_customer, which nobody has
    temporary_export(Export(Order, name="orders-staff", permission=None))  # any active staff user
    client.force_login(exporter)

    response = client.get("/")

    exports = [link.name for link in response.context["exports"]]
    assert "orders-staff" in exports
    assert "customers-secret" not in exports
    assert "/exports/customers-secret.csv" not in response.text


def test_a_user_without_any_export_permission_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)

    response = client.get("/")

    assert response.context["exports"] == []
    assert "You may not run any export." in response.text


def test_recent_runs_are_the_users_own_newest_first(client, exporter, django_user_model):
    other = django_user_model.objects.create_user("other", password="pw")
    now = timezone.now()
    mine = [
        baker.make(
            ExportRun,
            user=exporter,
            export_name="orders",
            surface=ExportRun.Surface.URL,
            outcome=ExportRun.Outcome.COMPLETED,
            rows_sent=1_234_567,
            started_at=now - datetime.timedelta(minutes=minutes),
        )
        for minutes in range(RECENT_RUNS + 2)
    ]
    baker.make(ExportRun, user=other, export_name="someone-elses", outcome=ExportRun.Outcome.COMPLETED)
    client.force_login(exporter)

    response = client.get("/")

    assert list(response.context["runs"]) == mine[:RECENT_RUNS]
    assert "someone-elses" not in response.text
    assert "1,234,567" in response.text


def test_a_user_with_no_runs_is_told_so(client, exporter):
    client.force_login(exporter)

    response = client.get("/")

    assert list(response.context["runs"]) == []
    assert "No runs yet" in response.text


def test_a_run_started_from_the_download_link_shows_up(client, exporter, make_orders):
    make_orders(3)
    client.force_login(exporter)
    b"".join(client.get("/exports/orders.csv").streaming_content)

    response = client.get("/")

    [run] = response.context["runs"]
    assert (run.export_name, run.surface, run.outcome, run.rows_sent) == ("orders", "url", "completed", 3)
    assert "Download URL" in response.text
