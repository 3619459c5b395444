"""``manage.py exports_cleanup [--dry-run]``: tidy what runs that never ended left behind (for cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from exports.slots import release_lost_runs


class Command(BaseCommand):
    help = (
        "Mark as failed the runs still recorded as running whose process has ended on this host, or that started "
        "longer than EXPORTS_STALE_AFTER ago, and so free their users' slots. Every run's start does the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done, and change nothing.")

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        count = release_lost_runs(dry_run=dry_run)
        if verbosity > 0:
            runs = f"{count} lost run{'' if count == 1 else 's'}"
            self.stdout.write(f"Would mark {runs} as failed." if dry_run else f"Marked {runs} as failed.")
