"""The XLSX encoder on its own: the file is a sound ZIP, openpyxl reads back every value with its type, LibreOffice
converts it, and it streams (first bytes with the first batch, flat memory)."""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import shutil
import struct
import subprocess
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from exports.formats.xlsx import XLSXEncoder
from exports.formats.xlsx_cells import MAX_CELL_CHARS, TRUNCATED
from exports.formats.xlsx_zip import ZipWriter

HEADER = ["id", "reference", "placed", "day", "at", "paid", "note", "total", "ratio", "other"]
ROW = [
    7,
    "ORD-7 & <co>",
    datetime.datetime(2026, 11, 24, 17, 28, 22, 123000),
    datetime.date(2026, 11, 24),
    datetime.time(13, 30, 5),
    True,
    None,
    Decimal("1234.50"),
    0.25,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
]


def encode(header: Sequence[str], *batches: Sequence[Sequence[Any]], **options: Any) -> bytes:
    return b"".join(
        XLSXEncoder(buffer_size=options.pop("buffer_size", 65536), **options).encode_batches(header, batches)
    )


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def first_sheet(data: bytes) -> Worksheet:
    sheet = load(data).worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def values(data: bytes, sheet: int = 0) -> list[tuple[Any, ...]]:
    return list(load(data).worksheets[sheet].iter_rows(values_only=True))


def excel_text(shown_by_openpyxl: str) -> str:
    """What Excel shows for a text cell openpyxl reads raw: Excel decodes ``_xHHHH_`` (openpyxl, for inline strings,
    does not)."""
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match[1], 16)), shown_by_openpyxl)


# The file ---------------------------------------------------------------------------------------------------------


def test_the_file_is_a_sound_zip_with_the_parts_of_a_workbook():
    archive = zipfile.ZipFile(io.BytesIO(encode(HEADER, [ROW])))
    assert archive.testzip() is None
    assert set(archive.namelist()) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    }
    assert b"sharedStrings" not in archive.read("[Content_Types].xml")
    assert b"<dimension" not in archive.read("xl/worksheets/sheet1.xml")


def test_openpyxl_reads_back_every_value_with_its_type():
    sheet = first_sheet(encode(HEADER, [ROW]))
    assert [cell.value for cell in sheet[1]] == HEADER
    cells = sheet[2]
    assert [cell.value for cell in cells] == [
        7,
        "ORD-7 & <co>",
        datetime.datetime(2026, 11, 24, 17, 28, 22, 123000),
        datetime.datetime(2026, 11, 24),  # openpyxl reads every date cell as a datetime; its format says "date"
        datetime.time(13, 30, 5),
        True,
        None,
        1234.5,
        0.25,
        "12345678-1234-5678-1234-567812345678",
    ]
    assert [cell.data_type for cell in cells] == ["n", "s", "d", "d", "d", "b", "n", "n", "n", "s"]
    assert [cells[i].number_format for i in (2, 3, 4)] == ["yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd", "hh:mm:ss"]


def test_a_decimal_is_written_as_its_exact_text():
    sheet = zipfile.ZipFile(io.BytesIO(encode(["total"], [[Decimal("0.10")], [Decimal("12345678901234567890.123")]])))
    xml = sheet.read("xl/worksheets/sheet1.xml")
    assert b"<v>0.10</v>" in xml
    assert b"<v>12345678901234567890.123</v>" in xml


def test_a_formula_like_text_reads_back_as_text():
    formula = "=cmd|' /C calc'!A0"
    cell = first_sheet(encode(["note"], [[formula], ["=1+1"], ["@SUM(A1)"]]))["A2"]
    assert (cell.value, cell.data_type) == (formula, "s")
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(encode(["note"], [[formula]]))).read("xl/worksheets/sheet1.xml")


def test_numbers_no_cell_can_hold_and_days_before_march_1900_are_text():
    rows = [[float("nan"), Decimal("Infinity"), datetime.date(1900, 2, 28), datetime.datetime(1066, 10, 14, 9)]]
    assert values(encode(["a", "b", "c", "d"], rows))[1] == ("nan", "Infinity", "1900-02-28", "1066-10-14T09:00:00")


