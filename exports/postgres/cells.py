"""Cells formatted by PostgreSQL: SQL that writes a column's value as :mod:`exports.cells` does, byte for byte.

Both sources use it: the COPY path selects these expressions and lets COPY write them, and the ORM path selects them
for the columns PostgreSQL can write, so those cells arrive as the text to write. A column without an exact rendering
raises :class:`NotInSQL` with the reason, and is then written in Python (or keeps the export off the COPY path).

Choice labels go through ``CASE``, formula escaping through ``CASE``/``ascii()``, empty text through ``NULLIF`` (COPY
quotes an empty string where Python's csv writes nothing), datetimes through ``to_char`` in the session's time zone
(:mod:`exports.postgres.session` sets it to the export's).

A format says which cells it takes (:class:`~exports.formats.base.SQLCells`): CSV's text; the same text with empty text
kept apart from NULL (TSV); or the JSON text of each value (JSON Lines): numbers as their text, the others quoted,
free text through ``to_json``, which escapes a string as Python's ``json`` does (``\\n``, ``\\"``, ``\\u001f``;
non-ASCII characters as they are). ``to_json`` costs a type lookup per call, so it is kept to the cells that need it.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence
from typing import Any, Final

from django.db import models
from django.db.models import F, Func, TextField

from exports.cells import FORMULA_TRIGGERS, TEXT_FIELDS, escape_formula
from exports.columns import ResolvedColumn
from exports.formats.base import SQLCells
from exports.formats.jsonl import json_string
from exports.postgres.session import NoZoneName, zone_name

_INTEGER_FIELDS: Final = models.IntegerField | models.AutoField
#: The code points formula escaping prefixes, as integers: ``ascii()`` of the first character is an integer compare,
#: far cheaper than comparing ``left(x, 1)`` as text. PostgreSQL text cannot hold NUL, so it is left out.
_TRIGGERS_SQL: Final = "(" + ", ".join(str(ord(c)) for c in sorted(FORMULA_TRIGGERS - {"\x00"})) + ")"
#: ``str(Decimal)`` switches to exponents below 1E-6 (and for 0 with more places); ``numeric`` never does.
_MAX_DECIMAL_PLACES: Final = 6


class NotInSQL(Exception):
    """Why a column (or an export) cannot be written by PostgreSQL; the message says which rule applies."""


class Cell(Func):
    """A column's value formatted by PostgreSQL: ``template`` with ``{x}`` standing for the column."""

    output_field = TextField()

    def __init__(self, path: str, template: str, params: Sequence[Any] = ()) -> None:
        super().__init__(F(path))
        self.cell_template = template
        self.cell_params = list(params)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        column, column_params = compiler.compile(self.source_expressions[0])
        if column_params:  # pragma: no cover - a plain column compiles without parameters
            raise NotInSQL("a column compiles with parameters")
        # A tuple: Django 6.0 requires as_sql()'s params as one (5.2 takes either).
        return self.cell_template.replace("{x}", column), tuple(self.cell_params)


def sql_cells(
    columns: Sequence[ResolvedColumn], *, escape: bool, tz: datetime.tzinfo | None, style: SQLCells = SQLCells.CSV
) -> dict[int, Cell]:
    """The columns PostgreSQL can write exactly (position -> expression); empty in a zone it cannot name."""
    try:
        zone_name(tz)
    except NoZoneName:
        return {}
    cells = {}
    for index, column in enumerate(columns):
        with contextlib.suppress(NotInSQL):
            cells[index] = sql_cell(column, escape=escape, tz=tz, style=style)
    return cells


def sql_cell(
    column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None, style: SQLCells = SQLCells.CSV
) -> Cell:
    """SQL that writes ``column``'s cell as the format's converters do; raises :class:`NotInSQL` when none can."""
    if column.column.format is not None:
        raise NotInSQL(f"column {column.key!r} has a format hook")
    if column.kind != "field" or column.field is None:
        raise NotInSQL(f"column {column.key!r} is an {column.kind}, not a field")
    field = column.field
    if style is SQLCells.JSON:
        escape = False
    if column.column.choice_labels and field.choices:
        return _choices_cell(column, field, escape=escape, tz=tz, style=style)
    return Cell(column.path, _field_template(field, column.key, escape=escape, tz=tz, style=style))


