"""The PostgreSQL fast path: an export's final queryset compiled into ``COPY (...) TO STDOUT`` and streamed as bytes.

PostgreSQL formats every cell itself (:mod:`exports.postgres.cells`), so its rows never pass through Python one by
one. An export takes this path only when the result is certain to be the same bytes as the ORM path's;
:func:`copy_plan` says why not otherwise, and the rows are then read through the ORM. It falls back when:

* the database is not PostgreSQL, or the export (``Export(copy=False)``) or ``EXPORTS_COPY = False`` turns it off;
* the export has a single column (COPY and Python's csv write a lone empty cell differently);
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

from exports.columns import ResolvedColumn
from exports.django_internals import compose_sql
from exports.postgres.cells import NotInSQL, sql_cell
from exports.postgres.session import NoZoneName, export_session, zone_name
from exports.sources.pipe import copy_blocks


@dataclass(frozen=True)
class CopyPlan:
    """A ``COPY`` statement for an export, and the time zone to run it in (``None``: naive datetimes)."""

    sql: str
    tz: datetime.tzinfo | None
    using: str


def copy_plan(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> CopyPlan | str:
    """The COPY statement that writes ``columns`` of ``queryset``, or why there is none."""
    try:
        return _plan(queryset, columns, escape=escape, tz=tz)
    except (NotInSQL, NoZoneName) as reason:
        return str(reason)


def _plan(
    queryset: models.QuerySet[Any], columns: Sequence[ResolvedColumn], *, escape: bool, tz: datetime.tzinfo | None
) -> CopyPlan:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raise NotInSQL(f"the database is {connection.vendor}, not PostgreSQL")
    if len(columns) < 2:
        raise NotInSQL("a single-column export (COPY writes a lone empty cell differently)")
    query = queryset.query
    if query.combinator or query.distinct or query.extra or query.extra_select:
        raise NotInSQL("the queryset uses union(), distinct() or extra()")
    zone_name(tz)
    cells = {f"_export_{index}": sql_cell(column, escape=escape, tz=tz) for index, column in enumerate(columns)}
    try:
        sql, params = queryset.values(**cells).query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        raise NotInSQL("the queryset selects nothing (none())") from None
    statement = compose_sql(queryset.db, sql, params)
    return CopyPlan(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", tz, queryset.db)


def copy_chunks(
    plan: CopyPlan, *, header: bytes, buffer_size: int, parallel_workers: int | None
) -> Generator[tuple[bytes, int], None, None]:
    """Run ``plan`` in the export's session and yield ``(data, rows)``: ``header`` and the first block as soon as it
    arrives, then CSV bytes in chunks of at least ``buffer_size``, with the rows in each. Closing it early cancels
    the statement."""
    with export_session(plan.using, plan.tz, parallel_workers=parallel_workers):
        connection = connections[plan.using]
        if connection.queries_logged:
            connection.queries_log.append({"sql": plan.sql, "time": "0.000"})
        connection.ensure_connection()
        data = copy_blocks(connection.connection, plan.sql)
        counter = RowCounter()
        pending: list[bytes] = []
        size = 0
        try:
            first = next(data, b"")
            yield header + first, counter.count(first)
            for block in data:
                pending.append(block)
                size += len(block)
                if size >= buffer_size:
                    chunk = b"".join(pending)
                    pending.clear()
                    size = 0
                    yield chunk, counter.count(chunk)
            if pending:
                chunk = b"".join(pending)
                yield chunk, counter.count(chunk)
        finally:
            data.close()


class RowCounter:
    """Counts the rows in COPY's CSV: line feeds outside quoted cells (a doubled quote toggles twice).

    Every line feed, less those between an opening and a closing quote: a few quoted cells per block cost a few
    ``find()`` calls, where splitting the block on quotes would copy all of it.
    """

    def __init__(self) -> None:
        self.quoted = False

    def count(self, data: bytes) -> int:
        rows = data.count(b"\n")
        quoted = self.quoted
        start = 0  # where the current quoted run began
        quote = data.find(b'"')
        while quote >= 0:
            if quoted:
                rows -= data.count(b"\n", start, quote)
            else:
                start = quote + 1
            quoted = not quoted
            quote = data.find(b'"', quote + 1)
        if quoted:
            rows -= data.count(b"\n", start)
        self.quoted = quoted
        return rows
