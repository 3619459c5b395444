"""Every format on every surface: the URL's extension and ``?dialect=``, the command's suffix, ``--format`` and
``--dialect``, the admin's export page; an export's ``formats=`` and ``dialect=``; the audit record."""

from __future__ import annotations

import datetime
import gzip
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from exports import Export
from exports.admin import CHOSEN_FIELD
from exports.formats.registry import format_names
from exports.models import ExportRun
from orders.models import Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db

EXPORT_ALL = reverse("admin:orders_order_export")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "jsonl": "application/jsonl",
}


@pytest.fixture
def logged_in(client, exporter):
    client.force_login(exporter)
    return client


@pytest.fixture
def admin_exporter(client, exporter):
    exporter.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(exporter)
    return client


def today() -> str:
    return f"{timezone.localdate():%Y%m%d}"


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# The URL ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl"])
def test_each_extension_streams_its_format(logged_in, make_orders, ext):
    make_orders(3, status="paid")
    response = logged_in.get(f"/exports/orders.{ext}", {"status": "paid"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == MEDIA_TYPES[ext]
    assert response["Content-Disposition"] == f'attachment; filename="orders-{today()}.{ext}"'
    assert response["Cache-Control"] == "no-store"
    data = body(response).decode()
    if ext == "jsonl":
        rows = [json.loads(line) for line in data.splitlines()]
        assert len(rows) == 3 and {row["status"] for row in rows} == {"Paid"}
        assert isinstance(rows[0]["id"], int)
    else:
        lines = data.splitlines()
        assert len(lines) == 4 and lines[0].split("\t" if ext == "tsv" else ",")[:2] == ["ID", "Reference"]
    head = logged_in.head(f"/exports/orders.{ext}")
    assert head["Content-Type"] == MEDIA_TYPES[ext] and head.content == b""
    record = ExportRun.objects.filter(outcome="completed").get()
    assert (record.format, record.dialect) == (ext, "unix" if ext == "csv" else "")


def test_the_url_is_reversed_with_and_without_an_extension():
    assert reverse("exports:download", kwargs={"name": "orders"}) == "/exports/orders.csv"
    assert reverse("exports:download", kwargs={"name": "orders", "ext": "jsonl"}) == "/exports/orders.jsonl"
    assert reverse("exports:download", kwargs={"name": "my.orders", "ext": "tsv"}) == "/exports/my.orders.tsv"


@pytest.mark.parametrize(
    ("dialect", "start", "ending"),
    [("unix", b"ID,", b"\n"), ("excel", b"\xef\xbb\xbfID,", b"\r\n"), ("excel-semicolon", b"\xef\xbb\xbfID;", b"\r\n")],
)
def test_the_dialect_parameter(logged_in, make_orders, dialect, start, ending):
    make_orders(2, status="paid")
    data = body(logged_in.get("/exports/orders.csv", {"dialect": dialect, "status": "paid"}))
    assert data.startswith(start)
    assert data.count(ending) == 3 and data.endswith(ending)
    assert ExportRun.objects.get().dialect == dialect


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("/exports/orders.csv", {"dialect": "windows"}, "The csv format has no dialect 'windows'"),
        ("/exports/orders.tsv", {"dialect": "excel"}, "The tsv format has no dialect 'excel' (its dialects: none)."),
        ("/exports/orders.csv", {"dialect": ["excel", "unix"]}, "Give dialect= once, not 2 times."),
    ],
)
def test_a_bad_dialect_is_a_400_with_the_reason(logged_in, path, query, reason):
    response = logged_in.get(path, query)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not ExportRun.objects.exists()


@pytest.mark.parametrize(
    "path", ["/exports/orders.xls", "/exports/orders.json", "/exports/orders.CSV", "/exports/orders"]
)
def test_an_unknown_extension_is_not_found(logged_in, path):
    assert logged_in.get(path).status_code == 404


def test_an_export_limited_to_some_formats(logged_in, make_orders, temporary_export):
    make_orders(1)
    temporary_export(Export(Order, name="limited", columns=["reference"], formats=["jsonl"], dialect="excel"))
    assert logged_in.get("/exports/limited.csv").status_code == 404
    assert logged_in.get("/exports/limited.tsv").status_code == 404
    response = logged_in.get("/exports/limited.jsonl")
    assert response.status_code == 200 and json.loads(body(response))["reference"]


