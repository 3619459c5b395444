"""The bytes of an export: rows from a source (COPY or the ORM) through the format's encoder, in large chunks.

Plain values in (the final queryset, the columns, the format, the options), ``(chunk, rows)`` pairs out; the run that
owns the audit record, the slot and the snapshot is :mod:`exports.runs`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from django.db import connections, models

from exports.columns import ResolvedColumn
from exports.conf import app_settings
from exports.formats.base import Format, TextEncoder
from exports.postgres.cells import sql_cells
from exports.sources.copy import CopyPlan, copy_chunks, copy_plan
from exports.sources.orm import orm_batches

logger = logging.getLogger("exports")


def choose_source(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    format: Format,
    copy: bool,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> CopyPlan | str:
    """The COPY plan for these rows in ``format``, or why they are read through the ORM instead."""
    if not copy:
        return "COPY is turned off (Export(copy=False) or EXPORTS_COPY = False)"
    output = format.copy_output()
    if output is None or format.sql_cells is None:
        return f"PostgreSQL's COPY cannot write {format.name}"
    return copy_plan(queryset, columns, output=output, style=format.sql_cells, escape=escape, tz=tz)


def export_chunks(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    format: Format,
    header: Sequence[str],
    source: CopyPlan | str,
    chunk_size: int,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> Generator[tuple[bytes, int], None, None]:
    """Yield ``(data, rows)``: the header and first rows at once, then chunks of about ``EXPORTS_BUFFER_SIZE`` bytes,
    each with the number of rows it holds. Run it inside the run's snapshot."""
    encoder = format.encoder(buffer_size=app_settings.BUFFER_SIZE)
    if isinstance(source, CopyPlan):
        text_encoder: TextEncoder = encoder  # type: ignore[assignment] # a format with a COPY output writes text
        blocks = copy_chunks(
            source,
            header=text_encoder.encode_header(header),
            buffer_size=app_settings.BUFFER_SIZE,
            parallel_workers=app_settings.COPY_PARALLEL_WORKERS,
        )
        try:
            yield from blocks
        finally:
            blocks.close()  # cancels a COPY still running, now rather than whenever the generator is collected
        return
    logger.debug("Rows of %s are read through the ORM: %s", queryset.model._meta.label, source)
    converters = {
        index: convert
        for index, column in enumerate(columns)
        if (convert := format.column_converter(column, escape=escape, tz=tz)) is not None
    }
    postgres = connections[queryset.db].vendor == "postgresql"
    in_sql = sql_cells(columns, escape=escape, tz=tz, style=format.sql_cells) if postgres and format.sql_cells else {}
    batches = orm_batches(
        queryset,
        columns,
        chunk_size=chunk_size,
        in_sql=in_sql,
        converters=converters,
        tz=tz,
    )
    counter = _Counter(batches)
    try:
        for chunk in encoder.encode_batches(header, counter):
            # The encoder yields only between batches, so every row it has taken is in the chunks handed out.
            yield chunk, counter.take()
    finally:
        batches.close()


class _Counter:
    """Passes batches through, counting their rows."""

    def __init__(self, batches: Iterator[list[Any]]) -> None:
        self._batches = batches
        self._rows = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for batch in self._batches:
            self._rows += len(batch)
            yield batch

    def take(self) -> int:
        rows, self._rows = self._rows, 0
        return rows


class ClosingStream(Generator[bytes, None, None]):
    """A stream of chunks that calls ``on_close`` when it is closed, even before its first chunk.

    A plain generator closed before it starts never runs its ``finally``; a server that gives up on a response before
    asking for its first chunk would leave the run open and the user's slot taken.
    """

    def __init__(self, chunks: Generator[bytes, None, None], *, on_close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._on_close = on_close

    def send(self, value: None) -> bytes:
        return self._chunks.send(value)

    def throw(self, *args: Any) -> bytes:
        return self._chunks.throw(*args)

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            self._on_close()


def drop_connections(aliases: set[str]) -> None:
    """Close this thread's connections after a failed stream (unless a caller's transaction holds them): Django's ASGI
    handler neither closes a streaming response that raised nor sends ``request_finished``, so they would stay open."""
    for alias in aliases:
        connection = connections[alias]
        if not connection.in_atomic_block:
            connection.close()
