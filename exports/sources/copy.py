"""The PostgreSQL fast path: an export's final queryset compiled into ``COPY (...) TO STDOUT`` and streamed as bytes.

PostgreSQL formats every cell itself (:mod:`exports.postgres.cells`), so its rows never pass through Python one by
one. An export takes this path only when the result is certain to be the same bytes as the ORM path's;
:func:`copy_plan` says why not otherwise, and the rows are then read through the ORM. The format says how COPY writes
it (:class:`~exports.formats.base.CopyOutput`): CSV in any dialect (``DELIMITER``; rows ending in CRLF get their line
feeds outside quoted cells turned into CRLF while streaming), TSV as COPY's text format, JSON Lines as one JSON text
per row built in SQL. It falls back when:

* the database is not PostgreSQL, or the export (``Export(copy=False)``) or ``EXPORTS_COPY = False`` turns it off;
* the format has no COPY output (XLSX);
* a CSV export has a single column (COPY and Python's csv write a lone empty cell differently);
* a column has a ``format`` hook, reads a model attribute, or names an annotation;
* a column's field is of a type without an exact SQL rendering (floats, JSON, times, durations, binary, IP addresses,
  decimals with more than 6 places, custom fields with ``from_db_value``), or has choices whose values are not of the
  field's type;
* the queryset uses ``distinct()``, ``extra()`` or ``union()``, or the time zone has no name PostgreSQL knows.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import Func, TextField, Value

from exports.columns import ResolvedColumn
from exports.django_internals import compose_sql
from exports.formats.base import CopyOutput, SQLCells
from exports.formats.jsonl import json_string
from exports.postgres.cells import NotInSQL, sql_cell
from exports.postgres.session import NoZoneName, export_session, zone_name
from exports.sources.pipe import copy_blocks
from exports.sources.rows import CRLFRows, LineRows, RowCounter, Rows

__all__ = ["CopyPlan", "RowCounter", "copy_chunks", "copy_plan"]


@dataclass(frozen=True)
class CopyPlan:
    """A ``COPY`` statement for an export, and the time zone to run it in (``None``: naive datetimes)."""

    sql: str
    tz: datetime.tzinfo | None
    using: str
    output: CopyOutput


def copy_plan(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    output: CopyOutput,
    style: SQLCells,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> CopyPlan | str:
    """The COPY statement that writes ``columns`` of ``queryset`` as ``output`` says, or why there is none."""
    try:
        return _plan(queryset, columns, output=output, style=style, escape=escape, tz=tz)
    except (NotInSQL, NoZoneName) as reason:
        return str(reason)


def _plan(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    output: CopyOutput,
    style: SQLCells,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> CopyPlan:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raise NotInSQL(f"the database is {connection.vendor}, not PostgreSQL")
    if len(columns) < output.min_columns:
        raise NotInSQL("a single-column export (COPY writes a lone empty cell differently)")
    query = queryset.query
    if query.combinator or query.distinct or query.extra or query.extra_select:
        raise NotInSQL("the queryset uses union(), distinct() or extra()")
    zone_name(tz)
    cells = {
        f"_export_{index}": sql_cell(column, escape=escape, tz=tz, style=style) for index, column in enumerate(columns)
    }
    selected: dict[str, Any] = cells
    if output.json_object:
        selected = {"_export_row": _json_object([column.key for column in columns], list(cells.values()))}
    try:
        sql, params = queryset.values(**selected).query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        raise NotInSQL("the queryset selects nothing (none())") from None
    statement = compose_sql(queryset.db, sql, params)
    return CopyPlan(f"COPY ({statement}) TO STDOUT WITH ({output.options})", tz, queryset.db, output)


def _json_object(keys: Sequence[str], cells: Sequence[Any]) -> Func:
    """One JSON object of the cells' JSON texts: ``concat('{"id":', cell, ',"total":', cell, '}')``."""
    parts: list[Any] = []
    for index, (key, cell) in enumerate(zip(keys, cells, strict=True)):
        parts += [Value(("{" if index == 0 else ",") + json_string(key) + ":"), cell]
    return Func(*parts, Value("}"), function="concat", output_field=TextField())


def copy_chunks(
    plan: CopyPlan, *, header: bytes, buffer_size: int, parallel_workers: int | None
) -> Generator[tuple[bytes, int], None, None]:
    """Run ``plan`` in the export's session and yield ``(data, rows)``: ``header`` and the first block as soon as it
    arrives, then the format's bytes in chunks of at least ``buffer_size``, with the rows in each. Closing it early
    cancels the statement."""
    with export_session(plan.using, plan.tz, parallel_workers=parallel_workers):
        connection = connections[plan.using]
        if connection.queries_logged:
            connection.queries_log.append({"sql": plan.sql, "time": "0.000"})
        connection.ensure_connection()
        data = copy_blocks(connection.connection, plan.sql)
        rows = _rows(plan.output)
        pending: list[bytes] = []
        size = 0
        # COPY runs on the driver's own connection, outside Django's cursors: its errors become Django's here (as on
        # the ORM path, whatever the driver), which also tells Django the connection may be broken.
        with connection.wrap_database_errors:
            try:
                first, count = rows.take(next(data, b""))
                yield header + first, count
                for block in data:
                    pending.append(block)
                    size += len(block)
                    if size >= buffer_size:
                        chunk = b"".join(pending)
                        pending.clear()
                        size = 0
                        yield rows.take(chunk)
                if pending:
                    yield rows.take(b"".join(pending))
            finally:
                data.close()


def _rows(output: CopyOutput) -> Rows:
    if output.crlf:
        return CRLFRows()
    return RowCounter() if output.quoted_newlines else LineRows()