def test_an_exports_default_dialect_and_the_filename_follow_the_format(logged_in, make_orders, temporary_export):
    make_orders(1)
    temporary_export(Export(Order, name="excel", columns=["reference"], dialect="excel", filename="Orders {date}.csv"))
    date = timezone.localdate().isoformat()
    response = logged_in.get("/exports/excel.csv")
    assert body(response).startswith(b"\xef\xbb\xbfReference\r\n")
    assert response["Content-Disposition"] == f'attachment; filename="Orders {date}.csv"'
    assert body(logged_in.get("/exports/excel.csv", {"dialect": "unix"})).startswith(b"Reference\n")
    tsv = logged_in.get("/exports/excel.tsv")
    assert tsv["Content-Disposition"] == f'attachment; filename="Orders {date}.tsv"'
    assert body(tsv).startswith(b"Reference\n")  # the default dialect is CSV's alone


def test_a_filename_without_a_format_extension_gets_one():
    export = Export(Order, name="n", filename="report-{date:%Y}.txt")
    year = datetime.date.today().year
    assert export.get_filename(extension="jsonl") in {f"report-{year}.txt.jsonl", f"report-{year - 1}.txt.jsonl"}
    assert Export(Order, name="n", filename=lambda e: "x.TSV").get_filename(extension="csv") == "x.csv"


# The command --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "opener"), [("o.tsv", open), ("o.jsonl", open), ("o.jsonl.gz", gzip.open)])
def test_the_output_suffix_chooses_the_format(tmp_path, make_orders, logged_in, name, opener):
    make_orders(4)
    target = tmp_path / name
    assert command("orders", "-o", str(target)) == ""
    ext = name.split(".")[1]
    with opener(target, "rb") as file:
        assert file.read() == body(logged_in.get(f"/exports/orders.{ext}"))
    assert ExportRun.objects.filter(surface="command").get().format == ext


def test_format_and_dialect_options(make_orders, logged_in):
    make_orders(3)
    assert command("orders", "--format", "jsonl").encode() == body(logged_in.get("/exports/orders.jsonl"))
    excel = command("orders", "--dialect", "excel-semicolon")
    assert excel.startswith("\ufeffID;Reference;") and excel.endswith("\r\n")
    assert command("orders", "-o", "-", "--format", "tsv").count("\n") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.tsv", "--format", "csv"], "x.tsv names a tsv file, but --format is csv."),
        (["--format", "parquet"], "No format is called 'parquet'"),
        (["--format", "tsv", "--dialect", "excel"], "The tsv format has no dialect 'excel'"),
        (["--dialect", "dos"], "The csv format has no dialect 'dos'"),
    ],
)
def test_bad_format_options_are_one_line(tmp_path, make_orders, args, message):
    make_orders(1)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        command("orders", *[str(tmp_path / arg) if arg.startswith("x.") else arg for arg in args])
    assert list(tmp_path.iterdir()) == []
    assert not ExportRun.objects.exists()


def test_the_command_refuses_a_format_the_export_does_not_offer(tmp_path, temporary_export):
    temporary_export(Export(Order, name="csv-only", columns=["reference"], formats=["csv"]))
    with pytest.raises(CommandError, match=r"^This export is not offered as jsonl; its formats are csv\.$"):
        command("csv-only", "-o", str(tmp_path / "out.jsonl"))
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_suffix_is_csv_as_before(tmp_path, make_orders):
    make_orders(2)
    target = tmp_path / "orders.txt"
    command("orders", "-o", str(target))
    assert len(read_csv(target.read_bytes())) == 3


# The admin ----------------------------------------------------------------------------------------------------------


def test_the_export_page_restates_the_rows_and_offers_the_formats(admin_exporter, make_orders):
    make_orders(4, status="paid")
    make_orders(2, status="shipped")
    page = admin_exporter.get(EXPORT_ALL, {"status__exact": "paid", "q": "a"})
    assert page.status_code == 200
    assert [name for name, _ in page.context["formats"]] == format_names()
    assert [name for name, _ in page.context["dialects"]] == ["unix", "excel", "excel-semicolon"]
    assert page.context["count"] == 4
    assert page.context["criteria"] == [("status", "Paid"), ("Search", "a")]
    text = page.content.decode()
    assert text.count("Always included") == 1 and "always included" not in text
    assert 'id="exports-started"' in text and "exports/columns.js" in text


