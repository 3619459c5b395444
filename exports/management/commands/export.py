"""``manage.py export NAME [-o PATH | -] [--format F] [--dialect D] [--filter KEY=VALUE ...]``: an export to stdout
or a file, in the format the file's name ends with (``.csv``, ``.tsv``, ``.jsonl``, ``.xlsx``; text ones also
``.gz``) or ``--format`` names."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Generator
from typing import Any, BinaryIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from exports import catalog, files
from exports.exceptions import ExportError
from exports.management import background as background_jobs
from exports.management.arguments import add_arguments, check_target, checked_request, output_format
from exports.management.interrupts import Stopping, Terminated, stop_on_signals
from exports.management.progress import Progress
from exports.registry import registry
from exports.runs import Run

#: The exit status of a command whose reader went away (as a shell reports a process killed by SIGPIPE).
BROKEN_PIPE_STATUS = 141
#: The exit status of a command ended by SIGTERM (as a shell reports a process killed by it).
TERMINATED_STATUS = 128 + signal.SIGTERM


class Command(BaseCommand):
    # Lazy: argparse formats it when --help prints it, in the language active then.
    help = gettext_lazy(  # type: ignore[assignment]
        "Write a registered export (CSV, TSV, JSON Lines, XLSX) to stdout or a file (written whole or not at all)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # A bad argument is one line on stderr, like every other error of this command (--help still shows usage).
        parser.print_usage = _no_usage  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        background_jobs.add_arguments(parser)

    def handle(self, *args: Any, language: str | None, **options: Any) -> None:
        # Django runs a command with translations off; the messages, the headers and the labels of --list are in this
        # language (the choices' labels too, as the file writes them). The values in the file are not translated.
        try:
            code = translation.get_supported_language_variant(language or settings.LANGUAGE_CODE)
        except LookupError:
            # Said in English: the language asked for is the one that cannot be used.
            codes = ", ".join(code for code, _name in settings.LANGUAGES)
            raise CommandError(f"--language: {language!r} is not one of settings.LANGUAGES ({codes}).") from None
        with translation.override(code):
            self._handle(**options)

    def _handle(
        self,
        *,
        name: str | None,
        output: str,
        format_name: str | None,
        dialect: str | None,
        filters: list[str],
        columns: str | None,
        chunk_size: int | None,
        username: str | None,
        list_exports: bool,
        as_json: bool,
        verbosity: int,
        background: bool = False,
        list_jobs: bool = False,
        **ignored: Any,
    ) -> None:
        if list_exports:
            self._list(as_json=as_json)
            return
        if as_json:
            raise CommandError(_("--json goes with --list."))
        if list_jobs:
            self.stdout.write("\n".join(background_jobs.recent_jobs()))
            return
        if not name:
            raise CommandError(_("Name an export (see --list)."))
        if background:
            request = checked_request(
                name,
                format_name=output_format(output, format_name)[1],
                dialect=dialect,
                filters=filters,
                columns=columns,
                chunk_size=chunk_size,
                username=username,
            )
            line, created = background_jobs.queue(request, filters=filters, columns=columns)
            self.stdout.write(line)
            if not created:
                self.stderr.write(_("The same export is already queued or running: that job is shown."))
            return
        # Ctrl-C and SIGTERM (``kill``, a container or a service stopping) end the run alike: aborted, no file.
        with stop_on_signals() as stopping:
            try:
                run = self._export(
                    stopping,
                    name,
                    output=output,
                    format_name=format_name,
                    dialect=dialect,
                    filters=filters,
                    columns=columns,
                    chunk_size=chunk_size,
                    username=username,
                    verbosity=verbosity,
                )
                interrupted: type[KeyboardInterrupt] | None = None
            except KeyboardInterrupt as error:
                # Raised outside this block: the interrupt's traceback holds the database cursor's frames, which must
                # be released (and the cursor closed) while the connection is still open.
                interrupted = type(error)
        if interrupted is Terminated:
            raise CommandError(_("Terminated; nothing was written."), returncode=TERMINATED_STATUS)
        if interrupted is not None:
            raise CommandError(_("Interrupted; nothing was written."), returncode=130)
        if verbosity > 1:
            message = ngettext(
                "Wrote %(rows)s row (%(bytes)s bytes).", "Wrote %(rows)s rows (%(bytes)s bytes).", run.rows_sent
            )
            self.stderr.write(message % {"rows": f"{run.rows_sent:,}", "bytes": f"{run.bytes_sent:,}"})

    def _list(self, *, as_json: bool) -> None:
        exports = [catalog.describe(export) for export in registry]
        if as_json:
            self.stdout.write(json.dumps(exports, ensure_ascii=False, indent=2))
            return
        for description in exports:
            self.stdout.write("\n".join(catalog.as_text(description)))

    def _export(
        self,
        stopping: Stopping,
        name: str,
        *,
        output: str,
        format_name: str | None,
        dialect: str | None,
        filters: list[str],
        columns: str | None,
        chunk_size: int | None,
        username: str | None,
        verbosity: int,
    ) -> Run:
        compressed, chosen = output_format(output, format_name)
        request = checked_request(
            name,
            format_name=chosen,
            dialect=dialect,
            filters=filters,
            columns=columns,
            chunk_size=chunk_size,
            username=username,
        )
        check_target(self.stdout, output, compressed=compressed, text=request.format.text, name=request.format.name)
        try:
            run = request.start()
        except ExportError as error:
            raise CommandError(" ".join(error.messages)) from None
        progress = Progress(self.stderr._out, run) if verbosity > 0 and self.stderr.isatty() else None
        on_progress = progress.update if progress is not None else None
        try:
            with run:
                chunks = stopping.disarm_at_end(run.stream(on_progress=on_progress))
                if output == "-":
                    self._to_stdout(chunks)
                else:
                    files.write_atomically(output, chunks)
        except OSError as error:
            raise CommandError(
                _("Cannot write %(path)s: %(reason)s.") % {"path": output, "reason": error.strerror or error}
            ) from None
        finally:
            if progress is not None:
                progress.finish()
        return run

    def _to_stdout(self, chunks: Generator[bytes, None, None]) -> None:
        target: BinaryIO | None = getattr(self.stdout._out, "buffer", None)
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


def _no_usage(file: Any = None) -> None:
    pass
