"""``POST /exports/<name>.csv`` queues a background job; its links give its state and its file to its owner only."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from exports.job_models import ExportDownload, ExportJob
from tests.conftest import body, read_csv
from tests.jobs.conftest import post_export, state_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_posted_export_is_prepared_by_the_worker_and_downloaded_as_the_same_csv(
    client, exporter, make_orders, run_worker
):
    make_orders(30, status="paid")
    make_orders(5, status="cancelled")
    client.force_login(exporter)
    response, job = post_export(client, "/exports/orders.csv?status=paid")
    assert response.status_code == 202
    assert response["Location"] == f"/exports/jobs/{job.pk}/"
    assert state_of(client, job)["state"] == "queued"

    run_worker()

    state = state_of(client, job)
    assert (state["state"], state["rows_done"], state["rows_total"], state["percent"]) == ("completed", 30, 30, 100)
    download = client.get(state["download_url"])
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"
    assert download["Content-Disposition"].startswith('attachment; filename="orders-')
    data = body(download)
    direct = read_csv(body(client.get("/exports/orders.csv?status=paid")))
    assert read_csv(data) == direct and len(direct) == 31
    downloads = ExportDownload.objects.values_list("username", "outcome", "size")
    assert list(downloads) == [("exporter", "served", len(data))]


def test_checks_come_before_anything_is_queued(client, exporter, django_user_model):
    client.force_login(exporter)
    bad = client.post("/exports/orders.csv?status=lost")
    assert bad.status_code == 400 and b"status" in bad.content
    assert client.post("/exports/nothing.csv").status_code == 404
    other = django_user_model.objects.create_user("other", password="pw", is_staff=True)
    client.force_login(other)
    assert client.post("/exports/orders.csv").status_code == 403
    anonymous = Client().post("/exports/orders.csv")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert ExportJob.objects.count() == 0


def test_a_post_without_the_csrf_token_is_refused(exporter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(exporter)
    assert client.post("/exports/orders.csv").status_code == 403
    assert ExportJob.objects.count() == 0


def test_a_double_click_returns_the_job_already_queued(client, exporter, make_orders):
    make_orders(3)
    client.force_login(exporter)
    first, job = post_export(client, "/exports/orders.csv?status=paid&columns=total")
    second, again = post_export(client, "/exports/orders.csv?columns=total&status=paid")
    assert (first.json()["created"], second.json()["created"]) == (True, False)
    assert again == job and ExportJob.objects.count() == 1
    _, other = post_export(client, "/exports/orders.csv?status=cancelled")
    assert other != job


def test_links_answer_their_owner_only(client, exporter, make_orders, run_worker, django_user_model):
    make_orders(3)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    links = [f"/exports/jobs/{job.pk}/", f"/exports/jobs/{job.pk}/download"]
    assert [client.get(link).status_code for link in links] == [200, 200]

    stranger = django_user_model.objects.create_user("stranger", password="pw", is_staff=True)
    stranger.user_permissions.add(Permission.objects.get(codename="export_order"))
    client.force_login(stranger)
    assert [client.get(link).status_code for link in links] == [404, 404]
    assert client.get(f"/exports/jobs/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/exports/jobs/{str(job.pk)[:-1]}x/download").status_code == 404
    assert client.get("/exports/jobs/../download").status_code == 404

    auditor = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    auditor.user_permissions.add(Permission.objects.get(codename="view_all_export_files"))
    client.force_login(auditor)
    assert [client.get(link).status_code for link in links] == [200, 200]

    anonymous = Client().get(links[1])
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_an_expired_file_is_gone(client, exporter, make_orders, run_worker):
    make_orders(3)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(f"/exports/jobs/{job.pk}/download").status_code == 410
    assert state_of(client, job)["download_url"] is None
    assert ExportDownload.objects.get().outcome == "gone"


def test_an_owner_who_lost_the_permission_gets_nothing(client, exporter, make_orders, run_worker):
    make_orders(3)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    exporter.user_permissions.clear()
    client.force_login(exporter)
    assert client.get(f"/exports/jobs/{job.pk}/download").status_code == 404


def test_the_owner_cancels_a_queued_job_and_no_worker_runs_it(client, exporter, make_orders, run_worker):
    make_orders(3)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    assert client.get(f"/exports/jobs/{job.pk}/cancel").status_code == 405
    response = client.post(f"/exports/jobs/{job.pk}/cancel")
    assert response.json()["state"] == "cancelled"
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.file, job.rows_done) == ("cancelled", "", 0)


def test_the_status_page_shows_the_state_and_the_link(client, exporter, make_orders, run_worker):
    make_orders(3)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv")
    run_worker()
    page = client.get(f"/exports/jobs/{job.pk}/")
    assert page["Content-Type"].startswith("text/html")
    assert f"/exports/jobs/{job.pk}/download".encode() in page.content
