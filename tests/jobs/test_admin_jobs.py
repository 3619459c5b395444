"""The admin's background exports: the column page's button, "Export all matching" above the threshold, and
"My exports" with its progress, download links and cancel."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.urls import reverse

from exports import Export
from exports.admin import CHOSEN_FIELD
from exports.admin.background import BACKGROUND_FIELD
from exports.job_models import ExportJob
from orders.models import Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = reverse("admin:orders_order_changelist")
EXPORT_ALL = reverse("admin:orders_order_export")
MY_EXPORTS = reverse("admin:exports_exportjob_changelist")


@pytest.fixture
def staff_client(client, exporter):
    exporter.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(exporter)
    return client


def test_the_column_page_prepares_the_file_in_the_background(staff_client, make_orders, run_worker):
    make_orders(6, status="paid")
    make_orders(4, status="shipped")
    url = f"{EXPORT_ALL}?status__exact=paid"
    picker = staff_client.get(url)
    assert b"Prepare the file in the background" in picker.content
    response = staff_client.post(url, {CHOSEN_FIELD: "1", "columns": ["total"], BACKGROUND_FIELD: "1"})
    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}?status__exact=paid"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == f'The file is being prepared in the background: <a href="{MY_EXPORTS}">My exports</a>.'
    job = ExportJob.objects.get()
    assert (job.admin, job.selection, job.columns, job.filters) == (
        "admin:orders.order",
        "status__exact=paid",
        ["total"],
        {},
    )

    run_worker()
    job.refresh_from_db()
    assert (job.state, job.rows_done) == ("completed", 6)
    stored = read_csv(body(staff_client.get(f"/exports/jobs/{job.pk}/download")))
    direct = read_csv(body(staff_client.post(url, {CHOSEN_FIELD: "1", "columns": ["total"]})))
    assert stored == direct and len(stored) == 7


def test_ticked_rows_travel_as_their_keys_and_only_they_are_exported(staff_client, make_orders, run_worker):
    orders = make_orders(5)
    ticked = [str(order.pk) for order in orders[:2]]
    data = {"action": "export_as_csv", "_selected_action": ticked, CHOSEN_FIELD: "1", BACKGROUND_FIELD: "1"}
    staff_client.post(CHANGELIST, data)
    job = ExportJob.objects.get()
    assert job.selection == f"id__in={'%2C'.join(ticked)}"
    run_worker()
    rows = read_csv(body(staff_client.get(f"/exports/jobs/{job.pk}/download")))
    assert sorted(row[0] for row in rows[1:]) == sorted(ticked)


def test_above_the_threshold_the_background_is_the_column_pages_default(staff_client, make_orders, settings):
    make_orders(3)
    settings.EXPORTS_BACKGROUND_THRESHOLD = 2
    page = staff_client.get(EXPORT_ALL).content.decode()
    assert page.index(f'class="default exports-background" name="{BACKGROUND_FIELD}"') < page.index("Download now")
    assert isinstance(staff_client.post(EXPORT_ALL, {CHOSEN_FIELD: "1"}), StreamingHttpResponse)  # "now"
    assert ExportJob.objects.count() == 0


def test_export_all_matching_goes_to_the_background_above_the_threshold(
    staff_client, make_orders, settings, temporary_export, monkeypatch
):
    # One format and no optional column: no page asks anything, "Export all matching" downloads or queues at once.
    export = temporary_export(Export(Order, name="orders-plain", columns=["reference", "status"], formats=["csv"]))
    monkeypatch.setattr(admin.site._registry[Order], "export_name", export.name)
    make_orders(3)
    settings.EXPORTS_BACKGROUND_THRESHOLD = 3
    assert isinstance(staff_client.get(EXPORT_ALL), StreamingHttpResponse)
    make_orders(1)
    response = staff_client.get(EXPORT_ALL)
    assert response.status_code == 302
    assert ExportJob.objects.get().export_name == "orders-plain"


def test_the_view_of_the_changelist_is_checked_again_on_the_worker(staff_client, exporter, make_orders, run_worker):
    make_orders(3)
    staff_client.post(EXPORT_ALL, {CHOSEN_FIELD: "1", BACKGROUND_FIELD: "1"})
    exporter.user_permissions.remove(Permission.objects.get(codename="view_order"))
    run_worker()
    job = ExportJob.objects.get()
    assert (job.state, job.error) == ("failed", "You may no longer see these rows in the admin.")


def test_my_exports_lists_the_users_own_jobs_with_progress_download_and_cancel(
    staff_client, exporter, make_orders, run_worker, django_user_model
):
    make_orders(3)
    staff_client.post(EXPORT_ALL, {CHOSEN_FIELD: "1", BACKGROUND_FIELD: "1"})
    run_worker()
    staff_client.post(f"{EXPORT_ALL}?status__exact=paid", {CHOSEN_FIELD: "1", BACKGROUND_FIELD: "1"})
    done, queued = ExportJob.objects.order_by("created_at")
    other = django_user_model.objects.create_user("other", is_staff=True)
    ExportJob.objects.create(user=other, username="other", export_name="orders", surface="url", fingerprint="x")

    page = staff_client.get(MY_EXPORTS).content.decode()
    assert page.count('class="exports-job"') == 2
    assert f'href="/exports/jobs/{done.pk}/download"' in page
    assert f'data-status-url="/exports/jobs/{queued.pk}/"' in page
    assert f'action="/exports/jobs/{queued.pk}/cancel"' in page and f"/exports/jobs/{done.pk}/cancel" not in page

    response = staff_client.post(f"/exports/jobs/{queued.pk}/cancel", {"next": MY_EXPORTS})
    assert response.status_code == 302 and response["Location"] == MY_EXPORTS
    queued.refresh_from_db()
    assert queued.state == "cancelled"


def test_a_staff_user_without_any_permission_sees_my_exports(client, django_user_model):
    user = django_user_model.objects.create_user("demo", is_staff=True)
    client.force_login(user)
    assert client.get(MY_EXPORTS).status_code == 200
    assert b"My exports" in client.get(reverse("admin:index")).content
