"""XLSX: the typed cells every column gives the workbook writer, and the format on every surface.

The typed cells are tested here whatever is installed. The workbook itself (``exports/formats/xlsx.py``, read back
with openpyxl) is tested once that writer is installed; until then the format is not offered, which is tested too.
"""

from __future__ import annotations

import datetime
import decimal
import io
import uuid
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import Column, Export
from exports.formats.typed import XLSX
from exports.runs import prepare
from orders.models import Order
from tests.conftest import body
from tests.testapp.models import Sample

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def typed(export: Export, **options) -> list[tuple[Any, ...]]:
    """The typed cells of ``export``'s rows, as the writer would get them."""
    request = prepare(export, surface="command", format="xlsx", **options)
    fmt = XLSX()
    converters = {i: fmt.column_converter(c, escape=True, tz=STOCKHOLM) for i, c in enumerate(request.columns)}
    rows = list(request.queryset.values_list(*[column.path for column in request.columns]))
    columns = [list(values) for values in zip(*rows, strict=True)]
    for index, convert in converters.items():
        if convert is not None:
            columns[index] = convert(columns[index])
    return list(zip(*columns, strict=True))


def test_typed_cells_keep_their_types(db):
    moment = datetime.datetime(2026, 7, 1, 22, 30, 0, 500, tzinfo=datetime.UTC)
    Sample.objects.create(
        text="=cmd|' /C calc'!A0",
        kind="b",
        flag=True,
        count=2**40,
        amount=decimal.Decimal("-12.50"),
        ratio=0.25,
        day=datetime.date(2026, 2, 28),
        moment=moment,
        at=datetime.time(8, 15),
        uid=uuid.UUID(int=5),
        data={"b": [1, 2], "a": None},
    )
    columns = ["text", "kind", "flag", "count", "amount", "ratio", "day", "moment", "at", "uid", "data"]
    hooked = Column("moment", name="hooked", format=lambda value: value)
    (row,) = typed(Export(Sample, columns=[*columns, hooked]))
    assert row == (
        "=cmd|' /C calc'!A0",  # a typed text cell is never a formula: no escape
        "Blue",
        True,
        2**40,
        decimal.Decimal("-12.50"),
        0.25,
        datetime.date(2026, 2, 28),
        datetime.datetime(2026, 7, 2, 0, 30, 0, 500),  # Stockholm's local time, without a zone
        datetime.time(8, 15),
        "00000000-0000-0000-0000-000000000005",
        '{"a": null, "b": [1, 2]}',
        datetime.datetime(2026, 7, 2, 0, 30, 0, 500),
    )


def test_nulls_and_values_outside_the_choices(db):
    Sample.objects.create(kind="z")
    (row,) = typed(Export(Sample, columns=["text", "kind", "flag", "moment", "uid", "data"]))
    assert row == (None, "z", None, None, None, None)


# The workbook ---------------------------------------------------------------------------------------------------------


def test_the_url_streams_a_workbook_openpyxl_reads_back_typed(client, exporter, make_orders, settings):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the workbook back")
    settings.TIME_ZONE = "Europe/Stockholm"
    make_orders(3, status="paid", total_cents=-500, placed_at=datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC))
    client.force_login(exporter)
    response = client.get("/exports/orders.xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="orders-{timezone.localdate():%Y%m%d}.xlsx"'
    assert response["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("ID", "Reference", "Placed at", "Status")
    assert len(rows) == 3
    assert isinstance(rows[0][0], int) and rows[0][3] == "Paid"
    assert rows[0][2] == datetime.datetime(2026, 1, 1, 13, 0)  # local time
    assert rows[0][-1] == -500


def test_the_command_writes_a_workbook_and_refuses_gz_and_a_terminal(tmp_path, make_orders):
    from django.core.management import CommandError, call_command

    make_orders(2)
    call_command("export", "orders", "-o", str(tmp_path / "o.xlsx"), stdout=io.StringIO())
    assert (tmp_path / "o.xlsx").read_bytes()[:2] == b"PK"
    with pytest.raises(CommandError, match="compressed already"):
        call_command("export", "orders", "-o", str(tmp_path / "o.xlsx.gz"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Not writing xlsx to a terminal"):
        call_command("export", "orders", "--format", "xlsx", stdout=io.StringIO())


def test_formulas_stay_text_in_the_workbook(db):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the workbook back")
    Sample.objects.create(text="=1+2", note="@SUM(A1)")
    data = b"".join(
        prepare(Export(Sample, columns=["text", "note"]), surface="command", format="xlsx").start().stream()
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [cell.value for cell in sheet[2]] == ["=1+2", "@SUM(A1)"]
    assert [cell.data_type for cell in sheet[2]] != ["f", "f"]


def test_an_order_export_names_its_workbook():
    assert Export(Order, name="o").get_filename(extension="xlsx").endswith(".xlsx")


def _xml_text() -> st.SearchStrategy[str]:
    # XML 1.0's characters (what the writer does with the others is its own test), and within Excel's cell limit.
    return st.text(st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("=+-@'\t\n"), max_size=40)


def test_values_round_trip_through_openpyxl(db):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the workbook back")
    rows = st.fixed_dictionaries(
        {
            "text": _xml_text(),
            "flag": st.none() | st.booleans(),
            "count": st.none() | st.integers(-(2**53), 2**53),  # an Excel number is a double
            "amount": st.none() | st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
            "day": st.none() | st.dates(min_value=datetime.date(1900, 3, 1)),  # Excel's dates start in 1900
            "moment": st.none()
            | st.datetimes(min_value=datetime.datetime(1900, 3, 2), max_value=datetime.datetime(2200, 1, 1)).map(
                lambda value: value.replace(microsecond=0, tzinfo=datetime.UTC)
            ),
        }
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(values=st.lists(rows, min_size=1, max_size=4))
    def check(values):
        Sample.objects.all().delete()
        Sample.objects.bulk_create([Sample(**row) for row in values])
        columns = list(values[0])
        export = Export(Sample, columns=columns, ordering=["pk"], name="xlsx-roundtrip")
        with timezone.override(STOCKHOLM):
            data = b"".join(prepare(export, surface="command", format="xlsx").start().stream())
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        _, *read = list(sheet.iter_rows(values_only=True))
        assert len(read) == len(values)
        for row, cells in zip(values, read, strict=True):
            got = dict(zip(columns, cells, strict=True))
            assert (got["text"] or "") == row["text"]
            assert got["flag"] == row["flag"] and got["count"] == row["count"]
            assert (got["amount"] is None) == (row["amount"] is None)
            if row["amount"] is not None:
                assert decimal.Decimal(str(got["amount"])).quantize(decimal.Decimal("0.01")) == row["amount"]
            assert (got["day"].date() if isinstance(got["day"], datetime.datetime) else got["day"]) == row["day"]
            local = row["moment"] and row["moment"].astimezone(STOCKHOLM).replace(tzinfo=None)
            assert got["moment"] == local

    check()
