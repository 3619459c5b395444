"""``manage.py exports_cleanup [--dry-run]``: tidy what runs that never ended left behind (for cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from exports.slots import release_lost_runs


class Command(BaseCommand):
    # Lazy: argparse formats it when --help prints it, in the language active then.
    help = gettext_lazy(  # type: ignore[assignment]
        "Mark as failed the runs still recorded as running whose process has ended on this host, or that started "
        "longer than EXPORTS_STALE_AFTER ago, and so free their users' slots. Every run's start does the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("Say what would be done, and change nothing."))

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        count = release_lost_runs(dry_run=dry_run)
        if verbosity > 0:
            if dry_run:
                message = ngettext(
                    "Would mark %(count)d lost run as failed.", "Would mark %(count)d lost runs as failed.", count
                )
            else:
                message = ngettext(
                    "Marked %(count)d lost run as failed.", "Marked %(count)d lost runs as failed.", count
                )
            self.stdout.write(message % {"count": count})