def test_the_first_day_read_the_same_everywhere_is_a_date():
    read = values(encode(["day", "at"], [[datetime.date(1900, 3, 1), datetime.datetime(1900, 3, 1, 0, 0, 1)]]))[1]
    assert read == (datetime.datetime(1900, 3, 1), datetime.datetime(1900, 3, 1, 0, 0, 1))


def test_an_aware_datetime_is_written_in_its_own_wall_clock_time():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert values(encode(["at"], [[datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)]]))[1] == (
        datetime.datetime(2026, 1, 2, 3, 4, 5),
    )


def test_header_is_bold_and_frozen_and_columns_are_sized():
    sheet = first_sheet(encode(["id", "a rather long header", "text"], [[1, "x", "y" * 30]]))
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
    assert widths[0] < widths[2] and widths[0] < widths[1]
    assert first_sheet(encode(["text"], [["y" * 5000]])).column_dimensions["A"].width == 60


# Text a sheet cannot hold as it is --------------------------------------------------------------------------------


def test_characters_xml_forbids_become_the_replacement_character():
    text = "a\x00b\x01c\x1fd\ufffee\uffff\ud800f\tg\nh\ri"
    assert values(encode(["note"], [[text]]))[1] == ("a\ufffdb\ufffdc\ufffdd\ufffde\ufffd\ufffdf\tg\nh\ri",)


def test_a_literal_excel_escape_reads_as_written_in_excel():
    text = "_x0041_ and _x00e9_ stay as written"
    raw = values(encode(["note"], [[text]]))[1][0]
    assert raw == "_x005F_x0041_ and _x005F_x00e9_ stay as written"
    assert excel_text(raw) == text


@pytest.mark.parametrize("filler", ["y", "😀"])
def test_text_past_excels_cell_limit_is_cut_with_a_marker(filler):
    text = filler * 40_000
    read = values(encode(["note"], [[text], ["short"]]))[1:]
    cut = read[0][0]
    assert cut.endswith(TRUNCATED)
    assert len(cut.encode("utf-16-le")) // 2 <= MAX_CELL_CHARS
    assert len(cut.encode("utf-16-le")) // 2 >= MAX_CELL_CHARS - 1  # at most half a surrogate pair short
    assert cut.startswith(filler * 100)
    assert read[1] == ("short",)


# Sheets -----------------------------------------------------------------------------------------------------------


