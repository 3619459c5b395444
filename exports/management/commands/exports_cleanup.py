"""``manage.py exports_cleanup [--dry-run]``: tidy what runs that never ended and expired background exports left
behind (for cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from exports import jobs
from exports.slots import release_lost_runs


class Command(BaseCommand):
    # Lazy: argparse formats it when --help prints it, in the language active then.
    help = gettext_lazy(  # type: ignore[assignment]
        "Mark as failed the runs still recorded as running whose process has ended on this host, or that started "
        "longer than EXPORTS_STALE_AFTER ago, and so free their users' slots (every run's start does the same). "
        "Delete the stored files of background exports past their expiry (their links then answer 410 Gone), fail "
        "the jobs whose worker stopped, and delete temporary files that killed workers left behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("Say what would be done, and change nothing."))

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        count = release_lost_runs(dry_run=dry_run)
        done = jobs.cleanup(dry_run=dry_run)
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
            files = (
                f"{done.expired} expired export file{'s' if done.expired != 1 else ''} and "
                f"{done.partial} temporary file{'s' if done.partial != 1 else ''}"
            )
            stale = f"{done.stale} job{'s' if done.stale != 1 else ''} whose worker stopped"
            if dry_run:
                self.stdout.write(f"Would delete {files} ({done.freed:,} bytes) and mark {stale} failed.")
            else:
                self.stdout.write(f"Deleted {files}: {done.freed:,} bytes freed. {stale} marked failed.")
