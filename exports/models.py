"""The audit record of an export run: who ran which export, from where, with what, how far it got, how it ended.

A record is written when a run starts and finished when it ends (whatever the ending); it never holds the exported
data, only the filters, the selection and the column names. While it runs, the record is also the user's slot in the
concurrency limit (``EXPORTS_MAX_CONCURRENT_PER_USER``): see :mod:`exports.limits`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportRun(models.Model):
    """One run of one export, from the download URL, the admin or the ``export`` command."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        ABORTED = "aborted", "Aborted by the client"
        FAILED = "failed", "Failed"

    class Surface(models.TextChoices):
        URL = "url", "Download URL"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"

    export_name = models.CharField("export", max_length=200, db_index=True)
    surface = models.CharField(max_length=16, choices=Surface.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Kept when the user is deleted; the operating-system user for a command run without ``--user``.
    username = models.CharField(max_length=150, blank=True)
    filters = models.JSONField(default=dict, blank=True, help_text="The validated filters, as query-string values.")
    selection = models.TextField(blank=True, help_text="The rows a surface chose itself (the admin's changelist).")
    columns = models.JSONField(default=list, blank=True)
    #: The format's name (``csv``, ``xlsx``...) and, for a format that has them, its dialect.
    format = models.CharField(max_length=32, default="csv")
    dialect = models.CharField(max_length=32, blank=True)
    rows_sent = models.BigIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    #: The exception's class only: its message could quote the data.
    error = models.CharField(max_length=200, blank=True)
    #: The concurrency slot a running export holds (``None``: no limit applied).
    slot = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    host = models.CharField(max_length=255, blank=True, editable=False)
    pid = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "export run"
        verbose_name_plural = "export runs"
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Taking a slot is an INSERT that this constraint lets through only once per (user, slot): atomic across
            # threads, processes and hosts, with no lock held while the export streams.
            models.UniqueConstraint(
                fields=["user", "slot"],
                condition=models.Q(outcome="running"),
                name="exports_exportrun_one_run_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.export_name} by {self.username or 'nobody'} at {self.started_at:%Y-%m-%d %H:%M:%S}"


# The records of background jobs live in their own module; importing them here registers them with the app.
from exports.job_models import ExportDownload, ExportJob  # noqa: E402

__all__ = ["ExportDownload", "ExportJob", "ExportRun"]