def test_rows_past_a_sheets_limit_go_on_to_a_new_sheet_with_the_header_again():
    rows = [[n, f"row {n}"] for n in range(1, 8)]
    workbook = load(encode(["n", "text"], rows[:2], rows[2:], max_rows_per_sheet=3))
    assert workbook.sheetnames == ["Export", "Export (2)", "Export (3)", "Export (4)"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    assert all(sheet[0] == ("n", "text") for sheet in sheets)
    assert [row for sheet in sheets for row in sheet[1:]] == [tuple(row) for row in rows]
    assert all(sheet.freeze_panes == "A2" and sheet["A1"].font.b for sheet in workbook.worksheets)


def test_a_full_last_sheet_is_not_followed_by_an_empty_one():
    workbook = load(encode(["n"], [[1], [2], [3], [4]], sheet_name="Orders", max_rows_per_sheet=3))
    assert workbook.sheetnames == ["Orders", "Orders (2)"]


def test_no_rows_gives_the_header_alone():
    assert values(encode(["id", "name"])) == [("id", "name")]
    assert values(encode(["id", "name"], [])) == [("id", "name")]


@pytest.mark.parametrize(
    "options",
    [{"sheet_name": ""}, {"sheet_name": "a/b"}, {"sheet_name": "x" * 32}, {"sheet_name": "'q"}]
    + [{"max_rows_per_sheet": 1}, {"max_rows_per_sheet": 1_048_577}],
)
def test_options_a_workbook_cannot_hold_are_refused(options):
    with pytest.raises(ValueError):
        XLSXEncoder(buffer_size=1, **options)


# Round trips -----------------------------------------------------------------------------------------------------

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: Each kind of cell with what openpyxl reads back for it (text as Excel shows it).
KINDS: dict[str, tuple[st.SearchStrategy[Any], Any]] = {
    "text": (
        st.lists(
            st.characters(exclude_categories=[]) | st.sampled_from(["_x0041_", "_x005F_", "_x", "&", "<", "\r", "]]>"]),
            max_size=30,
        ).map("".join),
        lambda value: FORBIDDEN.sub("\ufffd", value),
    ),
    "int": (st.integers(-(2**63), 2**63), lambda value: value),
    "float": (st.floats(allow_nan=False, allow_infinity=False), lambda value: value),
    "decimal": (
        st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False),
        float,
    ),
    "bool": (st.booleans(), lambda value: value),
    # Excel (and openpyxl) keep date-times to the millisecond.
    "datetime": (
        st.datetimes(min_value=datetime.datetime(1900, 3, 1)).map(
            lambda value: value.replace(microsecond=value.microsecond // 1000 * 1000)
        ),
        lambda value: value,
    ),
    "date": (
        st.dates(min_value=datetime.date(1900, 3, 1)),
        lambda value: datetime.datetime.combine(value, datetime.time()),
    ),
    "time": (
        st.times().map(lambda value: value.replace(microsecond=value.microsecond // 1000 * 1000)),
        lambda value: value,
    ),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    """Columns of one kind each (the encoder's column paths), sometimes with empty cells or any kind mixed in (its
    cell-by-cell path)."""
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
    mixed = draw(st.sampled_from(["pure", "none", "any"]))
    any_kind = st.one_of([strategy for strategy, _ in KINDS.values()])
    cells = [
        KINDS[kind][0] | (st.none() if mixed == "none" else any_kind if mixed == "any" else st.nothing())
        for kind in kinds
    ]
    rows = draw(st.lists(st.tuples(*cells).map(list), min_size=1, max_size=12))
    return [f"{kind} {n}" for n, kind in enumerate(kinds)], rows


TYPES = {
    bool: "bool",
    int: "int",
    float: "float",
    Decimal: "decimal",
    datetime.datetime: "datetime",
    datetime.date: "date",
    datetime.time: "time",
    str: "text",
}


def expected(value: Any) -> Any:
    return None if value is None else KINDS[TYPES[type(value)]][1](value)


def shown(value: Any) -> Any:
    return excel_text(value) if isinstance(value, str) else value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(1, 4))
def test_openpyxl_reads_back_what_was_written(table, batch_size):
    header, rows = table
    batches = [rows[start : start + batch_size] for start in range(0, len(rows), batch_size)]
    read = values(encode(header, *batches))
    assert read[0] == tuple(header)
    assert [[shown(value) for value in row] for row in read[1:]] == [[expected(value) for value in row] for row in rows]
    for row, original in zip(read[1:], rows, strict=True):
        assert [type(value) for value in row] == [type(expected(value)) for value in original]


# Streaming --------------------------------------------------------------------------------------------------------


def counted(batches: Sequence[Sequence[Sequence[Any]]], pulled: list[int]) -> Iterator[Sequence[Sequence[Any]]]:
    for batch in batches:
        pulled.append(len(batch))
        yield batch


def test_the_first_bytes_leave_with_the_first_batch():
    pulled: list[int] = []
    chunks = XLSXEncoder(buffer_size=1 << 20).encode_batches(HEADER, counted([[ROW]] * 50, pulled))
    first = next(chunks)
    assert pulled == [1]
    assert first.startswith(b"PK\x03\x04")
    assert b"xl/worksheets/sheet1.xml" in first


def test_chunks_are_about_the_buffer_size_and_join_into_the_file():
    batches = [[[n, f"text {n}", Decimal(n) / 7] for n in range(start, start + 500)] for start in range(0, 20_000, 500)]
    chunks = list(XLSXEncoder(buffer_size=16_384).encode_batches(["n", "text", "ratio"], batches))
    assert len(chunks) > 5
    assert all(len(chunk) >= 16_384 for chunk in chunks[1:-1])
    assert b"".join(chunks) == encode(["n", "text", "ratio"], *batches, buffer_size=1 << 30)


def test_the_same_rows_give_the_same_bytes():
    assert encode(HEADER, [ROW] * 3) == encode(HEADER, [ROW], [ROW, ROW])


def test_memory_does_not_grow_with_the_rows():
    """The encoder keeps no state per row: the peak of 100,000 rows is that of 10,000, give or take a batch."""

    def peak(rows: int) -> int:
        def batches() -> Iterator[list[list[Any]]]:
            for start in range(0, rows, 1000):
                yield [
                    [n, f"ORD-{n:08d}", datetime.datetime(2026, 1, 1, n % 24), Decimal("12.50")]
                    for n in range(start, start + 1000)
                ]

        tracemalloc.start()
        try:
            for _ in XLSXEncoder(buffer_size=65536).encode_batches(["id", "ref", "at", "total"], batches()):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(10_000), peak(100_000)
    assert large - small < 256 * 1024, (small, large)


def test_zip64_records_where_sizes_and_offsets_pass_the_32_bit_limit(monkeypatch):
    """The ZIP64 path, with the limit lowered so a small file takes it: readers still open the file."""
    monkeypatch.setattr(ZipWriter, "LIMIT_32", 1000)
    data = encode(HEADER, [ROW] * 200)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # ZIP64 end record and its locator
    sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    assert sheet.file_size > 1000
    descriptor = data[sheet.header_offset :].find(b"PK\x07\x08") + sheet.header_offset
    assert struct.unpack_from("<IIQQ", data, descriptor)[2:] == (sheet.compress_size, sheet.file_size)
    assert len(values(data)) == 201


def test_below_the_limit_no_zip64_record_is_written():
    data = encode(HEADER, [ROW] * 200)
    assert b"PK\x06\x06" not in data
    sheet = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    descriptor = data.find(b"PK\x07\x08", sheet.header_offset)
    assert struct.unpack_from("<IIII", data, descriptor)[2:] == (sheet.compress_size, sheet.file_size)
    assert data[sheet.header_offset + 4] == 45  # version 4.5 in the streamed part's local header, as Excel wants


# LibreOffice ------------------------------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture
def soffice() -> str:
    if SOFFICE is None:
        reason = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("EXPORTS_TESTS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"EXPORTS_TESTS_REQUIRE_LIBREOFFICE=1 but {reason}")
        pytest.skip(reason)
    return SOFFICE


def test_libreoffice_converts_the_workbook(soffice, tmp_path: Path):
    rows = [
        ROW,
        [-8, "Zoë ✓ 😀", datetime.datetime(1999, 12, 31, 23, 59, 59), datetime.date(1900, 3, 1), None, False]
        + ["=cmd|' /C calc'!A0", Decimal("-0.5"), 1e-7, "_x0041_ a\x01b"],
    ]
    (tmp_path / "export.xlsx").write_bytes(encode(HEADER, rows))
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--norestore"]
        + ["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(tmp_path / "out")]
        + [str(tmp_path / "export.xlsx")],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with open(tmp_path / "out" / "export.csv", encoding="utf-8", newline="") as converted:
        assert list(csv.reader(converted)) == [
            HEADER,
            ["7", "ORD-7 & <co>", "2026-11-24 17:28:22", "2026-11-24", "13:30:05", "TRUE", "", "1234.5", "0.25"]
            + ["12345678-1234-5678-1234-567812345678"],
            ["-8", "Zoë ✓ 😀", "1999-12-31 23:59:59", "1900-03-01", "", "FALSE", "=cmd|' /C calc'!A0", "-0.5"]
            + ["0.0000001", "_x0041_ a\ufffdb"],
        ]
