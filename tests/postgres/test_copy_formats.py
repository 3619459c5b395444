"""COPY per format: every CSV dialect, TSV and JSON Lines give the ORM path's bytes (formatted in SQL and in Python)."""

from __future__ import annotations

import csv
import io
import json
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone

from exports import Column, Export
from exports.formats.tsv import unescape
from exports.runs import prepare
from exports.sources.copy import CopyPlan
from exports.sources.rows import CRLFRows
from tests.postgres.test_copy import AWKWARD_TEXT, COPYABLE, awkward_samples, both_paths  # noqa: F401 - a fixture
from tests.testapp.models import Sample

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL"),
]

ROWS = len(AWKWARD_TEXT)
WITH_VALUES: list[str | Column] = [*COPYABLE, Column("kind", name="kind_value", choice_labels=False)]
KINDS = {"r": "Red", "b": "Blue"}


@pytest.mark.parametrize(("dialect", "delimiter"), [("unix", ","), ("excel", ","), ("excel-semicolon", ";")])
@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.usefixtures("awkward_samples")
def test_every_csv_dialect_through_copy_is_the_orm_bytes(dialect, delimiter, zone):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        copied, orm = both_paths(Export(Sample, columns=COPYABLE), dialect=dialect)
    assert copied == orm
    text = copied.decode()
    if dialect != "unix":
        assert text.startswith("\ufeff")
        text = text[1:]
        # Every row ends in CRLF; line feeds inside quoted cells stay as they are (as Python's csv writes them).
        assert text.count("\r\n") >= ROWS + 1
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert len(rows) == ROWS + 1
    assert [row[1] for row in rows[1:]][2:6] == ["plain", "Zoë Ångström 🎉", "comma, here", 'a "quoted" word']


@pytest.mark.usefixtures("awkward_samples")
def test_tsv_through_copy_is_the_orm_bytes():
    copied, orm = both_paths(Export(Sample, columns=WITH_VALUES), format="tsv")
    assert copied == orm
    lines = copied.decode().split("\n")
    assert lines[-1] == "" and len(lines) == ROWS + 2
    cells = [[unescape(cell) for cell in line.split("\t")] for line in lines[1:-1]]
    texts = [row[1] for row in cells]
    assert texts[:2] == [None, ""]  # NULL and empty text stay apart
    assert "back\\slash \\." in texts and "'=1+2" in texts and "crlf\r\nbreak" in texts


def test_tsv_escapes_what_copy_escapes(db):
    controls = "bell\x07 backspace\b formfeed\f vtab\v tab\t"
    Sample.objects.create(text=controls, note="")
    copied, orm = both_paths(Export(Sample, columns=["id", "text", "note"]), format="tsv")
    assert copied == orm
    assert b"backspace\\b formfeed\\f vtab\\v tab\\t" in copied
    assert unescape(copied.decode().split("\n")[1].split("\t")[1]) == controls


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Chatham"])
@pytest.mark.usefixtures("awkward_samples")
def test_json_lines_through_copy_is_the_orm_bytes(zone):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        copied, orm = both_paths(Export(Sample, columns=WITH_VALUES), format="jsonl")
    assert copied == orm
    objects = [json.loads(line) for line in copied.decode().splitlines()]
    assert len(objects) == ROWS
    assert list(objects[0]) == [column if isinstance(column, str) else column.key for column in WITH_VALUES]
    assert [o["text"] for o in objects[:3]] == [None, "", "plain"]  # no formula escaping, NULL apart from ""
    assert "=1+2" in {o["text"] for o in objects}
    assert {o["kind"] for o in objects} == {"Red", "Blue", "x", ""}
    assert {type(o["count"]) for o in objects} == {int, type(None)}
    assert {type(o["flag"]) for o in objects} == {bool, type(None)}
    assert {o["amount"] for o in objects} == {"-12.50", "0.00", "1234567890.10", None}


def test_json_lines_values_outside_the_choices_keep_their_type(db):
    # A value outside the choices is written as its value: a number stays a number, text stays text.
    export = Export(Sample, columns=["id", "count", "kind"])
    Sample.objects.create(count=3, kind="z")
    copied, orm = both_paths(export, format="jsonl")
    assert copied == orm
    assert json.loads(copied) == {"id": Sample.objects.get().pk, "count": 3, "kind": "z"}


@pytest.mark.usefixtures("awkward_samples")
def test_a_single_column_takes_copy_in_tsv_and_json_lines_but_not_csv():
    export = Export(Sample, columns=["text"])
    assert isinstance(prepare(export, surface="url", format="tsv").source(), CopyPlan)
    assert isinstance(prepare(export, surface="url", format="jsonl").source(), CopyPlan)
    assert isinstance(prepare(export, surface="url").source(), str)
    copied, orm = both_paths(export, format="tsv")
    assert copied == orm


@pytest.mark.usefixtures("awkward_samples")
def test_crlf_rows_wherever_a_chunk_ends():
    request = prepare(Export(Sample, columns=["id", "text", "note"]), surface="url", dialect="excel")
    assert isinstance(request.source(), CopyPlan)
    run = request.start()
    data = b"".join(run.stream())
    assert run.rows_sent == ROWS
    expected = data.split(b"\r\n", 1)[1]
    unix, _ = both_paths(Export(Sample, columns=["id", "text", "note"]))  # what COPY writes: rows end in LF
    body = unix.split(b"\n", 1)[1]
    for cut in range(0, len(body) + 1, 7):
        rows = CRLFRows()
        first, one = rows.take(body[:cut])
        second, two = rows.take(body[cut:])
        assert first + second == expected
        assert one + two == ROWS
