"""Bad input on every surface: each case is a 4xx (or a one-line command error) with its reason, never a 500.

The admin cases post to Django's changelist action (``/admin/orders/order/``) with the "export selected" action.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils.http import parse_header_parameters

from exports import Column, Export
from exports.models import ExportRun
from orders.models import Customer, Order
from tests.conftest import body, database_url, read_csv

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
URL = "/exports/orders.csv"


EXPORT_ACTION = "export_as_csv"

# The URL ---------------------------------------------------------------------------------------------------------

#: (query string, reason in the 400 answer)
BAD_QUERIES = [
    ("colour=red", "Unknown filter 'colour'. Allowed filters: status,"),
    ("%00=1", "Unknown filter '\\x00'."),
    ("status=lost", "Filter 'status': Select a valid choice. lost is not one of the available choices."),
    ("status=paid&status=shipped", "Filter 'status': given more than once; give it once"),
    ("status=", "Filter 'status': is empty; give a value"),
    ("status__in=,,,", "Filter 'status__in': give one or more values, separated by commas"),
    ("status__in=paid,lost", "Filter 'status__in': Select a valid choice. lost"),
    ("placed_after=tomorrow", "Filter 'placed_after': Enter a valid date/time."),
    ("placed_after=2026-02-30", "Filter 'placed_after': Enter a valid date/time."),
    ("placed_after=2026-01-01T25:00", "Filter 'placed_after': Enter a valid date/time."),
    ("placed_before=0001-01-01T00:00:00%2B14:00", "Filter 'placed_before': is out of range"),
    ("placed_after=9999-12-31T23:59:59-12:00", "Filter 'placed_after': is out of range"),
    ("total_cents__gte=12.5", "Filter 'total_cents__gte': Enter a whole number."),
    ("total_cents__gte=1e999", "Filter 'total_cents__gte': Enter a whole number."),
    ("total_cents__gte=NaN", "Filter 'total_cents__gte': Enter a whole number."),
    ("total_cents__gte=99999999999999999999999", "Ensure this value is less than or equal to 9223372036854775807."),
    ("total_cents__lte=-99999999999999999999", "Ensure this value is greater than or equal to -9223372036854775808."),
    ("total_cents__gte=1;DROP TABLE orders_order", "Filter 'total_cents__gte': Enter a whole number."),
    ("status=paid' OR '1'='1", "Filter 'status': Select a valid choice."),
    ("status=lost", "Valid values: pending, paid, shipped, refunded, cancelled."),
    ("status=paid%00", "Filter 'status': contains a NUL character"),
    ("reference=%00", "Filter 'reference': contains a NUL character"),
    ("reference=" + "x" * 5000, "Filter 'reference': Ensure this value has at most 32 characters (it has 5000)."),
    ("customer__country=SE%00", "Filter 'customer__country': contains a NUL character"),
    ("columns=secret", "Unknown column 'secret'. Columns: id,"),
    ("columns=%00", "Unknown column '\\x00'."),
    ("columns=customer_email,customer_email", "Column 'customer_email' is named more than once; name each once."),
    ("columns=", "Empty column name in '': give the keys of the columns to include, separated by commas."),
    ("columns=,,,", "Empty column name in ',,,'"),
    ("columns=customer_email,", "Empty column name in 'customer_email,'"),
    ("status=%FF%FE", "Filter 'status': Select a valid choice."),
    ("&".join(f"f{n}=1" for n in range(1001)), "Too many query parameters: at most 1000 are accepted."),
]


@pytest.mark.parametrize(("query", "reason"), BAD_QUERIES, ids=[query[:40] for query, _ in BAD_QUERIES])
def test_bad_queries_are_a_400_with_the_reason(client, exporter, query, reason):
    client.force_login(exporter)
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert reason in response.content.decode()
    assert not ExportRun.objects.exists()  # refused before the run


@pytest.mark.parametrize(
    "name", ["nope", "orders ", "ORDERS", "order's", 'or"ders', "orders\r\nX-Injected: 1", "ordrés", "%00", "x" * 3000]
)
def test_unknown_exports_are_a_404(client, exporter, name):
    client.force_login(exporter)
    response = client.get(f"/exports/{quote(name)}.csv")
    assert response.status_code == 404
    assert not response.has_header("X-Injected")


@pytest.mark.parametrize(
    "value", ["'; DROP TABLE orders_order; --", "%' OR 1=1 --", "\\", "' UNION SELECT password FROM auth_user --"]
)
def test_sql_in_a_text_filter_is_just_text(client, exporter, make_orders, value):
    make_orders(2)
    client.force_login(exporter)
    response = client.get(URL, {"reference": value[:32]})
    assert response.status_code == 200
    assert read_csv(body(response))[1:] == []  # matches nothing, and the table is still there:
    assert Order.objects.count() == 2


def test_put_delete_patch_are_a_405(client, exporter):
    client.force_login(exporter)
    assert [client.generic(method, URL).status_code for method in ("PUT", "DELETE", "PATCH")] == [405] * 3


#: Export names, labels and file names that try to break the Content-Disposition header or the CSV header row.
AWKWARD = [
    'quo"te',
    "semi;colon",
    "cr\rlf\nnew",
    "Zoë Ångström",
    "日本語",
    "tab\there",
    "back\\slash",
    "..",
    "\u202eRTL",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_names_labels_and_filenames(client, exporter, make_orders, temporary_export, text):
    make_orders(1, reference="R-1")
    temporary_export(
        Export(
            Order,
            name=text,
            label=text,
            columns=[Column("reference", text)],
            filename=text + "-{name}.csv",
            permission="orders.export_order",
        )
    )
    client.force_login(exporter)
    response = client.get(f"/exports/{quote(text, safe='')}.csv")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "/" not in header.replace("%2F", "")
    disposition, params = parse_header_parameters(header)
    assert disposition == "attachment"
    filename = params["filename"]
    assert filename.endswith(".csv")
    assert not any(char in filename for char in '\r\n"/\\\t')
    assert read_csv(body(response)) == [[text], ["R-1"]]


# The admin (changelist action POST) -----------------------------------------------------------------------------------


def action_post(client: Client, data: dict[str, object]):
    return client.post("/admin/orders/order/", {"action": EXPORT_ACTION, "index": "0", **data})


@pytest.mark.parametrize("selected", [["abc"], ["1", "x"], ["1.5"], ["99999999999999999999999"], ["1\x00"], [""]])
def test_non_integer_selected_ids_are_not_a_server_error(admin_client, make_orders, selected):
    make_orders(2)
    response = action_post(admin_client, {"_selected_action": selected})
    assert response.status_code == 302
    assert not ExportRun.objects.exists()
    assert "The selection is not valid" in " ".join(str(m) for m in response.wsgi_request._messages)


def test_no_selected_ids_is_a_message_not_an_export(admin_client, make_orders):
    make_orders(2)
    response = action_post(admin_client, {})
    assert response.status_code in (200, 302)
    assert not ExportRun.objects.exists()
    assert "Items must be selected" in " ".join(str(m) for m in response.wsgi_request._messages)


def test_more_fields_than_django_accepts_is_a_400(admin_client, make_orders, settings):
    make_orders(1)
    response = action_post(admin_client, {"_selected_action": [str(n) for n in range(1, 1002)]})
    assert response.status_code == 400
    assert not ExportRun.objects.exists()


def test_a_post_without_the_csrf_token_is_a_403(admin_user, make_orders):
    orders = make_orders(1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = action_post(client, {"_selected_action": [str(orders[0].pk)]})
    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert not ExportRun.objects.exists()


# The command ----------------------------------------------------------------------------------------------------------


def manage(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "project.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )


#: (arguments, the start of the one line on stderr)
BAD_ARGUMENTS = [
    (["export"], "CommandError: Name an export (see --list)."),
    (["export", "nope"], "CommandError: No export is called 'nope'."),
    (["export", "orders", "--filter", "colour=red"], "CommandError: Unknown filter 'colour'. Allowed filters: status,"),
    (["export", "orders", "--filter", "status"], "CommandError: --filter takes KEY=VALUE, not 'status'."),
    (
        ["export", "orders", "--filter", "status=lost"],
        "CommandError: Filter 'status': Select a valid choice. lost is not one of the available choices.",
    ),
    (["export", "orders", "--filter", "placed_after=soon"], "CommandError: Filter 'placed_after': Enter a valid"),
    (["export", "orders", "--filter", "total_cents__gte=1e999"], "CommandError: Filter 'total_cents__gte': Enter a"),
    (
        ["export", "orders", "--filter", "reference=a\x01b", "--filter", "status=paid'--"],
        "CommandError: Filter 'status': Select a valid choice. paid'-- is not one of the available choices.",
    ),
    (["export", "orders", "--columns", "secret"], "CommandError: Unknown column 'secret'. Columns: id,"),
    (["export", "orders", "--columns", ",,"], "CommandError: Empty column name in ',,'"),
    (
        ["export", "orders", "--columns", "customer_email,customer_email"],
        "CommandError: Column 'customer_email' is named more than once; name each once.",
    ),
    (["export", "orders", "--chunk-size", "0"], "CommandError: The chunk size must be a positive number, not 0."),
    (["export", "orders", "--chunk-size", "abc"], "manage.py export: error: argument --chunk-size: invalid int"),
    (["export", "orders", "--user", "ghost"], "CommandError: No user is called 'ghost'."),
    (["export", "orders", "--no-such-option"], "manage.py export: error: unrecognized arguments: --no-such-option"),
    (["export", "orders", "-o", "/proc/no/such/dir/orders.csv"], "CommandError: Cannot write /proc/no/such/dir/"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "line"), BAD_ARGUMENTS, ids=[" ".join(args[1:]) or "no-name" for args, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_exit_non_zero_with_one_line_that_says_why(args, line):
    result = manage(*args)
    assert result.returncode != 0
    assert result.stdout == b""
    (only,) = result.stderr.decode().strip().splitlines()
    assert only.startswith(line)


@pytest.mark.django_db(transaction=True)
def test_an_unwritable_path_leaves_nothing_behind(tmp_path):
    Order.objects.create(
        reference="R-1", customer=Customer.objects.create(name="A", country="SE"), total_cents=1, status="paid",
        placed_at="2026-01-01T00:00:00Z", customer_email="a@example.com",
    )  # fmt: skip
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for target in [blocker / "orders.csv", tmp_path / "missing" / "orders.csv", tmp_path]:
        result = manage("export", "orders", "-o", str(target))
        assert result.returncode == 1
        assert result.stderr.decode().startswith("CommandError: Cannot write")
        assert sorted(os.listdir(tmp_path)) == ["a-file"]
        assert blocker.read_text() == "not a folder"
    # Each attempt is on record as failed (the run could not write), none left running or called aborted.
    assert sorted(ExportRun.objects.values_list("outcome", "error")) == [
        ("failed", "FileNotFoundError"),
        ("failed", "IsADirectoryError"),
        ("failed", "NotADirectoryError"),
    ]
