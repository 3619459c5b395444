"""The records of background exports: a job (what was asked, how far it got, where its file is) and each download
of its file.

A job stores what a worker needs to run the export again from scratch, never the data: the export's name, the
validated filters (or the admin's changelist query string), the columns and the format. Every change of state is a
compare-and-set ``UPDATE ... WHERE state = <expected>``, so two workers, a cancel and the stale-job sweep can never
both win: see :mod:`exports.jobs`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

#: The surfaces a job can be asked for from (the same as :class:`exports.models.ExportRun`'s).
SURFACES = [("url", "Download URL"), ("admin", "Admin"), ("command", "Command")]


class ExportJob(models.Model):
    """One export prepared in the background into a stored file, for its owner to download until it expires."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    #: The id in the job's links: random (UUID 4), so a link cannot be guessed from another.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    export_name = models.CharField("export", max_length=200)
    format = models.CharField(max_length=16, default="csv")
    #: The format's dialect (CSV's), empty for a format without dialects.
    dialect = models.CharField(max_length=32, blank=True)
    #: The language active when the job was asked for: the worker writes the file (its headers, its choices) in it.
    language = models.CharField(max_length=35, blank=True)
    surface = models.CharField(max_length=16, choices=SURFACES)
    filters = models.JSONField(default=dict, blank=True, help_text="The validated filters: parameter -> values.")
    #: The admin's changelist query string (its filters, search and date hierarchy), never a list of rows.
    selection = models.TextField(blank=True)
    #: The admin site and model whose changelist ``selection`` filters (``admin:orders.order``).
    admin = models.CharField(max_length=200, blank=True)
    columns = models.JSONField(null=True, blank=True, help_text="The optional columns asked for; null: the defaults.")
    #: Identical requests of one user share it: a second click returns the job still queued or running.
    fingerprint = models.CharField(max_length=64, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    bytes_written = models.BigIntegerField(default=0)
    #: The stored file's name in ``STORAGES["exports"]``; set only once the file is complete.
    file = models.CharField(max_length=300, blank=True)
    filename = models.CharField(max_length=255, blank=True, help_text="The name the download is saved as.")
    #: Why the job failed, in words fit to show its owner (never the data).
    error = models.CharField(max_length=500, blank=True)
    run = models.ForeignKey("exports.ExportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    #: How many times a worker took the job (a job waiting for its user's slot goes back to the queue).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "export file"
        verbose_name_plural = "my exports"
        ordering = ["-created_at"]
        permissions = [("view_all_export_files", "Can see and download every user's export files")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "fingerprint"],
                condition=models.Q(state__in=["queued", "running"]),
                name="exports_exportjob_one_live_job_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.export_name} for {self.username or 'nobody'} ({self.state})"

    @property
    def live(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}

    def is_expired(self) -> bool:
        return self.state == self.State.EXPIRED or (self.expires_at is not None and self.expires_at <= timezone.now())


class ExportDownload(models.Model):
    """One download (or refused download) of a job's stored file: who, when, how many bytes, how it ended."""

    class Outcome(models.TextChoices):
        SERVED = "served", "Served"
        GONE = "gone", "Expired"
        MISSING = "missing", "File missing"

    job = models.ForeignKey(ExportJob, null=True, on_delete=models.SET_NULL, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    size = models.BigIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        verbose_name = "export file download"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username or 'nobody'} at {self.at:%Y-%m-%d %H:%M:%S} ({self.outcome})"
