"""Property: whatever the values, every format and CSV dialect reads back to exactly them.

Through :func:`~exports.runs.prepare`, so on PostgreSQL the copyable columns take the COPY path (asserted) and all the
columns the ORM path with PostgreSQL formatting what it can; on SQLite every cell is formatted in Python.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import Export
from exports.formats.tsv import unescape
from exports.runs import prepare
from exports.sources.copy import CopyPlan
from tests.conftest import POSTGRES
from tests.test_roundtrip_property import COLUMNS, parse, rows
from tests.testapp.models import Sample

pytestmark = pytest.mark.django_db

#: The columns PostgreSQL writes itself: on PostgreSQL these take the COPY path.
COPYABLE = ["text", "note", "flag", "count", "amount", "day", "moment", "uid"]
DIALECTS = {"unix": (",", "\n"), "excel": (",", "\r\n"), "excel-semicolon": (";", "\r\n")}
JSON_TYPES: dict[str, Any] = {
    "amount": decimal.Decimal,
    "day": datetime.date.fromisoformat,
    "moment": datetime.datetime.fromisoformat,
    "at": datetime.time.fromisoformat,
    "uid": uuid.UUID,
}
examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def export_bytes(values: list[dict[str, Any]], columns: list[str], **options: Any) -> bytes:
    Sample.objects.all().delete()
    Sample.objects.bulk_create([Sample(**row) for row in values])
    request = prepare(Export(Sample, columns=columns, ordering=["pk"], name="roundtrip"), surface="command", **options)
    if POSTGRES and columns == COPYABLE:
        assert isinstance(request.source(), CopyPlan), request.source()
    return b"".join(request.start().stream())


def expected(values: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    return [{column: row[column] for column in columns} for row in values]


@pytest.mark.parametrize("columns", [COLUMNS, COPYABLE], ids=["all", "copyable"])
@pytest.mark.parametrize("dialect", list(DIALECTS))
@examples
@given(values=st.lists(rows, min_size=1, max_size=4))
def test_csv_dialects_round_trip(columns, dialect, values):
    data = export_bytes(values, columns, dialect=dialect)
    delimiter, ending = DIALECTS[dialect]
    text = data.decode()
    assert text.startswith("\ufeff") == (dialect != "unix")
    text = text.removeprefix("\ufeff")
    assert text.endswith(ending)
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert len(parsed) == len(values) + 1
    got = [{c: parse(c, cell) for c, cell in zip(columns, cells, strict=True)} for cells in parsed[1:]]
    assert got == expected(values, columns)


@pytest.mark.parametrize("columns", [COLUMNS, COPYABLE], ids=["all", "copyable"])
@examples
@given(values=st.lists(rows, min_size=1, max_size=4))
def test_tsv_round_trips(columns, values):
    text = export_bytes(values, columns, format="tsv").decode()
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(values) + 2  # one line a row: nothing breaks a line
    got = []
    for line in lines[1:-1]:
        cells = [unescape(cell) for cell in line.split("\t")]
        # NULL is \N; the text columns keep "" apart from it, the others are read back as CSV's cells are.
        got.append({c: None if cell is None else parse(c, cell) for c, cell in zip(columns, cells, strict=True)})
    assert got == expected(values, columns)


@pytest.mark.parametrize("columns", [COLUMNS, COPYABLE], ids=["all", "copyable"])
@examples
@given(values=st.lists(rows, min_size=1, max_size=4))
def test_json_lines_round_trip(columns, values):
    text = export_bytes(values, columns, format="jsonl").decode()
    objects = [json.loads(line) for line in text.split("\n")[:-1]]
    assert text.endswith("\n") and len(objects) == len(values)
    for obj in objects:
        assert list(obj) == columns
        for column, convert in JSON_TYPES.items():
            if obj.get(column) is not None:
                assert isinstance(obj[column], str)
                obj[column] = convert(obj[column])
    assert objects == expected(values, columns)
