"""Rows through the ORM, in batches of cells: the path every database takes.

Rows are read with a chunked fetch: over ``values_list`` tuples when every column is a field or an annotation (joins
instead of ``select_related``), over model instances with ``select_related`` when a column reads a property or method.
Either way the number of queries does not grow with the number of rows, and a batch is converted column by column.

On PostgreSQL the rows are read inside the run's snapshot transaction (:func:`exports.postgres.session.read_snapshot`):
in autocommit, Django declares its server-side cursor ``WITH HOLD``, which makes PostgreSQL build the whole result
before it sends the first row; inside a transaction the first rows arrive at once. Cells PostgreSQL can write are
selected as SQL expressions and arrive as the text to write; a helper thread fetches the next batches meanwhile.

With ``DISABLE_SERVER_SIDE_CURSORS`` (PgBouncer in transaction pooling) Django's chunked fetch would read the whole
result into memory; an export ordered by its primary key then reads pages by key instead (``WHERE pk > last ORDER BY
pk LIMIT n``, one query per page, all in the run's snapshot). Other orderings keep Django's behaviour: correct, but
the whole result is held in memory (the COPY path, when it applies, never is).
"""

from __future__ import annotations

import datetime
from collections.abc import Generator, Mapping, Sequence
from typing import Any, Final

from django.db import connections, models

from exports.cells import ColumnConverter
from exports.columns import ResolvedColumn, instance_getter
from exports.django_internals import Batch, fetch_batches, in_batches
from exports.postgres.session import export_session
from exports.sources.readahead import read_ahead

#: Rows in the first batch: small, so the first rows leave at once.
FIRST_BATCH: Final = 200


def orm_batches(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    chunk_size: int,
    in_sql: Mapping[int, models.Expression],
    converters: Mapping[int, ColumnConverter],
    tz: datetime.tzinfo | None,
) -> Generator[Batch, None, None]:
    """Yield the rows of ``queryset`` as lists of at most ``chunk_size`` rows of cells, one cell per column.

    ``in_sql`` selects expressions instead of some columns (position -> expression, written by the database in the
    session's time zone ``tz``); ``converters`` turns the other columns' values into cells (position -> converter).
    Both are ignored for a column read from model instances, which a property column needs.
    """
    instances = any(column.kind == "attribute" for column in columns)
    if instances:
        in_sql = {}
    selected = [in_sql.get(index, column.path) for index, column in enumerate(columns)]
    conversions = [(index, convert) for index, convert in converters.items() if index not in in_sql]
    with export_session(queryset.db, tz if in_sql else None):
        if instances:
            batches = in_batches(_instance_rows(queryset, columns, chunk_size), chunk_size)
        elif _pages_by_key(queryset):
            batches = _key_pages(queryset, selected, chunk_size)
        else:
            # The query runs here, in this thread's connection and transaction; a helper thread only fetches.
            batches = fetch_batches(queryset.values_list(*selected), first=FIRST_BATCH, size=chunk_size)
            if connections[queryset.db].vendor == "postgresql":
                batches = read_ahead(batches)
        try:
            for batch in batches:
                yield _convert(batch, conversions) if conversions else batch
        finally:
            # Close the cursor while its transaction is still open (a named cursor dies with its transaction).
            batches.close()


def _convert(batch: Batch, conversions: list[tuple[int, ColumnConverter]]) -> Batch:
    cells: list[Sequence[Any]] = list(zip(*batch, strict=True))
    for index, convert in conversions:
        cells[index] = convert(cells[index])
    return list(zip(*cells, strict=True))


def _pages_by_key(queryset: models.QuerySet[Any]) -> bool:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        return False
    query = queryset.query
    pk = queryset.model._meta.pk
    keys = {"pk", pk.name, pk.attname} if pk is not None else {"pk"}
    # Every export's ordering ends on the pk, so ("-pk", "pk") is an ordering by the key alone.
    ordering = [str(item) for item in query.order_by]
    return (
        not query.is_sliced
        and not query.combinator
        and bool(ordering)
        and all(item.lstrip("-") in keys for item in ordering)
    )


def _key_pages(queryset: models.QuerySet[Any], paths: list[Any], page_size: int) -> Generator[Batch, None, None]:
    """Pages of rows by primary key, the key read as an extra last column and dropped."""
    descending = str(queryset.query.order_by[0]).startswith("-")
    lookup = "pk__lt" if descending else "pk__gt"
    page = queryset.values_list(*paths, "pk")
    rows = list(page[:page_size])
    while rows:
        last = rows[-1][-1]
        yield [row[:-1] for row in rows]
        if len(rows) < page_size:
            return
        rows = list(page.filter(**{lookup: last})[:page_size])


def _instance_rows(
    queryset: models.QuerySet[Any], columns: Sequence[ResolvedColumn], chunk_size: int
) -> Generator[tuple[Any, ...], None, None]:
    relations = sorted({relation for column in columns for relation in column.relations})
    for column in columns:
        if column.kind == "field" and "__" in column.path:
            relations.append(column.path.rsplit("__", 1)[0])
    if relations:
        queryset = queryset.select_related(*sorted(set(relations)))
    getters = [instance_getter(column) for column in columns]
    for instance in queryset.iterator(chunk_size):
        yield tuple(getter(instance) for getter in getters)
