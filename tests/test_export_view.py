"""``ExportView`` mounted at a project's own URLs: one export, many, and a subclass that changes its steps."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from exports import ExportView
from exports.models import ExportRun
from tests.conftest import body, read_csv

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export_view_urls")]

ONE = "/reports/orders.csv"


def test_the_public_api_exports_the_view():
    from exports import views

    assert ExportView is views.ExportView


def test_one_export_at_a_projects_url_gives_the_same_file_as_exports_urls(client, exporter, make_orders):
    make_orders(3, status="paid")
    make_orders(2, status="pending")
    client.force_login(exporter)
    mounted = client.get(ONE, {"status": "paid", "columns": "total"})
    assert mounted.status_code == 200
    assert mounted["Content-Disposition"].startswith('attachment; filename="orders-')
    assert body(mounted) == body(client.get("/exports/orders.csv", {"status": "paid", "columns": "total"}))
    assert list(ExportRun.objects.values_list("surface", "outcome")) == [("url", "completed")] * 2


def test_the_same_guards_as_exports_urls(client, exporter, django_user_model, make_orders, settings):
    make_orders(3)
    response = client.get(ONE)
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/reports/orders.csv")
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    assert client.get(ONE).status_code == 403
    client.force_login(exporter)
    refused = client.get(ONE, {"status": "lost"})
    assert refused.status_code == 400
    assert refused.content.decode().startswith("Filter 'status': Select a valid choice.")
    # POST queues a background export after the same guards (tests/jobs/): a bad filter is refused before any job.
    assert client.post(f"{ONE}?status=lost").status_code == 400
    assert client.put(ONE).status_code == 405
    settings.EXPORTS_MAX_ROWS = 2
    assert client.get(ONE).status_code == 400
    settings.EXPORTS_MAX_ROWS = None
    head = client.head(ONE)
    assert (head.status_code, head.content) == (200, b"")
    settings.EXPORTS_MAX_CONCURRENT_PER_USER = 1
    running = client.get(ONE)
    busy = client.get(ONE)
    assert (busy.status_code, busy.has_header("Retry-After")) == (429, True)
    body(running)
    assert ExportRun.objects.filter(outcome="completed").count() == 1  # HEAD and the refusals started no run


def test_many_exports_named_by_the_url(client, exporter, make_orders):
    make_orders(1)
    client.force_login(exporter)
    assert len(read_csv(body(client.get("/reports/orders.csv")))) == 2
    assert client.get("/reports/nope.csv").status_code == 404


def test_a_subclass_changes_the_permission_and_the_filters(client, exporter, django_user_model, make_orders):
    make_orders(2, status="paid")
    make_orders(3, status="pending")
    url = "/managers/q3/paid-orders.csv"
    client.force_login(exporter)  # the export's permission, but not a manager
    assert client.get(url).status_code == 403
    manager = django_user_model.objects.create_user("manager")
    manager.groups.add(Group.objects.create(name="managers"))
    client.force_login(manager)
    rows = read_csv(body(client.get(url, {"status": "pending"})))
    assert [row[3] for row in rows[1:]] == ["Paid", "Paid"]
