"""One export run, whatever surface asked for it: check the request, then stream the CSV.

Every surface (the download URL, the admin, the ``export`` command) turns its own input into the same call to
:func:`prepare` and streams :meth:`ExportJob.stream`; nothing below this module knows which surface called it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.db import models

from exports.columns import ResolvedColumn
from exports.conf import app_settings
from exports.copy import CopyPlan
from exports.declarations import Export
from exports.encoding import CSVEncoder
from exports.exceptions import ExportError
from exports.filters import FilterValues
from exports.sources import choose_source, copy_batches, export_time_zone, orm_batches

if TYPE_CHECKING:
    from exports.declarations import User

logger = logging.getLogger("exports")

Surface = Literal["url", "admin", "command"]


@dataclass
class ExportJob:
    """A checked request for an export: the final queryset and the columns to write. Stream it once."""

    export: Export
    queryset: models.QuerySet[Any]
    columns: list[ResolvedColumn]
    filters: FilterValues
    surface: Surface
    user: User | None = None
    chunk_size: int = 0
    #: Rows and bytes streamed so far (read them for progress, logs and the audit record).
    rows_sent: int = field(default=0, init=False)
    bytes_sent: int = field(default=0, init=False)

    @property
    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    def count(self) -> int:
        """How many rows the export will write (one ``COUNT`` query)."""
        return self.queryset.count()

    def stream(self, *, on_progress: Callable[[ExportJob], None] | None = None) -> Generator[bytes, None, None]:
        """The CSV as UTF-8 chunks of about ``EXPORTS_BUFFER_SIZE`` bytes, header first.

        ``on_progress`` is called with the job after each batch of rows (``rows_sent`` tells how far it got).
        """
        chunks = self._chunks(on_progress)
        try:
            for chunk in chunks:
                self.bytes_sent += len(chunk)
                yield chunk
        except GeneratorExit:
            logger.info("Export %r stopped by the client after %d rows", self.export.name, self.rows_sent)
            raise
        except Exception:
            logger.exception(
                "Export %r failed after %d rows (user %s, %s)",
                self.export.name,
                self.rows_sent,
                self.user,
                self.surface,
            )
            raise
        finally:
            chunks.close()

    def _chunks(self, on_progress: Callable[[ExportJob], None] | None) -> Generator[bytes, None, None]:
        """The CSV bytes from the source: PostgreSQL's COPY when it writes the same bytes, else ORM rows."""
        source = choose_source(self)
        encoder = CSVEncoder(buffer_size=app_settings.BUFFER_SIZE)
        if isinstance(source, CopyPlan):
            yield encoder.encode_row(self.header)
            for chunk, rows in copy_batches(source, buffer_size=app_settings.BUFFER_SIZE):
                self.rows_sent += rows
                if on_progress is not None:
                    on_progress(self)
                yield chunk
            return
        logger.debug("Export %r reads rows through the ORM: %s", self.export.name, source)
        batches = orm_batches(
            self.queryset,
            self.columns,
            chunk_size=self.chunk_size,
            escape=self.export.escapes_formulas,
            tz=export_time_zone(),
        )
        try:
            yield from encoder.encode_batches(self.header, self._counted(batches, on_progress))
        finally:
            batches.close()

    def _counted(
        self, batches: Iterator[list[Sequence[Any]]], on_progress: Callable[[ExportJob], None] | None
    ) -> Iterator[list[Sequence[Any]]]:
        for batch in batches:
            yield batch
            self.rows_sent += len(batch)
            if on_progress is not None:
                on_progress(self)


def prepare(
    export: Export,
    *,
    surface: Surface,
    user: User | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    columns: Sequence[str] | None = None,
    queryset: models.QuerySet[Any] | None = None,
    chunk_size: int | None = None,
) -> ExportJob:
    """Check a request for ``export`` and return the job that streams it.

    ``filters`` are caller-given values (parameter -> values) checked against the export's allowed filters;
    ``columns`` names the optional columns wanted (``None``: the defaults); ``queryset`` replaces the export's own
    rows (the admin passes its changelist's). Raises :class:`~exports.exceptions.ExportError` with the reasons.
    Permission is the surface's to check, before it calls this.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ExportError(f"The chunk size must be a positive number, not {chunk_size}.")
    filter_values = export.parse_filters(filters or {})
    selected = export.select_columns(columns)
    rows = filter_values.apply(export.get_queryset() if queryset is None else queryset)
    return ExportJob(
        export=export,
        queryset=export.order(rows),
        columns=selected,
        filters=filter_values,
        surface=surface,
        user=user,
        chunk_size=chunk_size or export.rows_per_fetch,
    )
