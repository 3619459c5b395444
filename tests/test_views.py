"""The download URL: who may download, what they get, and how it streams."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exports import Column, Export
from exports.models import ExportRun
from orders.models import Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"


def test_the_url_is_named():
    assert reverse("exports:download", args=["orders"]) == URL


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(URL + "?status=paid")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/exports/orders.csv%3Fstatus%3Dpaid"


def test_a_user_without_the_permission_is_forbidden(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    assert client.get(URL).status_code == 403


def test_an_inactive_user_with_the_permission_is_forbidden(client, exporter):
    client.force_login(exporter)
    exporter.is_active = False
    exporter.save()
    assert client.get(URL).status_code in (302, 403)


def test_a_user_with_the_permission_downloads_a_streamed_csv(client, exporter, make_orders):
    make_orders(3, status="paid")
    client.force_login(exporter)
    response = client.get(URL)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    rows = read_csv(body(response))
    assert rows[0] == ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Email", "Total (cents)"]
    assert len(rows) == 4
    assert {row[3] for row in rows[1:]} == {"Paid"}


def test_a_superuser_may_download(admin_client, make_orders):
    make_orders(1)
    assert admin_client.get(URL).status_code == 200


def test_unknown_exports_are_not_found(client, exporter):
    client.force_login(exporter)
    assert client.get("/exports/nope.csv").status_code == 404


def test_put_is_not_allowed(client, exporter):
    # POST queues a background export (tests/jobs/); nothing else but GET and HEAD is allowed.
    client.force_login(exporter)
    assert client.put(URL).status_code == 405


def test_filters_from_the_query_string(client, exporter, make_orders):
    make_orders(2, status="paid")
    make_orders(3, status="shipped")
    client.force_login(exporter)
    rows = read_csv(body(client.get(URL, {"status__in": "shipped"})))
    assert [row[3] for row in rows[1:]] == ["Shipped"] * 3
    rows = read_csv(body(client.get(URL, {"status": "Shipped"})))  # the label the file shows works as well
    assert [row[3] for row in rows[1:]] == ["Shipped"] * 3


def test_optional_columns_are_chosen_with_columns(client, exporter, make_orders):
    make_orders(1, total_cents=-1250)
    client.force_login(exporter)
    rows = read_csv(body(client.get(URL, {"columns": "total"})))
    assert rows[0][-2:] == ["Total (cents)", "Total"]
    assert "Email" not in rows[0]
    assert rows[1][-2:] == ["-1250", "-12.50"]


@override_settings(EXPORTS_BUFFER_SIZE=1)
def test_the_first_chunk_arrives_before_the_queryset_is_read(client, exporter, make_orders, temporary_export):
    make_orders(100)
    temporary_export(Export(Order, name="small-chunks", columns=["reference"], chunk_size=10))
    client.force_login(exporter)
    response = client.get("/exports/small-chunks.csv")
    chunks = iter(response.streaming_content)
    first = read_csv(next(chunks))
    assert first[0] == ["Reference"]
    assert 1 < len(first) <= 11  # the header and the first batch only: the other 90 rows are not read yet
    rest = b"".join(chunks)
    assert len(read_csv(rest)) == 100 - (len(first) - 1)
    response.close()


def test_the_number_of_queries_does_not_grow_with_the_rows(client, exporter, make_orders):
    client.force_login(exporter)

    def queries_for(count: int) -> int:
        Order.objects.all().delete()
        make_orders(count)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"columns": "total"})
            assert len(read_csv(body(response))) == count + 1
        return len(queries)

    few, many = queries_for(10), queries_for(3000)
    assert few == many
    # session, user, user and group permissions; the audit record's insert (in a savepoint, for its slot); the rows
    # in one query joined to the customer (on PostgreSQL: in the snapshot, and in a savepoint holding the export's
    # session settings: SET TRANSACTION, SAVEPOINT, one query of set_config(), the rows, ROLLBACK TO,
    # RELEASE); the record's update
    assert many <= 14


def test_the_filename_pattern_and_awkward_names(client, exporter, make_orders, temporary_export):
    make_orders(1)
    temporary_export(
        Export(
            Order, name="odd", filename='Ordres "spéciales"\r\n{name}/{date:%Y}.csv', permission="orders.export_order"
        )
    )
    client.force_login(exporter)
    response = client.get("/exports/odd.csv")
    year = datetime.date.today().year
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''Ordres%20_sp%C3%A9ciales_odd_{year}.csv"


def test_datetimes_follow_the_current_time_zone(client, exporter, make_orders, settings):
    make_orders(1, placed_at=datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC))
    settings.TIME_ZONE = "America/New_York"
    client.force_login(exporter)
    rows = read_csv(body(client.get(URL)))
    assert rows[1][2] == "2026-06-01T08:00:00-04:00"


def test_columns_with_labels_and_choices_match_the_declaration(client, exporter, make_orders, temporary_export):
    make_orders(1, status="refunded")
    temporary_export(Export(Order, name="tiny", columns=[Column("status", "État")]))
    client.force_login(exporter)
    assert read_csv(body(client.get("/exports/tiny.csv"))) == [["État"], ["Refunded"]]


def test_head_answers_with_the_headers_of_get_without_running_the_export(client, exporter, make_orders):
    make_orders(3)
    client.force_login(exporter)
    with CaptureQueriesContext(connection) as queries:
        head = client.head(URL, {"status": "paid"})
    assert head.status_code == 200
    assert head.content == b""
    get = client.get(URL, {"status": "paid"})
    for header in ("Content-Type", "Content-Disposition", "Cache-Control", "X-Content-Type-Options"):
        assert head[header] == get[header]
    body(get)
    # No run was recorded for HEAD, and no row was read: only the session, the user and the permission.
    assert list(ExportRun.objects.values_list("outcome", flat=True)) == ["completed"]
    assert not any('"orders_order"' in query["sql"] for query in queries.captured_queries)


def test_head_makes_the_same_checks_as_get(client, exporter, django_user_model):
    assert client.head(URL).status_code == 302  # anonymous: to the login page
    client.force_login(django_user_model.objects.create_user("nobody", is_staff=True))
    assert client.head(URL).status_code == 403
    client.force_login(exporter)
    assert client.head(URL, {"status": "lost"}).status_code == 400
    assert client.head("/exports/nope.csv").status_code == 404


def test_naming_a_required_column_is_allowed_and_changes_nothing(client, exporter, make_orders):
    make_orders(1)
    client.force_login(exporter)
    required_only = read_csv(body(client.get(URL, {"columns": "reference"})))
    assert required_only[0] == ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Total (cents)"]
    with_email = read_csv(body(client.get(URL, {"columns": "reference,customer_email"})))
    assert with_email[0] == [*required_only[0][:6], "Email", "Total (cents)"]
