"""``manage.py exports_cleanup``: delete the files of expired background exports and say what that freed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from exports import jobs


class Command(BaseCommand):
    help = (
        "Delete the stored files of background exports past their expiry (their links then answer 410 Gone), fail "
        "the jobs whose worker stopped, and delete temporary files that killed workers left behind."
    )

    def handle(self, *args: Any, verbosity: int, **options: Any) -> None:
        done = jobs.cleanup()
        if verbosity > 0:
            self.stdout.write(
                f"Deleted {done.expired} expired export file{'s' if done.expired != 1 else ''} and "
                f"{done.partial} temporary file{'s' if done.partial != 1 else ''}: {done.freed:,} bytes freed. "
                f"{done.stale} job{'s' if done.stale != 1 else ''} whose worker stopped marked failed."
            )
