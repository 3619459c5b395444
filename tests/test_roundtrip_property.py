"""Property: whatever the values, the CSV parses back to exactly them once the formula escape is undone.

Runs through ``ExportJob.stream()``, so on PostgreSQL it covers whichever source the job picks there (the ORM rows
or COPY) and on SQLite the ORM rows.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import Export
from exports.cells import FORMULA_TRIGGERS, unescape_formula
from exports.runs import prepare
from tests.conftest import POSTGRES, read_csv
from tests.testapp.models import Sample

pytestmark = pytest.mark.django_db

COLUMNS = ["text", "note", "flag", "count", "amount", "ratio", "day", "moment", "at", "uid", "data"]
TEXT_COLUMNS = {"text", "note", "data"}

# PostgreSQL text cannot hold NUL; surrogates are not UTF-8 anywhere.
_excluded = "\x00" if POSTGRES else ""
characters = st.characters(exclude_categories=["Cs"], exclude_characters=_excluded)
awkward = st.sampled_from([*sorted(FORMULA_TRIGGERS - {_excluded, ""}), ",", '"', "\n", "\r\n", "\r", ";", " ", "'"])
text = st.lists(st.one_of(characters, awkward), max_size=40).map("".join)
prefixed_text = st.one_of(text, st.tuples(awkward, text).map("".join))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
utc_datetimes = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 1, 1), timezones=st.just(datetime.UTC)
)
rows = st.fixed_dictionaries(
    {
        "text": prefixed_text.map(lambda value: value[:500]),
        "note": prefixed_text,
        "flag": st.none() | st.booleans(),
        "count": st.none() | st.integers(-(2**63), 2**63 - 1),
        "amount": st.none()
        | st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
        "ratio": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "day": st.none() | st.dates(),
        "moment": st.none() | utc_datetimes,
        "at": st.none() | st.times(),
        "uid": st.none() | st.uuids(),
        "data": json_values,
    }
)


def parse(column: str, cell: str) -> Any:
    """A cell back to the value it was written from."""
    if column in TEXT_COLUMNS:
        cell = unescape_formula(cell)
        if column == "data":
            return None if cell == "" else json.loads(cell)  # SQL NULL (a JSON null is stored as NULL too)
        return cell
    if cell == "":
        return None
    return {
        "flag": lambda: {"true": True, "false": False}[cell],
        "count": lambda: int(cell),
        "amount": lambda: decimal.Decimal(cell),
        "ratio": lambda: float(cell),
        "day": lambda: datetime.date.fromisoformat(cell),
        "moment": lambda: datetime.datetime.fromisoformat(cell),
        "at": lambda: datetime.time.fromisoformat(cell),
        "uid": lambda: uuid.UUID(cell),
    }[column]()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(rows, min_size=1, max_size=5))
def test_every_value_round_trips(values):
    Sample.objects.all().delete()
    Sample.objects.bulk_create([Sample(**row) for row in values])
    export = Export(Sample, columns=COLUMNS, ordering=["pk"], name="roundtrip")
    parsed = read_csv(b"".join(prepare(export, surface="command").start().stream()))
    assert len(parsed) == len(values) + 1
    for row, cells in zip(values, parsed[1:], strict=True):
        assert {column: parse(column, cell) for column, cell in zip(COLUMNS, cells, strict=True)} == row


@given(value=prefixed_text)
def test_escaped_cells_never_start_a_formula(value):
    from exports.cells import escape_formula

    escaped = escape_formula(value)
    assert escaped[:1] not in FORMULA_TRIGGERS - {"'"}
    assert unescape_formula(escaped) == value