def _choices_cell(
    column: ResolvedColumn, field: models.Field[Any, Any], *, escape: bool, tz: datetime.tzinfo | None, style: SQLCells
) -> Cell:
    if field.is_relation:
        raise NotInSQL(f"column {column.key!r} is a foreign key with choices")
    value_type = str if isinstance(field, TEXT_FIELDS) else int if isinstance(field, _INTEGER_FIELDS) else None
    if value_type is None:
        raise NotInSQL(f"column {column.key!r}: choices on a {type(field).__name__}")
    whens: list[str] = []
    params: list[Any] = []
    null_label: list[Any] = []
    json = style is SQLCells.JSON
    for value, label in {value: str(label) for value, label in field.flatchoices}.items():
        label_cell: str | None = escape_formula(label) if escape else label
        if style is SQLCells.CSV:
            label_cell = label_cell or None
        elif json:
            label_cell = json_string(label)
        if value is None:
            null_label.append(label_cell)
        elif type(value) is not value_type:
            raise NotInSQL(f"column {column.key!r}: the choice {value!r} is not a {value_type.__name__}")
        else:
            whens.append("WHEN %s THEN %s")
            params.extend([value, label_cell])
    # A value outside the choices is written as the field writes it (in JSON, a number stays a number), as text: a
    # CASE has one type, and the labels are text.
    otherwise = f"({_field_template(field, column.key, escape=escape, tz=tz, style=style)})::text"
    # The simple CASE form evaluates the column once, where WHEN x = ... evaluates it per branch.
    template = f"CASE {{x}} {' '.join(whens)} ELSE {otherwise} END" if whens else otherwise
    if null_label:
        template = f"CASE WHEN {{x}} IS NULL THEN %s ELSE {template} END"
        params = null_label + params
    return Cell(column.path, template, params)


def _field_template(
    field: models.Field[Any, Any], key: str, *, escape: bool, tz: datetime.tzinfo | None, style: SQLCells
) -> str:
    """SQL writing a value of ``field`` ({x}) as the format's converters do."""
    if field.is_relation:
        target = getattr(field, "target_field", None)
        if target is None:  # pragma: no cover - a concrete foreign key always has a target
            raise NotInSQL(f"column {key!r} has no target field")
        return _field_template(target, key, escape=escape, tz=tz, style=style)
    if hasattr(field, "from_db_value"):
        raise NotInSQL(f"column {key!r}: {type(field).__name__} converts its values in Python")
    json = style is SQLCells.JSON
    if isinstance(field, models.BooleanField):
        null = " ELSE 'null'" if json else ""
        return f"CASE WHEN {{x}} THEN 'true' WHEN NOT {{x}} THEN 'false'{null} END"
    if isinstance(field, models.DecimalField) and (
        field.decimal_places is None or field.decimal_places > _MAX_DECIMAL_PLACES
    ):
        raise NotInSQL(f"column {key!r}: a decimal with more than {_MAX_DECIMAL_PLACES} places")
    if isinstance(field, models.DateTimeField):
        text = _datetime_template(tz)
    elif isinstance(field, models.DateField):
        text = "to_char({x}, 'YYYY-MM-DD')"
    elif isinstance(field, _INTEGER_FIELDS):
        return "COALESCE({x}::text, 'null')" if json else "{x}"
    elif isinstance(field, models.UUIDField | models.DecimalField):
        text = "{x}::text" if json else "{x}"
    elif json and isinstance(field, TEXT_FIELDS):
        return "COALESCE(to_json({x})::text, 'null')"
    else:
        text = ""
    if text:
        # In JSON a string: its text never holds a character to escape (digits, signs, letters of ISO 8601 or hex).
        return f"COALESCE('\"' || {text} || '\"', 'null')" if json else text
    if isinstance(field, TEXT_FIELDS):
        otherwise = "NULLIF({x}, '')" if style is SQLCells.CSV else "{x}"
        if escape:
            # Every trigger sorts below "A" in the "C" collation (byte order): one byte compare settles most cells,
            # and only the others pay for ascii().
            return (
                f"CASE WHEN {{x}} COLLATE \"C\" >= 'A' THEN {{x}} "
                f"WHEN ascii({{x}}) IN {_TRIGGERS_SQL} THEN '''' || {{x}} ELSE {otherwise} END"
            )
        return otherwise
    raise NotInSQL(f"column {key!r}: no exact SQL rendering of a {type(field).__name__}")


#: Marks the end of the fraction so that a zero fraction can be cut with one replace(); no digit or sign is a "~".
_END = "~"


def _datetime_template(tz: datetime.tzinfo | None) -> str:
    # datetime.isoformat(): the fraction only when there are microseconds, the offset as +HH:MM (+HH:MM:SS for the
    # local mean time of old dates). One to_char() with a replace() of a zero fraction is cheaper than a CASE over
    # date_trunc() with two to_char() calls.
    if tz is None:
        fraction = f'to_char({{x}}, \'YYYY-MM-DD"T"HH24:MI:SS.US"{_END}"\')'
        return f"rtrim(replace({fraction}, '.000000{_END}', ''), '{_END}')"
    if zone_name(tz) == "UTC":
        return "replace(to_char({x}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
    seconds = "mod(abs(extract(timezone FROM {x})::integer), 60)"
    return (
        "replace(replace(to_char({x}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000+', '+'), '.000000-', '-')"
        f" || CASE WHEN {seconds} = 0 THEN '' ELSE ':' || lpad({seconds}::text, 2, '0') END"
    )
