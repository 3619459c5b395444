"""The admin: the action, "export all matching", the column picker, permissions and messages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from model_bakery import baker
from model_bakery.utils import seq

from exports import Export
from exports.admin import CHOSEN_FIELD, ExportActionMixin
from orders.models import Customer, Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db

if TYPE_CHECKING:
    # ModelAdmin is generic only in django-stubs.
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin

CHANGELIST = reverse("admin:orders_order_changelist")
EXPORT_ALL = reverse("admin:orders_order_export")
ACTION_LABEL = "Export selected orders"
BUTTON_LABEL = "Export all matching orders"
HEADER = ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Email", "Total (cents)"]


@pytest.fixture
def order_admin() -> ExportActionMixin:
    return admin.site._registry[Order]  # type: ignore[return-value]


@pytest.fixture
def make_staff(django_user_model):
    def make(username: str, *codenames: str, **fields):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True, **fields)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    return make


@pytest.fixture
def staff_exporter(make_staff):
    """May view orders and export them."""
    return make_staff("staff_exporter", "view_order", "export_order")


@pytest.fixture
def exporter_client(client, staff_exporter):
    client.force_login(staff_exporter)
    return client


@pytest.fixture
def plain_export(temporary_export, monkeypatch, order_admin):
    """An export of orders without optional columns, in CSV only, run by the orders admin: downloads start at once."""
    export = temporary_export(
        Export(Order, name="orders-plain", columns=["reference", "status"], filters=["status"], formats=["csv"])
    )
    monkeypatch.setattr(order_admin, "export_name", export.name)
    return export


@pytest.fixture
def shop(make_orders):
    """Orders of two customers in three statuses, over two years; more than one changelist page (50)."""
    se = baker.make(Customer, name="Åsa Berg", country="SE")
    jp = baker.make(Customer, name="Kenji Sato", country="JP")
    # References of digits only: random ones (baker's) could contain a search term ("asa") now and then.
    make_orders(
        30,
        customer=se,
        status="paid",
        customer_email="asa@example.se",
        placed_at="2024-03-01T10:00Z",
        reference=seq("1-"),
    )
    make_orders(
        25,
        customer=jp,
        status="paid",
        customer_email="kenji@example.jp",
        placed_at="2025-03-01T10:00Z",
        reference=seq("2-"),
    )
    make_orders(
        10,
        customer=se,
        status="shipped",
        customer_email="asa@example.se",
        placed_at="2025-05-01T10:00Z",
        reference=seq("3-"),
    )
    make_orders(
        5,
        customer=jp,
        status="pending",
        customer_email="=cmd@example.jp",
        placed_at="2025-06-01T10:00Z",
        reference=seq("4-"),
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def pks(**filters) -> list[str]:
    return [str(pk) for pk in Order.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)]


def action(*selected: str, select_across: bool = False) -> dict[str, object]:
    """The changelist's action form, as the browser posts it."""
    return {"action": "export_as_csv", "index": 0, "select_across": int(select_across), "_selected_action": selected}


def picker_form(picker, **fields) -> dict[str, list[str]]:
    """The column picker's form as the browser submits it (the CSRF token aside), plus ``fields``."""
    data: dict[str, list[str]] = {picker.context["chosen_field"]: ["1"]}
    for name, value in picker.context["hidden_fields"]:
        data.setdefault(name, []).append(value)
    return {**data, **fields}


def in_changelist_order(data: bytes) -> bytes:
    """``data``'s rows in primary-key order, as the download URL writes them (the changelist lists newest first)."""
    header, *rows = data.decode().splitlines(keepends=True)
    return (header + "".join(reversed(rows))).encode()


def references(data: bytes) -> list[str]:
    """The Reference column of an export's rows (whichever export wrote them)."""
    rows = read_csv(data)
    index = rows[0].index("Reference")
    return [row[index] for row in rows[1:]]


# Who sees what ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codenames", "superuser", "allowed"),
    [
        (("view_order",), False, False),
        (("view_order", "delete_order"), False, False),
        (("view_order", "export_order"), False, True),
        ((), True, True),
    ],
)
def test_get_actions_respects_the_export_permission(rf, make_staff, order_admin, codenames, superuser, allowed):
    request = rf.get(CHANGELIST)
    request.user = make_staff("someone", *codenames, is_superuser=superuser)

    assert ("export_as_csv" in order_admin.get_actions(request)) is allowed
    assert (("export_as_csv", ACTION_LABEL) in order_admin.get_action_choices(request)) is allowed
    assert order_admin.has_export_permission(request) is allowed


