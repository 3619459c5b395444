"""The CSV format: formula escaping, quoting, and chunking."""

from __future__ import annotations

from typing import Any

import pytest
from model_bakery import baker

from exports import Column, Export
from exports.cells import FORMULA_TRIGGERS, escape_formula, unescape_formula
from exports.formats.csv import CSVEncoder
from exports.runs import prepare
from tests.conftest import read_csv
from tests.testapp.models import Sample


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x", "'quoted"])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert escape_formula(text) == "'" + text
    assert unescape_formula(escape_formula(text)) == text


@pytest.mark.parametrize("text", ["", "plain", " =not first", "a-b", "Zoë 🎉"])
def test_other_text_is_left_alone(text):
    assert escape_formula(text) == text


@pytest.mark.django_db
def test_numbers_are_never_escaped_but_text_is(settings):
    baker.make(Sample, count=-500, text="-500")
    export = Export(Sample, columns=["count", "text"])
    assert read_csv(b"".join(prepare(export, surface="url").start().stream()))[1] == ["-500", "'-500"]
    settings.EXPORTS_FORMULA_ESCAPING = False
    assert read_csv(b"".join(prepare(export, surface="url").start().stream()))[1] == ["-500", "-500"]
    export_without = Export(Sample, columns=["text"], name="no-escape", formula_escaping=False)
    settings.EXPORTS_FORMULA_ESCAPING = True
    assert read_csv(b"".join(prepare(export_without, surface="url").start().stream()))[1] == ["-500"]


@pytest.mark.django_db
def test_awkward_text_round_trips_through_csv_reader():
    awkward = ["comma, here", 'a "quoted" word', "line\nbreak", "crlf\r\nbreak", "Zoë Ångström 🎉", "  spaces  ", ""]
    for text in awkward:
        baker.make(Sample, text=text)
    data = b"".join(prepare(Export(Sample, columns=["text"]), surface="url").start().stream())
    assert [row[0] for row in read_csv(data)[1:]] == awkward
    assert b'"a ""quoted"" word"' in data  # RFC 4180: quotes doubled inside a quoted cell
    assert data.endswith(b"\n") and not data.endswith(b"\r\n")


def test_chunks_are_large_whatever_the_row_count():
    encoder = CSVEncoder(buffer_size=64 * 1024)
    batches = ([(n, "x" * 20)] * 1000 for n in range(100))  # 100 batches of 1,000 small rows
    chunks = list(encoder.encode_batches(["n", "text"], batches))
    assert len(chunks) < 100_000 // 1000
    # The header and the first batch leave at once (the first rows without delay); then only large chunks.
    assert read_csv(chunks[0]) == [["n", "text"]] + [["0", "x" * 20]] * 1000
    assert all(len(chunk) >= 64 * 1024 for chunk in chunks[1:-1])
    assert len(read_csv(b"".join(chunks))) == 100_001


def test_a_lone_carriage_return_is_quoted_like_a_line_feed():
    encoder = CSVEncoder(buffer_size=1)
    rows: list[list[Any]] = [["a\rb", 1], ["plain", -2], ["crlf\r\nend", "'\r"], ["\r", None]]
    data = b"".join(encoder.encode_batches(["h\rx", "y"], [rows[:2], rows[2:]]))
    assert data == b'"h\rx",y\n"a\rb",1\nplain,-2\n"crlf\r\nend","\'\r"\n"\r",\n'
    assert read_csv(data) == [["h\rx", "y"], ["a\rb", "1"], ["plain", "-2"], ["crlf\r\nend", "'\r"], ["\r", ""]]


def test_every_formula_trigger_sorts_below_a():
    # The COPY path's SQL lets any text from "A" on through with one byte compare; that is only right while this holds.
    assert max(FORMULA_TRIGGERS) < "A"


@pytest.mark.django_db
def test_a_format_hooks_text_is_escaped_like_a_fields(settings):
    baker.make(Sample, count=7)
    columns = [Column("count", "Formula", format=lambda count: f"=A{count}", name="formula")]
    assert read_csv(b"".join(prepare(Export(Sample, columns=columns), surface="url").start().stream()))[1] == ["'=A7"]
    settings.EXPORTS_FORMULA_ESCAPING = False
    assert read_csv(b"".join(prepare(Export(Sample, columns=columns), surface="url").start().stream()))[1] == ["=A7"]
