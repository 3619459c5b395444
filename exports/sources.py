"""Where rows come from: batches of cells read from the database through the ORM.

Rows are read with ``QuerySet.iterator(chunk_size=...)``: over ``values_list`` tuples when every column is a field or
an annotation (joins instead of ``select_related``), over model instances with ``select_related`` when a column reads
a property or method. Either way the number of queries does not grow with the number of rows.

On PostgreSQL the rows are read inside a transaction: in autocommit, Django declares its server-side cursor
``WITH HOLD``, which makes PostgreSQL build the whole result before it sends the first row; inside a transaction the
first rows arrive in milliseconds, and the export reads one snapshot of the table. The cost: the transaction stays
open for as long as the export runs, which holds back vacuum on a busy table.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Generator, Sequence
from itertools import islice
from typing import Any, cast

from django.db import connections, models, transaction

from exports.columns import ResolvedColumn, instance_getter

Batch = list[Sequence[Any]]


def orm_batches(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    chunk_size: int,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> Generator[Batch, None, None]:
    """Yield the rows of ``queryset`` as lists of at most ``chunk_size`` rows of cells, one cell per column."""
    converters = [column.converter(escape=escape, tz=tz) for column in columns]
    conversions = [(index, convert) for index, convert in enumerate(converters) if convert is not None]
    if all(column.kind != "attribute" for column in columns):
        # QuerySet.iterator() returns a generator (typed as a plain iterator); it must be closed, see below.
        rows = cast(
            Generator[Sequence[Any], None, None],
            queryset.values_list(*(c.path for c in columns)).iterator(chunk_size),
        )
    else:
        rows = _instance_rows(queryset, columns, chunk_size)
    with _read_transaction(queryset.db):
        try:
            while batch := list(islice(rows, chunk_size)):
                if conversions:
                    _convert(batch, conversions)
                yield batch
        finally:
            # Close the cursor while its transaction is still open (a named cursor dies with its transaction).
            rows.close()


def _convert(batch: list[Any], conversions: list[tuple[int, Callable[[Any], Any]]]) -> None:
    for position, row in enumerate(batch):
        cells = list(row)
        for index, convert in conversions:
            cells[index] = convert(cells[index])
        batch[position] = cells


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


def _read_transaction(using: str) -> contextlib.AbstractContextManager[Any]:
    """A transaction on PostgreSQL (see the module docstring); nothing elsewhere."""
    if connections[using].vendor == "postgresql":
        return transaction.atomic(using=using)
    return contextlib.nullcontext()
