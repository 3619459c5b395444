"""The arguments of ``manage.py export``, and what they become for a request: the user, the filters, the output's
format. Their help is translated when the parser is made, in the language active then (``settings.LANGUAGE_CODE`` at
the shell)."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.utils.translation import gettext as _

from exports.columns import parse_column_keys
from exports.declarations import Export
from exports.exceptions import ExportError
from exports.formats.registry import extensions_to_names
from exports.registry import registry
from exports.runs import ExportRequest, Surface, prepare


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("name", help=_("The export's registered name (see --list)."), nargs="?")
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        help=_(
            "The file to write; '-' (the default) is stdout. Its suffix chooses the format (.csv, .tsv, .jsonl, "
            ".xlsx); a text format's name may end in .gz to gzip it. The file appears only once the export is whole."
        ),
    )
    parser.add_argument(
        "--format",
        dest="format_name",
        metavar="FORMAT",
        help=_("The format (csv, tsv, jsonl, xlsx...), when the output's suffix does not say (stdout: csv)."),
    )
    parser.add_argument(
        "--dialect",
        help=_("The CSV dialect: unix (comma, LF), excel (BOM, comma, CRLF), excel-semicolon (BOM, ;)."),
    )
    parser.add_argument(
        "-f",
        "--filter",
        dest="filters",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_("A filter the export allows, as in its URL's query string; repeat for more."),
    )
    parser.add_argument(
        "--columns",
        help=_("Comma-separated optional columns to include (the default: those the export ticks)."),
    )
    parser.add_argument("--chunk-size", type=int, help=_("Rows fetched per database round trip."))
    parser.add_argument(
        "--user",
        dest="username",
        metavar="USERNAME",
        help=_(
            "Run as this user: the export's permission, its rows for that user (Export.get_queryset(user)) and "
            "the user's concurrency limit apply, and the audit record names them. Without it the command runs as "
            "the operator, who has shell access: every row of the export (get_queryset(None)), and the record "
            "names the operating-system user."
        ),
    )
    parser.add_argument(
        "--list",
        dest="list_exports",
        action="store_true",
        help=_(
            "List the registered exports, each with its filters (and the values a choice takes) and optional "
            "columns, and exit."
        ),
    )
    parser.add_argument(
        "--json",
        dest="as_json",
        action="store_true",
        help=_("With --list: the same as JSON, for scripts."),
    )
    parser.add_argument(
        "--language",
        metavar="CODE",
        help=_(
            "The language of the messages, the column headers and --list (default: settings.LANGUAGE_CODE). The "
            "values are written the same in every language."
        ),
    )


def output_format(output: str, format_name: str | None) -> tuple[bool, str | None]:
    """Whether the output is gzipped, and the format its name or ``--format`` asks for (``None``: the default)."""
    compressed = output != "-" and output.lower().endswith(".gz")
    base = output[:-3] if compressed else output
    stem, dot, suffix = os.path.basename(base).rpartition(".")
    named = extensions_to_names().get(suffix.lower()) if dot and stem and output != "-" else None
    if format_name is not None and named is not None and named != format_name:
        raise CommandError(
            _("%(output)s names a %(named)s file, but --format is %(format)s.")
            % {"output": output, "named": named, "format": format_name}
        )
    return compressed, format_name or named


def user_named(username: str, export: Export) -> Any:
    try:
        user = get_user_model()._default_manager.get_by_natural_key(username)
    except ObjectDoesNotExist:
        raise CommandError(_("No user is called %(name)s.") % {"name": repr(username)}) from None
    if not export.has_permission(user):
        raise CommandError(
            _("The user %(user)s may not run the export %(name)s.")
            % {"user": repr(username), "name": repr(export.name)}
        )
    return user


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(_("--filter takes KEY=VALUE, not %(item)s.") % {"item": repr(item)})
        filters.setdefault(key.strip(), []).append(value)
    return filters


def checked_request(
    name: str,
    *,
    format_name: str | None,
    dialect: str | None,
    filters: list[str],
    columns: str | None,
    chunk_size: int | None,
    username: str | None,
) -> ExportRequest:
    """The command's request, checked by :func:`~exports.runs.prepare`; a :class:`CommandError` with the reasons."""
    try:
        export = registry.get(name)
        user = user_named(username, export) if username is not None else None
        return prepare(
            export,
            surface=Surface.COMMAND,
            user=user,
            filters=parse_filters(filters),
            columns=parse_column_keys([columns]) if columns is not None else None,
            chunk_size=chunk_size,
            format=format_name,
            dialect=dialect,
        )
    except ExportError as error:
        raise CommandError(" ".join(error.messages)) from None


def check_target(stdout: OutputWrapper, output: str, *, compressed: bool, text: bool, name: str) -> None:
    """Refuse to gzip a format that is compressed already, or to write a binary one to a terminal."""
    if text:
        return
    if compressed:
        raise CommandError(
            _("%(output)s: .gz applies to text formats; %(format)s is compressed already.")
            % {"output": output, "format": name}
        )
    if output == "-" and (getattr(stdout._out, "buffer", None) is None or stdout.isatty()):
        raise CommandError(
            _("Not writing %(format)s to a terminal: give -o FILE, or pipe the output.") % {"format": name}
        )
