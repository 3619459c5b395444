"""XLSX: typed cells for a spreadsheet, and the format that hands them to the workbook writer (:mod:`exports.formats
.xlsx`, ``XLSXEncoder``).

A typed cell is one of ``None``, ``bool``, ``int``, ``float``, ``Decimal``, ``str``, ``datetime.datetime`` (naive),
``datetime.date`` or ``datetime.time``; the writer makes each the matching kind of cell.

* Datetimes are written in the export's time zone, without it: a spreadsheet has no time zones, so the naive local
  time is what a reader sees (a naive value, ``USE_TZ = False``, is written as it is).
* Choices show their labels (``choice_labels=True``), values outside the choices their value; a ``format`` hook's
  result is written by its type.
* UUIDs as text, JSON as its compact text with sorted keys (as CSV writes it), any other type as ``str()``.
* Text is never formula-escaped: a typed text cell is never run as a formula, so ``=cmd`` stays the text ``=cmd``.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from typing import Any, Final

from django.db import models

from exports.cells import ColumnConverter, json_text
from exports.columns import ResolvedColumn
from exports.formats.base import Encoder, Format
from exports.formats.xlsx import XLSXEncoder

#: The types the workbook writer takes as they are.
PLAIN_TYPES: Final = (str, bool, int, float, decimal.Decimal, datetime.date, datetime.time)
#: Fields whose values arrive as plain types.
_PLAIN_FIELDS: Final = (
    models.BooleanField,
    models.IntegerField,
    models.AutoField,
    models.FloatField,
    models.DecimalField,
    models.DateField,
    models.TimeField,
    models.CharField,
    models.TextField,
)


def local_datetime(tz: datetime.tzinfo | None) -> Callable[[datetime.datetime], datetime.datetime]:
    """An aware datetime as the naive time it shows in ``tz`` (UTC's when ``tz`` is ``None``)."""

    def render(value: datetime.datetime) -> datetime.datetime:
        if value.tzinfo is None:
            return value
        return (value.astimezone(tz) if tz is not None else value.astimezone(datetime.UTC)).replace(tzinfo=None)

    return render


def any_typed(tz: datetime.tzinfo | None) -> Callable[[Any], Any]:
    """The typed cell of a value whose type is only known at run time (format hooks, annotations, attributes)."""
    naive = local_datetime(tz)

    def render(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return naive(value)
        if isinstance(value, PLAIN_TYPES):
            return value
        if isinstance(value, dict | list):
            return json_text(value)
        return str(value)

    return render


def typed_converter(column: ResolvedColumn, *, tz: datetime.tzinfo | None) -> ColumnConverter | None:
    """What turns a column of fetched values into typed cells; ``None`` when they are written as they come."""
    field = column.field
    render_any = any_typed(tz)
    if column.column.format is not None:
        hook = column.column.format
        return lambda values: [render_any(hook(v)) for v in values]
    if field is None:
        return lambda values: list(map(render_any, values))
    if column.column.choice_labels and field.choices:
        labels = {value: str(label) for value, label in field.flatchoices}
        return lambda values: [labels[v] if v in labels else render_any(v) for v in values]
    return field_typed_converter(field, tz=tz)


def field_typed_converter(field: models.Field[Any, Any], *, tz: datetime.tzinfo | None) -> ColumnConverter | None:
    target = getattr(field, "target_field", None) if field.is_relation else None
    if target is not None:
        return field_typed_converter(target, tz=tz)
    if isinstance(field, models.DateTimeField):
        naive = local_datetime(tz)
        return lambda values: [None if v is None else naive(v) for v in values]
    if isinstance(field, _PLAIN_FIELDS) and not hasattr(field, "from_db_value"):
        return None
    if isinstance(field, models.UUIDField):
        return lambda values: [None if v is None else str(v) for v in values]
    if isinstance(field, models.JSONField):
        return lambda values: [None if v is None else json_text(v) for v in values]
    render_any = any_typed(tz)
    return lambda values: list(map(render_any, values))


class XLSX(Format):
    """An Office Open XML workbook, streamed while it is built (:class:`~exports.formats.xlsx.XLSXEncoder`)."""

    name = "xlsx"
    extension = "xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    label = "Excel workbook (XLSX)"
    text = False
    escapes_formulas = False

    def column_converter(
        self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None
    ) -> ColumnConverter | None:
        return typed_converter(column, tz=tz)

    def encoder(self, *, buffer_size: int) -> Encoder:
        return XLSXEncoder(buffer_size=buffer_size)
