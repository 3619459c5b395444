"""One run of an export, whatever surface asked for it: the checks, then the stream, with one owner of the run.

A surface (the URL, the admin, the command) turns its input into :func:`prepare`, which checks it and returns an
:class:`ExportRequest` without writing anything. :meth:`ExportRequest.start` claims the user's slot, writes the audit
record and returns the :class:`Run`, which is ended exactly once: by its stream when it ends, fails or is closed, or
by its context manager (``with request.start() as run:``) when anything fails before the stream is handed over.
Nothing below this module knows which surface called it: sources, cells and formats get plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from django.db import models, router
from django.dispatch import Signal

from exports import audit, limits, signals
from exports.cells import export_time_zone
from exports.columns import ResolvedColumn
from exports.conf import app_settings
from exports.declarations import Export, User
from exports.exceptions import ExportError, TooManyRows
from exports.filters import FilterValues
from exports.formats.base import Format
from exports.formats.registry import choose_format
from exports.models import ExportRun
from exports.pipeline import ClosingStream, choose_source, drop_connections, export_chunks
from exports.postgres.session import read_snapshot
from exports.sources.copy import CopyPlan

logger = logging.getLogger("exports")

Surface = ExportRun.Surface
Outcome = ExportRun.Outcome
ProgressHook = Callable[["Run"], None]


@dataclass(frozen=True, kw_only=True)
class ExportRequest:
    """A checked request for an export: the final rows and columns, and the export's options resolved."""

    export: Export
    queryset: models.QuerySet[Any]
    columns: tuple[ResolvedColumn, ...]
    filters: FilterValues
    surface: Surface
    user: User | None
    format: Format  # in its dialect
    chunk_size: int
    formula_escaping: bool  # the export's setting, in a format a spreadsheet could run
    copy: bool
    #: For the audit record: the rows a surface chose itself (the admin's changelist), as an SQL condition.
    selection: str = ""

    @property
    def header(self) -> list[str]:
        return self.format.header(self.columns)

    def count(self) -> int:
        """How many rows the export will write (one ``COUNT`` query)."""
        return self.queryset.count()

    def filename(self) -> str:
        return self.export.get_filename(extension=self.format.extension)

    def source(self) -> CopyPlan | str:
        """The COPY plan for this request, or why its rows are read through the ORM instead."""
        tz, escape = export_time_zone(), self.formula_escaping
        return choose_source(self.queryset, self.columns, format=self.format, copy=self.copy, escape=escape, tz=tz)

    def start(self) -> Run:
        """Claim the user's slot and record the start; raises :class:`~exports.exceptions.ExportBusy`."""
        record = audit.start(
            export_name=self.export.name,
            surface=self.surface,
            user=self.user,
            filters=self.filters.as_strings(),
            selection=self.selection,
            columns=[column.key for column in self.columns],
            format=self.format.name,
            dialect=self.format.dialect or "",
        )
        run = Run(self, record)
        run.signal(signals.export_started, Outcome.RUNNING)
        return run