@pytest.mark.parametrize(("fmt", "dialect"), [("tsv", "excel"), ("jsonl", ""), ("csv", "excel-semicolon")])
def test_the_export_page_downloads_the_chosen_format(admin_exporter, make_orders, fmt, dialect):
    make_orders(5, status="paid")
    form = {CHOSEN_FIELD: "1", "columns": ["customer_email"], "exports_format": fmt, "exports_dialect": dialect}
    response = admin_exporter.post(EXPORT_ALL + "?status__exact=paid", form)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == MEDIA_TYPES[fmt]
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    data = body(response)
    query = {"status": "paid"} | ({"dialect": dialect} if fmt == "csv" else {})
    url = body(admin_exporter.get(f"/exports/orders.{fmt}", query))
    # The changelist lists the newest first; the URL the export's own order.
    lines, url_lines = data.splitlines(keepends=True), url.splitlines(keepends=True)
    header = 0 if fmt == "jsonl" else 1
    assert lines[:header] == url_lines[:header] and sorted(lines[header:]) == sorted(url_lines[header:])
    record = ExportRun.objects.filter(surface="admin").get()
    assert (record.format, record.dialect) == (fmt, dialect if fmt == "csv" else "")


def test_the_admin_offers_only_the_exports_formats(admin_exporter, make_orders, temporary_export, monkeypatch):
    from django.contrib import admin

    make_orders(2)
    export = temporary_export(Export(Order, name="two", columns=["reference"], formats=["jsonl", "tsv"]))
    monkeypatch.setattr(admin.site._registry[Order], "export_name", export.name)
    page = admin_exporter.get(EXPORT_ALL)
    assert [name for name, _ in page.context["formats"]] == ["jsonl", "tsv"]
    assert page.context["dialects"] == []
    refused = admin_exporter.post(EXPORT_ALL, {CHOSEN_FIELD: "1", "exports_format": "csv"})
    assert refused.status_code == 302
    assert not ExportRun.objects.exists()


def test_one_format_and_no_optional_columns_downloads_at_once(
    admin_exporter, make_orders, temporary_export, monkeypatch
):
    from django.contrib import admin

    make_orders(2)
    export = temporary_export(Export(Order, name="one", columns=["reference"], formats=["tsv"]))
    monkeypatch.setattr(admin.site._registry[Order], "export_name", export.name)
    response = admin_exporter.get(EXPORT_ALL)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == MEDIA_TYPES["tsv"]


# Settings -----------------------------------------------------------------------------------------------------------


def test_the_formats_setting_is_checked(settings, temporary_export):
    from exports.checks import check_formats

    settings.EXPORTS_FORMATS = {"ods": "exports.formats.tsv.TSV", "csv2": "exports.nowhere.CSV", "tsv": None}
    errors = {str(error.msg) for error in check_formats()}
    assert any("EXPORTS_FORMATS['ods']" in error and "must be named 'ods'" in error for error in errors)
    assert any("EXPORTS_FORMATS['csv2']" in error for error in errors)
    assert {error.id for error in check_formats()} == {"exports.E007"}
    settings.EXPORTS_FORMATS = ["csv"]
    assert [error.id for error in check_formats()] == ["exports.E007"]


def test_a_setting_removes_a_format_an_export_offers(settings, temporary_export, logged_in):
    from exports.checks import check_exports

    temporary_export(Export(Order, name="tsv-too", columns=["reference"], formats=["csv", "tsv"]))
    settings.EXPORTS_FORMATS = {"tsv": None}
    assert "tsv" not in format_names()
    assert [error.id for error in check_exports() if error.obj.name == "tsv-too"] == ["exports.E014"]
    assert logged_in.get("/exports/orders.tsv").status_code == 404


def test_a_project_format_is_served_by_every_surface(settings, logged_in, make_orders, tmp_path):
    settings.EXPORTS_FORMATS = {"psv": "tests.testapp.formats.PipeSeparated"}
    make_orders(2)
    response = logged_in.get("/exports/orders.psv")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert body(response).startswith(b"ID|Reference|")
    command("orders", "-o", str(tmp_path / "o.psv"))
    assert (tmp_path / "o.psv").read_bytes() == body(logged_in.get("/exports/orders.psv"))
