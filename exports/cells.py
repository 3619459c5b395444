"""How a value becomes the text of a cell: the rules every text format follows, on both sources.

* ``None`` is an empty cell; ``True``/``False`` are ``true``/``false``.
* Datetimes are ISO 8601 with their UTC offset, in the export's time zone (``2026-11-24T17:28:22.123456+01:00``; the
  fraction is left out when it is zero, as ``datetime.isoformat()`` does); dates and times are ISO 8601.
* Numbers are written as Python writes them (``Decimal`` keeps its scale); UUIDs in their hyphenated form; JSON as
  compact JSON with sorted keys.
* With formula escaping on, a *text* cell that starts with ``= + - @``, tab, CR, LF, NUL or ``'`` gets a leading
  ``'``, so no spreadsheet runs it and the escape can be undone exactly (drop the first character of a text cell that
  starts with ``'``). Numbers, dates and booleans are never touched: a negative total stays ``-500``.

PostgreSQL writes the same text in SQL (:mod:`exports.postgres.cells`); this module is the reference it follows.

A *converter* turns one value into its cell; a *column converter* turns a whole column of a batch at once, so the
per-cell work is a comprehension step instead of a function call (the ORM source converts a batch column by column).
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from django.conf import settings
from django.db import models
from django.utils import timezone

from exports.columns import ResolvedColumn

Converter = Callable[[Any], Any]
ColumnConverter = Callable[[Sequence[Any]], list[Any]]

#: What a text cell may start with for a spreadsheet to treat it as a formula, plus the escape character itself.
FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r\n\x00'")

_UTC_NAMES: Final = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})
TEXT_FIELDS: Final = (models.CharField, models.TextField)
_NUMBER_FIELDS: Final = (models.IntegerField, models.FloatField, models.DecimalField, models.AutoField)


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet could read it as a formula (or it starts with ``'``)."""
    return "'" + text if text[:1] in FORMULA_TRIGGERS else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula` on a text cell read back from an export."""
    return text[1:] if text[:1] == "'" else text


def export_time_zone() -> datetime.tzinfo | None:
    """The zone datetimes are written in: the current time zone, or ``None`` (naive) without ``USE_TZ``."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def is_utc(tz: datetime.tzinfo | None) -> bool:
    """Whether ``tz`` is UTC under any of its names (values from the database already are in it)."""
    return tz is datetime.UTC or getattr(tz, "key", None) in _UTC_NAMES


# One value --------------------------------------------------------------------------------------------------------


def text_cell(*, escape: bool) -> Converter:
    """``str()`` of the value, formula-escaped when ``escape`` is on."""

    def render(value: Any) -> str | None:
        if value is None:
            return None
        text = value if type(value) is str else str(value)
        return escape_formula(text) if escape else text

    return render


def bool_cell(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def datetime_cell(tz: datetime.tzinfo | None) -> Converter:
    """ISO 8601 with the offset, in ``tz``; naive datetimes (``USE_TZ = False``) are written as they are."""

    def render(value: datetime.datetime | None) -> str | None:
        if value is None:
            return None
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.isoformat()

    return render


def json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def any_cell(*, escape: bool, tz: datetime.tzinfo | None) -> Converter:
    """A value whose type is only known at run time (format hooks, annotations, attributes), written by its type."""
    render_datetime = datetime_cell(tz)
    render_text = text_cell(escape=escape)

    def render(value: Any) -> Any:
        if value is None or isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
            return value
        if isinstance(value, bool):
            return bool_cell(value)
        if isinstance(value, datetime.datetime):
            return render_datetime(value)
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, dict | list):
            return render_text(json_text(value))
        return render_text(value)

    return render


# A column of a batch ----------------------------------------------------------------------------------------------


def each(convert: Converter) -> ColumnConverter:
    """The column form of any one-value converter."""
    return lambda values: list(map(convert, values))


def datetime_column(tz: datetime.tzinfo | None) -> ColumnConverter:
    """:func:`datetime_cell` for a column; values already in ``tz`` skip ``astimezone``."""
    if tz is None:
        return lambda values: [None if v is None else v.isoformat() for v in values]
    same = datetime.UTC if is_utc(tz) else tz

    def render(values: Sequence[Any]) -> list[Any]:
        return [
            None
            if v is None
            else v.isoformat()
            if v.tzinfo is same or v.tzinfo is None
            else v.astimezone(tz).isoformat()
            for v in values
        ]

    return render


def bool_column(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else "true" if v else "false" for v in values]


def iso_column(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else v.isoformat() for v in values]


def labels_column(labels: dict[Any, Any], otherwise: Converter) -> ColumnConverter:
    """Choices: the (already written) label of a value, else the value as ``otherwise`` writes it."""
    return lambda values: [labels[v] if v in labels else otherwise(v) for v in values]


def converter_for(
    column: ResolvedColumn,
    *,
    render_any: Converter,
    label: Converter,
    for_field: Callable[[models.Field[Any, Any]], ColumnConverter | None],
) -> ColumnConverter | None:
    """The column converter of any format, from its parts: ``render_any`` writes a value of any type (a format hook's
    result, an annotation, an attribute), ``label`` a choice's label, and ``for_field`` the values of a field."""
    field = column.field
    if column.column.format is not None:
        hook = column.column.format
        return lambda values: [render_any(hook(value)) for value in values]
    if field is None:
        return each(render_any)
    if column.column.choice_labels and field.choices:
        # The labels are made per run, in the language then active.
        labels = {value: label(str(text)) for value, text in field.flatchoices}
        return labels_column(labels, render_any)
    return for_field(field)


def column_converter(column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None) -> ColumnConverter | None:
    """What turns a column of fetched values into text cells, chosen once per run; ``None`` when the values are
    written as they come."""
    return converter_for(
        column,
        render_any=any_cell(escape=escape, tz=tz),
        label=text_cell(escape=escape),
        for_field=lambda field: field_converter(field, escape=escape, tz=tz),
    )


def field_converter(
    field: models.Field[Any, Any], *, escape: bool, tz: datetime.tzinfo | None
) -> ColumnConverter | None:
    """The column converter for values of ``field``; a foreign key's are its target's."""
    target = getattr(field, "target_field", None) if field.is_relation else None
    if target is not None:
        return field_converter(target, escape=escape, tz=tz)
    if isinstance(field, models.DateTimeField):
        return datetime_column(tz)
    if isinstance(field, models.DateField | models.TimeField):
        return iso_column
    if isinstance(field, models.BooleanField):
        return bool_column
    if isinstance(field, _NUMBER_FIELDS):
        return None
    if isinstance(field, TEXT_FIELDS):
        return each(text_cell(escape=True)) if escape else None
    if isinstance(field, models.JSONField):
        render_text = text_cell(escape=escape)
        return each(lambda value: render_text(json_text(value)))
    return each(any_cell(escape=escape, tz=tz))