def prepare(
    export: Export,
    *,
    surface: Surface | str,
    user: User | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    columns: Sequence[str] | None = None,
    queryset: models.QuerySet[Any] | None = None,
    ordering: Sequence[Any] | None = None,
    chunk_size: int | None = None,
    format: str | None = None,
    dialect: str | None = None,
) -> ExportRequest:
    """Check a request for ``export``; raises :class:`~exports.exceptions.ExportError` with the reasons.

    The rows are ``export.get_queryset(user)``, filtered by ``filters`` (parameter -> values, checked against the
    export's filters), limited to ``queryset`` (a surface's own selection: the admin's changelist) and ordered by
    ``ordering`` (default: the export's); ``columns`` names the optional columns; ``format`` and ``dialect`` choose
    the format. Permission is the surface's to check, before this.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ExportError(f"The chunk size must be a positive number, not {chunk_size}.")
    chosen = choose_format(format, dialect=dialect, allowed=export.formats, default_dialect=export.dialect)
    filter_values = export.parse_filters(filters or {})
    selected = export.select_columns(columns)
    scoped = export.get_queryset(user)
    if queryset is not None:
        scoped = scoped.filter(pk__in=queryset.order_by().values("pk"))
    rows = export.order(filter_values.apply(scoped), ordering)
    limits.check_row_count(rows, limit=limits.row_limit(export.max_rows), name=export.name)
    return ExportRequest(
        export=export,
        queryset=rows,
        columns=tuple(selected),
        filters=filter_values,
        surface=Surface(surface),
        user=user,
        format=chosen,
        chunk_size=chunk_size or export.chunk_size or app_settings.CHUNK_SIZE,
        formula_escaping=chosen.escapes_formulas
        and (app_settings.FORMULA_ESCAPING if export.formula_escaping is None else export.formula_escaping),
        copy=app_settings.COPY if export.copy is None else export.copy,
        selection="" if queryset is None else audit.describe_selection(queryset),
    )


class Run:
    """A started run: its audit record and slot, held until :meth:`end`, which happens exactly once."""

    def __init__(self, request: ExportRequest, record: ExportRun | None) -> None:
        self.request = request
        self.record = record
        self.rows_sent = self.bytes_sent = 0  # streamed so far: for progress, logs and the audit record
        self.ended = self._streaming = False
        #: While a ``with`` block holds the run, the stream's ending waits for the block's (a file is renamed there).
        self._held = False
        self._pending: tuple[Outcome, str] | None = None

    def __enter__(self) -> Run:
        self._held = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._held = False
        if error is not None:
            self.end(_outcome_of(error), type(error).__name__)
        elif self._pending is not None:
            self.end(*self._pending)
        elif not self._streaming:  # started, then left without a stream to end it
            self.end(Outcome.ABORTED)

    def end(self, outcome: Outcome, error: str = "") -> None:
        """Finish the audit record and free the slot, unless the run has ended already."""
        if self.ended:
            return
        self.ended = True
        if self.record is not None:
            audit.finish(self.record, outcome=outcome, rows=self.rows_sent, size=self.bytes_sent, error=error)
        self.signal(signals.export_finished, outcome, error)

    def signal(self, signal: Signal, outcome: Outcome, error: str = "") -> None:
        """Send ``export_started`` or ``export_finished`` (see :mod:`exports.signals`); never raises."""
        request, record = self.request, self.record if app_settings.AUDIT else None
        about = {"run": record, "user": request.user, "surface": request.surface, "outcome": outcome, "error": error}
        sizes = {"rows": self.rows_sent, "bytes": self.bytes_sent, "format": signals.format_name(request)}
        signals.send(signal, request.export, **about, **sizes)

    def stream_ended(self, outcome: Outcome, error: str = "") -> None:
        """The stream's ending: the run's, unless a ``with`` block holds the run (its exit ends it then)."""
        if self._held:
            self._pending = self._pending or (outcome, error)
        else:
            self.end(outcome, error)

    def stream(self, *, on_progress: ProgressHook | None = None) -> Generator[bytes, None, None]:
        """The file as chunks of about ``EXPORTS_BUFFER_SIZE`` bytes, header first. Stream it once.

        ``on_progress`` is called with the run once before the first row, inside the run's snapshot (the moment for
        a ``count()``), then after each batch of rows. Closing the stream, even before its first chunk, ends the run.
        """
        self._streaming = True
        return ClosingStream(self._stream(on_progress), on_close=lambda: self.stream_ended(Outcome.ABORTED))

    def _stream(self, on_progress: ProgressHook | None) -> Generator[bytes, None, None]:
        request = self.request
        limit = limits.row_limit(request.export.max_rows)
        outcome, error = Outcome.FAILED, ""
        try:
            with read_snapshot(request.queryset.db):
                if on_progress is not None:
                    on_progress(self)
                chunks = export_chunks(
                    request.queryset,
                    request.columns,
                    format=request.format,
                    header=request.header,
                    source=request.source(),
                    chunk_size=request.chunk_size,
                    escape=request.formula_escaping,
                    tz=export_time_zone(),
                )
                try:
                    for chunk, rows in chunks:
                        self.rows_sent += rows
                        if on_progress is not None:
                            on_progress(self)
                        if limit is not None and self.rows_sent > limit:
                            # Rows were added since the count that let the export start: fail rather than truncate.
                            raise TooManyRows(
                                f"The export {request.export.name!r} grew beyond its limit of {limit:,} rows."
                            )
                        self.bytes_sent += len(chunk)
                        yield chunk
                finally:
                    # The cursor closes inside the snapshot's transaction, before it ends.
                    chunks.close()
            outcome = Outcome.COMPLETED
        except BaseException as exception:
            outcome, error = _outcome_of(exception), type(exception).__name__
            name, rows, user, surface = request.export.name, self.rows_sent, request.user, request.surface
            if outcome == Outcome.ABORTED:
                logger.info("Export %r stopped by the client after %d rows (user %s, %s)", name, rows, user, surface)
            else:
                logger.exception("Export %r failed after %d rows (user %s, %s)", name, rows, user, surface)
            raise
        finally:
            self.stream_ended(outcome, "" if outcome == Outcome.ABORTED else error)
            if outcome == Outcome.FAILED:
                drop_connections({request.queryset.db, router.db_for_write(ExportRun)})


def _outcome_of(error: BaseException) -> Outcome:
    # The client went away (the stream was closed, or the command's reader, as `head` does), or the command's user
    # pressed Ctrl-C or sent SIGTERM: the run was stopped, it did not fail.
    stopped = isinstance(error, GeneratorExit | KeyboardInterrupt | SystemExit)
    return Outcome.ABORTED if stopped else Outcome.FAILED
