"""``manage.py export NAME [-o PATH | -] [--filter KEY=VALUE ...]``: an export to stdout or a file."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, BinaryIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from exports import Export, files, jobs
from exports.columns import parse_column_keys
from exports.exceptions import ExportError
from exports.job_models import ExportJob
from exports.registry import registry
from exports.runs import Run, Surface, prepare

#: The exit status of a command whose reader went away (as a shell reports a process killed by SIGPIPE).
BROKEN_PIPE_STATUS = 141


class Command(BaseCommand):
    help = "Write a registered export as CSV to stdout or to a file (written whole or not at all)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # A bad argument is one line on stderr, like every other error of this command (--help still shows usage).
        parser.print_usage = _no_usage  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The export's registered name (see --list).", nargs="?")
        parser.add_argument(
            "-o",
            "--output",
            default="-",
            help="The file to write; '-' (the default) is stdout. A name ending in .gz is gzip-compressed. The file "
            "appears only when the export is complete.",
        )
        parser.add_argument(
            "-f",
            "--filter",
            dest="filters",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A filter the export allows, as in its URL's query string; repeat for more.",
        )
        parser.add_argument(
            "--columns",
            help="Comma-separated optional columns to include (the default: those the export ticks).",
        )
        parser.add_argument("--chunk-size", type=int, help="Rows fetched per database round trip.")
        parser.add_argument(
            "--user",
            dest="username",
            metavar="USERNAME",
            help="Run as this user: the export's permission and the user's concurrency limit apply, and the audit "
            "record names them (without it, the record names the operating-system user).",
        )
        parser.add_argument(
            "--list", dest="list_exports", action="store_true", help="List the registered exports and exit."
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Queue the export as a background job (run by a worker, stored, downloaded from its status URL) "
            "and print its id and status URL.",
        )
        parser.add_argument(
            "--jobs", dest="list_jobs", action="store_true", help="List the recent background jobs and exit."
        )

    def handle(
        self,
        *args: Any,
        name: str | None,
        output: str,
        filters: list[str],
        columns: str | None,
        chunk_size: int | None,
        username: str | None,
        list_exports: bool,
        background: bool = False,
        list_jobs: bool = False,
        verbosity: int,
        **options: Any,
    ) -> None:
        if list_exports:
            for export in registry:
                self.stdout.write(f"{export.name}\t{export.label}")
            return
        if list_jobs:
            return self._list_jobs()
        if not name:
            raise CommandError("Name an export (see --list).")
        try:
            export = registry.get(name)
            user = _user(username, export) if username is not None else None
            request = prepare(
                export,
                surface=Surface.COMMAND,
                user=user,
                filters=_parse_filters(filters),
                columns=parse_column_keys([columns]) if columns is not None else None,
                chunk_size=chunk_size,
            )
            if background:
                return self._queue(request, filters, columns)
            run = request.start()
        except ExportError as error:
            raise CommandError(" ".join(error.messages)) from None
        progress = Progress(self.stderr._out, run) if verbosity > 0 and self.stderr.isatty() else None
        on_progress = progress.update if progress is not None else None
        interrupted = False
        try:
            with run:
                if output == "-":
                    self._to_stdout(run, on_progress)
                else:
                    files.write_atomically(output, run.stream(on_progress=on_progress))
        except KeyboardInterrupt:
            # Raise outside this block: the interrupt's traceback holds the database cursor's frames, which must be
            # released (and the cursor closed) while the connection is still open.
            interrupted = True
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from None
        finally:
            if progress is not None:
                progress.finish()
        if interrupted:
            raise CommandError("Interrupted; nothing was written.", returncode=130)
        if verbosity > 1:
            self.stderr.write(f"Wrote {run.rows_sent:,} rows ({run.bytes_sent:,} bytes).")

    def _to_stdout(self, run: Run, on_progress: Any) -> None:
        target: BinaryIO | None = getattr(self.stdout._out, "buffer", None)
        chunks = run.stream(on_progress=on_progress)
        try:
            for chunk in chunks:
                if target is not None:
                    target.write(chunk)
                else:  # a text stream (call_command(stdout=StringIO()))
                    self.stdout.write(chunk.decode(), ending="")
            if target is not None:
                target.flush()
        except BrokenPipeError:
            chunks.close()
            # The reader (``head``) has what it wanted. Point stdout at /dev/null so the interpreter's final flush
            # cannot raise again, and leave quietly with the status a shell expects of a broken pipe.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(BROKEN_PIPE_STATUS) from None

    def _queue(self, request: Any, filters: list[str], columns: str | None) -> None:
        chosen = parse_column_keys([columns]) if columns is not None else None
        job, created = jobs.submit(request, filters=_parse_filters(filters), columns=chosen)
        self.stdout.write(f"{job.pk}\t{reverse('exports:job', args=[job.pk])}")
        if not created:
            self.stderr.write("The same export is already queued or running: that job is shown.")

    def _list_jobs(self) -> None:
        for job in ExportJob.objects.order_by("-created_at")[:20]:
            total = f"/{job.rows_total}" if job.rows_total is not None else ""
            self.stdout.write(
                f"{job.pk}\t{job.state}\t{job.export_name}\t{job.username or '-'}\t{job.rows_done}{total} rows\t"
                f"{job.created_at:%Y-%m-%d %H:%M:%S}\t{reverse('exports:job', args=[job.pk])}"
            )


def _no_usage(file: Any = None) -> None:
    pass


def _user(username: str, export: Export) -> Any:
    try:
        user = get_user_model()._default_manager.get_by_natural_key(username)
    except ObjectDoesNotExist:
        raise CommandError(f"No user is called {username!r}.") from None
    if not export.has_permission(user):
        raise CommandError(f"The user {username!r} may not run the export {export.name!r}.")
    return user


def _parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--filter takes KEY=VALUE, not {item!r}.")
        filters.setdefault(key.strip(), []).append(value)
    return filters


class Progress:
    """A one-line progress report on a terminal: rows done of the total, and the rate."""

    def __init__(self, stream: Any, run: Run) -> None:
        self.stream = stream
        self.run = run
        #: Counted in the first update, which comes before the first row inside the run's snapshot, so that it agrees
        #: with the rows written (and runs before a COPY takes the connection).
        self.total: int | None = None
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, run: Run) -> None:
        if self.total is None:
            self.total = run.request.count()
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        self._write(run.rows_sent, now)

    def finish(self) -> None:
        self._write(self.run.rows_sent, time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _write(self, rows: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        total = f" / {self.total:,}" if self.total is not None else ""
        percent = f" ({rows / self.total:.0%})" if self.total else ""
        self.stream.write(f"\r{rows:,}{total} rows{percent}, {rows / elapsed:,.0f} rows/s ")
        self.stream.flush()
