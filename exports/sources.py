"""Where rows come from: PostgreSQL's COPY when it writes the same bytes, else batches of cells read through the ORM.

:func:`choose_source` decides (see :mod:`exports.copy` for when COPY applies). On the ORM path rows are read with a
chunked fetch: over ``values_list`` tuples when every column is a field or an annotation (joins instead of
``select_related``), over model instances with ``select_related`` when a column reads a property or method. Either way
the number of queries does not grow with the number of rows, and a batch is converted column by column.

On PostgreSQL the rows are read inside the run's snapshot transaction (``exports.pipeline.read_snapshot``): in
autocommit, Django declares its server-side cursor ``WITH HOLD``, which makes PostgreSQL build the whole result before
it sends the first row; inside a transaction the first rows arrive in milliseconds.

With ``DISABLE_SERVER_SIDE_CURSORS`` (PgBouncer in transaction pooling) Django's chunked fetch would read the whole
result into memory; an export ordered by its primary key then reads pages of ``EXPORTS_CHUNK_SIZE`` rows by key
instead (``WHERE pk > last ORDER BY pk LIMIT n``, one query per page, all in the run's snapshot). Other orderings keep
Django's behaviour: correct, but the whole result is held in memory (the COPY path, when it applies, never is).
"""

from __future__ import annotations

import datetime
from collections.abc import Generator, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models
from django.db.models.sql.constants import CURSOR, MULTI
from django.utils import timezone

from exports.columns import ResolvedColumn, instance_getter
from exports.conf import app_settings
from exports.copy import CopyPlan, NotCopyable, copy_chunks, copy_plan, export_session, sql_cells
from exports.encoding import BatchConverter
from exports.readahead import read_ahead

if TYPE_CHECKING:
    from exports.pipeline import ExportJob

Batch = list[Sequence[Any]]

#: Rows in the first batch of the ORM path: small, so the first rows leave in milliseconds.
FIRST_BATCH = 200


def export_time_zone() -> datetime.tzinfo | None:
    """The zone datetimes are written in: the current time zone, or ``None`` (naive) without ``USE_TZ``."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def choose_source(job: ExportJob) -> CopyPlan | str:
    """The COPY plan for ``job``, or why its rows are read through the ORM instead."""
    if not job.export.uses_copy:
        return "COPY is turned off (Export(copy=False) or EXPORTS_COPY = False)"
    try:
        return copy_plan(job.queryset, job.columns, escape=job.export.escapes_formulas, tz=export_time_zone())
    except NotCopyable as reason:
        return str(reason)


def copy_batches(plan: CopyPlan, *, header: bytes, buffer_size: int) -> Generator[tuple[bytes, int], None, None]:
    """``copy_chunks`` in the export's time zone, with ``EXPORTS_COPY_PARALLEL_WORKERS``."""
    with export_session(plan.using, plan.tz, parallel_workers=app_settings.COPY_PARALLEL_WORKERS):
        chunks = copy_chunks(plan, header=header, buffer_size=buffer_size)
        try:
            yield from chunks
        finally:
            chunks.close()


def orm_batches(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    chunk_size: int,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> Generator[Batch, None, None]:
    """Yield the rows of ``queryset`` as lists of at most ``chunk_size`` rows of cells, one cell per column.

    On PostgreSQL the columns it can write exactly (those COPY could) are formatted by the database, in the same SQL
    as the COPY path, and arrive as the text to write; the others are converted in Python.
    """
    instances = any(column.kind == "attribute" for column in columns)
    in_sql = {} if instances else sql_cells(queryset, columns, escape=escape, tz=tz)
    conversions = [
        (index, convert)
        for index, column in enumerate(columns)
        if index not in in_sql and (convert := column.batch_converter(escape=escape, tz=tz)) is not None
    ]
    selected = [in_sql.get(index, column.path) for index, column in enumerate(columns)]
    with export_session(queryset.db, tz if in_sql else None):
        if instances:
            batches = _batched(_instance_rows(queryset, columns, chunk_size), chunk_size)
        elif _pages_by_key(queryset):
            batches = _key_pages(queryset, selected, chunk_size)
        else:
            # The query runs here, in this thread's connection and transaction; a helper thread only fetches.
            batches = _fetched(queryset.values_list(*selected), chunk_size)
            if connections[queryset.db].vendor == "postgresql":
                batches = read_ahead(batches)
        try:
            for batch in batches:
                yield _convert(batch, conversions) if conversions else batch
        finally:
            # Close the cursor while its transaction is still open (a named cursor dies with its transaction).
            batches.close()


def _convert(batch: Batch, conversions: list[tuple[int, BatchConverter]]) -> Batch:
    cells: list[Sequence[Any]] = list(zip(*batch, strict=True))
    for index, convert in conversions:
        cells[index] = convert(cells[index])
    return list(zip(*cells, strict=True))


def _batched(rows: Iterator[Sequence[Any]], size: int) -> Generator[Batch, None, None]:
    try:
        while batch := list(islice(rows, size)):
            yield batch
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _fetched(values: models.QuerySet[Any], chunk_size: int) -> Generator[Batch, None, None]:
    """Run the query now and return its rows, batch by batch, through the backend's converters if it has any.

    The first batch is small (:data:`FIRST_BATCH` rows), so the first rows leave at once; the others are
    ``chunk_size`` rows, one round trip each. Only fetching is left to the generator: it may run in another thread
    (Django's connections belong to the thread that opens them).
    """
    compiler = values.query.get_compiler(using=values.db)
    compiler.setup_query()
    fields = [select[0] for select in compiler.select[: compiler.col_count]]
    if compiler.has_composite_fields(fields):  # Django's own iterator knows how to rebuild composite keys
        results = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=chunk_size)
        return _batched(compiler.results_iter(results, tuple_expected=True), chunk_size)
    return _fetch(
        compiler, compiler.execute_sql(CURSOR, chunked_fetch=True), compiler.get_converters(fields), chunk_size
    )


def _fetch(compiler: Any, cursor: Any, converters: Any, chunk_size: int) -> Generator[Batch, None, None]:
    if cursor is None:  # the query selects nothing (an empty __in, none())
        return
    try:
        size = min(FIRST_BATCH, chunk_size)
        while rows := cursor.fetchmany(size):
            yield list(compiler.apply_converters(rows, converters)) if converters else rows
            size = chunk_size
    finally:
        cursor.close()


def _pages_by_key(queryset: models.QuerySet[Any]) -> bool:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        return False
    query = queryset.query
    pk = queryset.model._meta.pk
    keys = {"pk", pk.name, pk.attname} if pk is not None else {"pk"}
    # Export.order() ends every ordering on the pk, so ("-pk", "pk") is an ordering by the key alone.
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