def test_a_viewer_without_the_permission_sees_neither_action_nor_button(client, make_staff, shop):
    client.force_login(make_staff("viewer", "view_order"))
    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert ACTION_LABEL not in response.text
    assert BUTTON_LABEL not in response.text


def test_an_exporter_sees_the_action_and_a_button_carrying_the_filters(exporter_client, shop):
    response = exporter_client.get(CHANGELIST, {"status": "paid", "q": "example", "p": "2", "o": "-1"})

    assert response.status_code == 200
    assert ACTION_LABEL in response.text
    assert BUTTON_LABEL in response.text
    # The filters, the search and the sort travel; the page does not (every row goes, in the changelist's order).
    assert f'href="{EXPORT_ALL}?status=paid&amp;q=example&amp;o=-1"' in response.text


@pytest.mark.parametrize("codenames", [("view_order",), ("view_order", "delete_order")])
def test_a_crafted_post_naming_the_action_gets_no_file(make_staff, shop, codenames):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_staff("viewer", *codenames))
    token = csrf_client.get(CHANGELIST).cookies["csrftoken"].value

    data = {**action(*pks(status="paid")), "csrfmiddlewaretoken": token}
    response = csrf_client.post(CHANGELIST, data)
    also_chosen = csrf_client.post(CHANGELIST, {**data, CHOSEN_FIELD: "1", "columns": ["email"]})

    for answer in (response, also_chosen):
        # The changelist again (200), or a redirect to it after a refused action (302); never a file.
        assert answer.status_code in (200, 302)
        assert not isinstance(answer, StreamingHttpResponse)
        assert answer["Content-Type"].startswith("text/html")
    if "delete_order" in codenames:
        # Django's own check: the action is not among this user's choices.
        assert "No action selected." in messages_of(response)


def test_a_post_without_the_csrf_token_is_forbidden(staff_exporter, shop):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_exporter)

    assert csrf_client.post(CHANGELIST, action(*pks(status="paid"))).status_code == 403
    assert csrf_client.post(EXPORT_ALL, {CHOSEN_FIELD: "1"}).status_code == 403


def test_export_all_without_the_permission_is_a_message_on_the_changelist(client, make_staff, shop):
    client.force_login(make_staff("viewer", "view_order"))
    response = client.get(EXPORT_ALL, {"status": "paid"})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?status=paid"
    assert messages_of(response) == ["You do not have permission to export these rows."]


def test_export_all_without_the_view_permission_is_forbidden(client, make_staff, shop):
    client.force_login(make_staff("outsider", "export_order"))
    assert client.get(EXPORT_ALL).status_code == 403


