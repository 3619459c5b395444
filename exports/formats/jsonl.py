"""JSON Lines (``application/jsonl``): one JSON object per row, keyed by the column keys, in UTF-8.

* Keys are the columns' keys (``customer_email``), in the export's column order; there is no header line.
* ``null`` for NULL (unlike CSV, NULL and empty text differ); ``true``/``false`` for booleans; integers and floats
  as JSON numbers (integers of any size, exactly; a float that is not finite as the string ``"NaN"``,
  ``"Infinity"`` or ``"-Infinity"``).
* Decimals as strings (``"12.50"``, the scale kept), so no reader rounds them through a float.
* Datetimes as ISO 8601 strings with their UTC offset in the export's time zone, dates and times as ISO 8601
  strings, UUIDs as strings, choices as their labels, JSON fields as nested JSON (compact, keys sorted).
* Text is written as it is: JSON Lines is not opened by spreadsheets, so formula escaping does not apply.
* Compact (no spaces), non-ASCII characters as they are, control characters escaped as JSON requires.

Each cell is the JSON text of its value, so a row is its cells put into the object's template. PostgreSQL writes the
same JSON text for the columns it can (:mod:`exports.postgres.cells`), so the COPY path applies.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from typing import Any, ClassVar, Final

from django.db import models

from exports.cells import datetime_column
from exports.columns import ResolvedColumn
from exports.formats.base import ColumnConverter, CopyOutput, Format, SQLCells, chunked

#: The JSON text of a string, as ``json.dumps(ensure_ascii=False)`` writes it (in C where available).
json_string: Final[Callable[[str], str]] = encode_basestring
_NUMBERS: Final = (models.IntegerField, models.AutoField)


def json_value(value: Any) -> str:
    """A nested JSON value (a JSON field's), compact with sorted keys."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _float(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    return '"NaN"' if math.isnan(value) else '"Infinity"' if value > 0 else '"-Infinity"'


def any_json(tz: datetime.tzinfo | None) -> Callable[[Any], str]:
    """The JSON text of a value whose type is only known at run time (format hooks, annotations, attributes)."""

    def render(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, decimal.Decimal):
            return f'"{value}"'
        if isinstance(value, datetime.datetime):
            if tz is not None and value.tzinfo is not None:
                value = value.astimezone(tz)
            return f'"{value.isoformat()}"'
        if isinstance(value, datetime.date | datetime.time):
            return f'"{value.isoformat()}"'
        if isinstance(value, uuid.UUID):
            return f'"{value}"'
        if isinstance(value, dict | list | tuple):
            return json_value(value)
        return json_string(value if type(value) is str else str(value))

    return render


def _each(render: Callable[[Any], str]) -> ColumnConverter:
    return lambda values: ["null" if v is None else render(v) for v in values]


def json_converter(column: ResolvedColumn, *, tz: datetime.tzinfo | None) -> ColumnConverter:
    """What turns a column of fetched values into the JSON text of each."""
    field = column.field
    render_any = any_json(tz)
    if column.column.format is not None:
        hook = column.column.format
        return lambda values: [render_any(hook(v)) for v in values]
    if field is None:
        return lambda values: list(map(render_any, values))
    if column.column.choice_labels and field.choices:
        labels = {value: json_string(str(label)) for value, label in field.flatchoices}
        return lambda values: [labels[v] if v in labels else render_any(v) for v in values]
    return field_json_converter(field, tz=tz)


def field_json_converter(field: models.Field[Any, Any], *, tz: datetime.tzinfo | None) -> ColumnConverter:
    target = getattr(field, "target_field", None) if field.is_relation else None
    if target is not None:
        return field_json_converter(target, tz=tz)
    if isinstance(field, models.BooleanField):
        return lambda values: ["null" if v is None else "true" if v else "false" for v in values]
    if isinstance(field, _NUMBERS):
        return _each(str)
    if isinstance(field, models.DecimalField):
        return _each(lambda v: f'"{v}"')
    if isinstance(field, models.FloatField):
        return _each(_float)
    if isinstance(field, models.DateTimeField):
        texts = datetime_column(tz)
        return lambda values: ["null" if t is None else f'"{t}"' for t in texts(values)]
    if isinstance(field, models.DateField | models.TimeField):
        return _each(lambda v: f'"{v.isoformat()}"')
    if isinstance(field, models.CharField | models.TextField):
        return _each(json_string)
    if isinstance(field, models.JSONField):
        return _each(json_value)
    return lambda values: list(map(any_json(tz), values))


def row_template(keys: Sequence[str]) -> str:
    """The ``%``-template of a row: ``{"id":%s,"total":%s}`` and a line feed."""
    members = ",".join(json_string(key).replace("%", "%%") + ":%s" for key in keys)
    return "{" + members + "}\n"


class JSONLinesEncoder:
    """Writes batches of rows of JSON cells as JSON Lines, yielding chunks of at least ``buffer_size`` bytes."""

    def __init__(self, *, buffer_size: int) -> None:
        self.buffer_size = buffer_size

    def encode_header(self, header: Sequence[str]) -> bytes:
        return b""

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        """``header`` holds the keys; every cell is already JSON text."""
        fill = row_template(header).__mod__

        def encode(rows: Sequence[Sequence[Any]]) -> bytes:
            return "".join(map(fill, rows)).encode()

        return chunked(b"", batches, encode, buffer_size=self.buffer_size)


class JSONLines(Format):
    name = "jsonl"
    extension = "jsonl"
    media_type = "application/jsonl"
    label = "JSON Lines"
    escapes_formulas = False
    sql_cells: ClassVar[SQLCells | None] = SQLCells.JSON

    def header(self, columns: Sequence[ResolvedColumn]) -> list[str]:
        return [column.key for column in columns]

    def column_converter(self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None) -> ColumnConverter:
        return json_converter(column, tz=tz)

    def copy_output(self) -> CopyOutput:
        # CSV with a delimiter and a quote that JSON text never holds (it escapes every control character), so COPY
        # writes each row's one JSON text as it is, where its text format would double every backslash.
        return CopyOutput(options="FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'", json_object=True)

    def encoder(self, *, buffer_size: int) -> JSONLinesEncoder:
        return JSONLinesEncoder(buffer_size=buffer_size)
