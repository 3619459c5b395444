"""The arguments of ``manage.py export``; their help is translated when the parser is made, in the language active
then (``settings.LANGUAGE_CODE`` at the shell)."""

from __future__ import annotations

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("name", help=_("The export's registered name (see --list)."), nargs="?")
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        help=_(
            "The file to write; '-' (the default) is stdout. A name ending in .gz is gzip-compressed. The file "
            "appears only when the export is complete."
        ),
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