def test_export_all_needs_a_staff_login(client, shop):
    response = client.get(EXPORT_ALL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# The action ---------------------------------------------------------------------------------------------------------


def test_the_action_streams_the_selected_rows_at_once_without_optional_columns(exporter_client, plain_export, shop):
    selected = pks(status="shipped")[:3]
    response = exporter_client.post(CHANGELIST, action(*selected))

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="orders-plain-')
    rows = read_csv(body(response))
    assert rows[0] == ["Reference", "Status"]
    # In the changelist's order: without an ordering of its own, Django lists the newest first (-pk).
    newest_first = sorted(selected, reverse=True)
    assert [row[0] for row in rows[1:]] == [Order.objects.get(pk=pk).reference for pk in newest_first]


def test_the_action_shows_the_column_picker_then_streams_the_same_bytes_as_the_url(exporter_client, shop):
    selected = pks(status="paid", customer__country="SE")
    picker = exporter_client.post(CHANGELIST, action(*selected))

    assert picker.status_code == 200
    assert "exports/admin/columns.html" in [template.name for template in picker.templates]
    assert picker.context["count"] == 30
    assert picker.context["form_url"] == CHANGELIST
    assert picker.context["required_columns"] == [*HEADER[:6], HEADER[7]]
    assert {column["key"]: column["checked"] for column in picker.context["columns"]} == {
        "customer_email": True,
        "total": False,
    }
    assert 'name="csrfmiddlewaretoken"' in picker.text
    assert picker.text.count('name="_selected_action"') == 30

    # The form as the browser sends it: its hidden fields (no "index": Django's path for confirmed actions) and the
    # ticked optional boxes.
    download = exporter_client.post(CHANGELIST, picker_form(picker, columns=["customer_email"]))
    assert isinstance(download, StreamingHttpResponse)
    data = body(download)  # finished before the next export: one running export per user
    url_download = exporter_client.get("/exports/orders.csv", {"status": "paid", "customer__country": "SE"})
    assert in_changelist_order(data) == body(url_download)  # the same rows and cells, in the changelist's order
    assert download["Content-Disposition"] == url_download["Content-Disposition"]
    assert read_csv(data)[0] == HEADER
    assert len(read_csv(data)) == 31


def test_the_picker_chooses_the_columns(exporter_client, shop):
    selected = pks(status="pending")
    response = exporter_client.post(CHANGELIST, {**action(*selected), CHOSEN_FIELD: "1", "columns": ["total"]})

    rows = read_csv(body(response))
    assert rows[0] == [*[label for label in HEADER if label != "Email"], "Total"]
    assert len(rows) == 6


def test_an_unknown_column_is_a_message(exporter_client, shop):
    response = exporter_client.post(CHANGELIST, {**action(*pks()[:2]), CHOSEN_FIELD: "1", "columns": ["password"]})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert messages_of(response) == [
        "Unknown column 'password'. Columns: "
        + ", ".join(
            ["id", "reference", "placed_at", "status", "customer__name", "customer__country", "customer_email"]
            + ["total_cents", "total"]
        )
        + "."
    ]


def test_select_across_exports_everything_matching_filters_search_and_date(exporter_client, plain_export, shop):
    query = "?status=paid&q=example&placed_at__year=2025"
    with CaptureQueriesContext(connection) as queries:
        response = exporter_client.post(CHANGELIST + query, action(pks()[0], select_across=True))
        data = body(response)

    expected = Order.objects.filter(status="paid", placed_at__year=2025).order_by("-pk")
    assert references(data) == [order.reference for order in expected]
    assert len(expected) == 25
    # The rows are chosen by the changelist's query, not by a list of primary keys.
    export_query = next(
        query["sql"] for query in reversed(queries.captured_queries) if '"orders_order"."reference"' in query["sql"]
    )
    assert "IN (SELECT" in export_query
    assert not re.search(r"\"id\" IN \(\d", export_query)


def test_select_across_with_optional_columns_carries_the_query_string_not_the_rows(exporter_client, shop):
    picker = exporter_client.post(CHANGELIST + "?q=asa&p=2", action(pks()[0], select_across=True))

    assert picker.status_code == 200
    assert picker.context["count"] == 40
    assert picker.context["form_url"] == f"{EXPORT_ALL}?q=asa"
    assert picker.context["hidden_fields"] == []
    assert 'name="_selected_action"' not in picker.text

    download = body(exporter_client.post(picker.context["form_url"], {CHOSEN_FIELD: "1"}))
    assert references(download) == list(
        Order.objects.filter(customer_email="asa@example.se").order_by("-pk").values_list("reference", flat=True)
    )
    assert read_csv(download)[0] == [label for label in HEADER if label != "Email"]


def test_too_many_ticked_rows_for_the_picker_form_is_a_message(exporter_client, settings, shop):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 12
    response = exporter_client.post(CHANGELIST, action(*pks()[:8]))

    assert response.status_code == 302
    assert "Too many rows are ticked to choose columns (8)." in messages_of(response)[0]


# Export all matching -------------------------------------------------------------------------------------------------


def test_export_all_streams_every_page_at_once_without_optional_columns(exporter_client, plain_export, shop):
    response = exporter_client.get(EXPORT_ALL, {"p": "2"})

    assert isinstance(response, StreamingHttpResponse)
    assert len(references(body(response))) == Order.objects.count() == 70


def test_export_all_shows_the_picker_with_the_count_then_streams(exporter_client, shop):
    picker = exporter_client.get(EXPORT_ALL, {"status": "paid", "customer__country": "JP"})

    assert picker.status_code == 200
    assert picker.context["count"] == 25
    assert "25 orders will be exported." in picker.text
    assert picker.context["form_url"] == f"{EXPORT_ALL}?status=paid&customer__country=JP"

    download = exporter_client.post(picker.context["form_url"], {CHOSEN_FIELD: "1", "columns": ["customer_email"]})
    data = body(download)  # finished before the next export: one running export per user
    url_download = exporter_client.get("/exports/orders.csv", {"status": "paid", "customer__country": "JP"})
    assert in_changelist_order(data) == body(url_download)


@pytest.mark.parametrize("copy", [True, False])
def test_exports_follow_the_changelists_sort(exporter_client, plain_export, shop, copy):
    plain_export.copy = copy  # on PostgreSQL, the COPY path and the ORM path
    by_total = body(exporter_client.get(EXPORT_ALL, {"o": "-4", "status": "paid"}))  # "total", descending
    expected = Order.objects.filter(status="paid").order_by("-total_cents", "-pk")
    assert references(by_total) == [order.reference for order in expected]
    changelist = exporter_client.get(CHANGELIST, {"o": "-4", "status": "paid"})
    assert changelist.context["export_all_url"] == f"{EXPORT_ALL}?o=-4&status=paid"  # the button carries the sort
    ticked = pks(status="shipped")[:5]
    by_reference = body(exporter_client.post(CHANGELIST + "?o=1", action(*ticked)))  # "reference", ascending
    expected = Order.objects.filter(pk__in=ticked).order_by("reference", "-pk")
    assert references(by_reference) == [order.reference for order in expected]


def test_export_all_with_a_bad_filter_is_a_message_on_the_changelist(exporter_client, shop):
    response = exporter_client.get(EXPORT_ALL, {"placed_at__gte": "not a date"})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert messages_of(response) == ["The list's filters are not valid; nothing was exported."]


def test_rows_come_from_the_admins_get_queryset(exporter_client, plain_export, order_admin, monkeypatch, shop):
    queryset = order_admin.get_queryset

    def only_sweden(request):
        return queryset(request).filter(customer__country="SE")

    monkeypatch.setattr(order_admin, "get_queryset", only_sweden)

    everything = exporter_client.get(EXPORT_ALL)
    assert references(body(everything)) == list(
        Order.objects.filter(customer__country="SE").order_by("-pk").values_list("reference", flat=True)
    )
    # Ticked rows the user cannot see (a crafted POST) are not exported either.
    crafted = exporter_client.post(CHANGELIST, action(*pks(customer__country="JP")[:3]))
    assert read_csv(body(crafted)) == [["Reference", "Status"]]


def test_the_exports_own_queryset_limits_and_annotates_the_rows(
    exporter_client, temporary_export, monkeypatch, order_admin, shop
):
    from django.db.models import F

    export = temporary_export(
        Export(
            Order.objects.exclude(status="pending").annotate(country=F("customer__country")),
            name="orders-annotated",
            columns=["reference", "country"],
            formats=["csv"],
        )
    )
    monkeypatch.setattr(order_admin, "export_name", export.name)

    rows = read_csv(body(exporter_client.get(EXPORT_ALL, {"customer__country": "JP"})))
    assert rows[0] == ["Reference", "Country"]
    assert {row[1] for row in rows[1:]} == {"JP"}
    assert len(rows) == 26


@pytest.mark.parametrize(
    "query",
    [
        {"status__exact": "\x00"},
        {"customer__country": "S\x00E"},
        {"q": "\x00"},
        {"placed_at__year": "99999999999999999999"},
        {"id__exact": "abc"},
        {"no_such_field": "1"},
    ],
)
def test_bad_changelist_parameters_for_export_all_are_a_message_never_a_500(exporter_client, shop, query):
    exporter_client.raise_request_exception = False
    response = exporter_client.get(EXPORT_ALL, query)
    if response.status_code == 200:  # a value this database takes as it is matches nothing, or everything
        assert "exports/admin/columns.html" in [template.name for template in response.templates]
        return
    assert response.status_code == 302
    assert messages_of(response) == ["The list's filters are not valid; nothing was exported."]
