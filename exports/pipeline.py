"""One export run, whatever surface asked for it: check the request, then stream the CSV.

Every surface (the download URL, the admin, the ``export`` command) turns its own input into the same call to
:func:`prepare` and streams :meth:`ExportJob.stream`; nothing below this module knows which surface called it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import connections, models, router, transaction

from exports import audit, limits
from exports.columns import ResolvedColumn
from exports.conf import app_settings
from exports.copy import CopyPlan
from exports.declarations import Export
from exports.encoding import CSVEncoder
from exports.exceptions import ExportError, TooManyRows
from exports.filters import FilterValues
from exports.models import ExportRun
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
    #: For the audit record: the rows a surface chose itself (the admin's changelist), as an SQL condition.
    selection: str = ""
    #: The audit record while the run holds it (``None`` before :func:`prepare` and once the run has ended).
    run: ExportRun | None = field(default=None, init=False, repr=False)

    @property
    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    def count(self) -> int:
        """How many rows the export will write (one ``COUNT`` query)."""
        return self.queryset.count()

    def stream(self, *, on_progress: Callable[[ExportJob], None] | None = None) -> Generator[bytes, None, None]:
        """The CSV as UTF-8 chunks of about ``EXPORTS_BUFFER_SIZE`` bytes, header first.

        ``on_progress`` is called with the job once before the first row, inside the run's snapshot (the moment for a
        ``count()``), then after each batch of rows (``rows_sent`` tells how far it got). Closing
        the stream, even before its first chunk, ends the run: cursor and transaction closed, audit record finished,
        the user's slot freed.
        """
        return _JobStream(self, self._stream(on_progress))

    def close(self, outcome: ExportRun.Outcome = ExportRun.Outcome.ABORTED, error: str = "") -> None:
        """End the run if it has not ended: finish its audit record and free its slot (idempotent)."""
        run, self.run = self.run, None
        if run is not None:
            audit.finish(run, self, outcome, error)

    def _stream(self, on_progress: Callable[[ExportJob], None] | None) -> Generator[bytes, None, None]:
        outcome, error = ExportRun.Outcome.FAILED, ""
        limit = limits.row_limit(self.export)
        chunks = self._chunks(on_progress)
        try:
            with read_snapshot(self.queryset.db):
                if on_progress is not None:
                    # Once before the source starts, inside the snapshot: a count taken here agrees with the rows,
                    # and cannot collide with a COPY that holds the connection.
                    on_progress(self)
                try:
                    for chunk in chunks:
                        if limit is not None and self.rows_sent > limit:
                            # Rows were added since the count that let the export start: fail rather than truncate.
                            raise TooManyRows(
                                f"The export {self.export.name!r} grew beyond its limit of {limit:,} rows."
                            )
                        self.bytes_sent += len(chunk)
                        yield chunk
                finally:
                    # The cursor closes inside the snapshot's transaction, before it ends.
                    chunks.close()
            outcome = ExportRun.Outcome.COMPLETED
        except (GeneratorExit, KeyboardInterrupt):  # the client went away, or the command's user pressed Ctrl-C
            outcome = ExportRun.Outcome.ABORTED
            logger.info(
                "Export %r stopped by the client after %d rows (user %s, %s)",
                self.export.name,
                self.rows_sent,
                self.user,
                self.surface,
            )
            raise
        except BaseException as exception:
            error = type(exception).__name__
            logger.exception(
                "Export %r failed after %d rows (user %s, %s)",
                self.export.name,
                self.rows_sent,
                self.user,
                self.surface,
            )
            raise
        finally:
            self.close(outcome, error)
            if outcome == ExportRun.Outcome.FAILED:
                _drop_connections({self.queryset.db, router.db_for_write(ExportRun)})

    def _chunks(self, on_progress: Callable[[ExportJob], None] | None) -> Generator[bytes, None, None]:
        """The CSV bytes from the source: PostgreSQL's COPY when it writes the same bytes, else ORM rows."""
        source = choose_source(self)
        encoder = CSVEncoder(buffer_size=app_settings.BUFFER_SIZE)
        if isinstance(source, CopyPlan):
            blocks = copy_batches(source, header=encoder.encode_row(self.header), buffer_size=app_settings.BUFFER_SIZE)
            try:
                for chunk, rows in blocks:
                    self.rows_sent += rows
                    if on_progress is not None:
                        on_progress(self)
                    yield chunk
            finally:
                blocks.close()  # cancels a COPY still running, now rather than whenever the generator is collected
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
            # Counted as the encoder takes the batch: it yields a chunk only between batches, so whenever a chunk is
            # handed out (or the stream is closed there), rows_sent is exactly the rows in the chunks handed out.
            self.rows_sent += len(batch)
            if on_progress is not None:
                on_progress(self)
            yield batch


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
    rows = _filtered(filter_values, export.get_queryset() if queryset is None else queryset)
    job = ExportJob(
        export=export,
        queryset=export.order(rows),
        columns=selected,
        filters=filter_values,
        surface=surface,
        user=user,
        chunk_size=chunk_size or export.rows_per_fetch,
        selection="" if queryset is None else audit.describe_selection(queryset),
    )
    limits.check_row_count(export, job.queryset)
    # Last, once every check has passed: this writes the audit record and takes one of the user's slots, which the
    # stream frees when it ends (or job.close(), for a job that is never streamed).
    job.run = audit.start(job)
    return job


def _filtered(filter_values: FilterValues, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """``queryset`` filtered, its SQL turned now (no query runs): a value that a lookup or the database adapter
    refuses is a clear error before the response starts, not a broken download after its first bytes."""
    try:
        rows = filter_values.apply(queryset)
        rows.query.get_compiler(rows.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        pass
    except (ValueError, TypeError, OverflowError, ValidationError) as error:
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        raise ExportError(f"The filters cannot be applied: {reason}") from None
    return rows


def _drop_connections(aliases: set[str]) -> None:
    """Close this thread's connections after a failed stream (unless a caller's transaction holds them).

    Django's ASGI handler neither closes a streaming response that raised nor sends ``request_finished``, so the
    request's connection would stay open for good (seen with uvicorn: one backend left per failure). Under WSGI and in
    the command this only closes it a moment before ``request_finished`` would; it may be broken anyway.
    """
    for alias in aliases:
        connection = connections[alias]
        if not connection.in_atomic_block:
            connection.close()


class _JobStream(Generator[bytes, None, None]):
    """The stream of a job: a generator that ends the run when closed, even before its first chunk.

    A plain generator closed before it starts never runs its ``finally``; a server that gives up on a response before
    asking for its first chunk would leave the run open and the user's slot taken.
    """

    def __init__(self, job: ExportJob, chunks: Generator[bytes, None, None]) -> None:
        self._job = job
        self._chunks = chunks

    def send(self, value: None) -> bytes:
        return self._chunks.send(value)

    def throw(self, *args: Any) -> bytes:
        return self._chunks.throw(*args)

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            self._job.close()


@contextlib.contextmanager
def read_snapshot(using: str) -> Iterator[None]:
    """On PostgreSQL, a ``REPEATABLE READ, READ ONLY`` transaction: every query of the run (a count for progress,
    the rows) sees the database as of its first query, whatever other connections write meanwhile.

    Inside a caller's transaction the caller's isolation applies. Elsewhere nothing: SQLite reads in one statement.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
