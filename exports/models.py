"""The audit record of an export run: who ran which export, from where, with what, how far it got, how it ended.

A record is written when a run starts and finished when it ends (whatever the ending); it never holds the exported
data, only the filters, the selection and the column names. While it runs, the record is also the user's slot in the
concurrency limit (``EXPORTS_MAX_CONCURRENT_PER_USER``): see :mod:`exports.limits`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ExportRun(models.Model):
    """One run of one export, from the download URL, the admin or the ``export`` command."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        ABORTED = "aborted", _("Aborted by the client")
        FAILED = "failed", _("Failed")

    class Surface(models.TextChoices):
        URL = "url", _("Download URL")
        ADMIN = "admin", _("Admin")
        COMMAND = "command", _("Command")

    export_name = models.CharField(_("export"), max_length=200, db_index=True)
    surface = models.CharField(_("surface"), max_length=16, choices=Surface.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Kept when the user is deleted; the operating-system user for a command run without ``--user``.
    username = models.CharField(_("username"), max_length=150, blank=True)
    filters = models.JSONField(
        _("filters"), default=dict, blank=True, help_text=_("The validated filters, as query-string values.")
    )
    selection = models.TextField(
        _("selection"), blank=True, help_text=_("The rows a surface chose itself (the admin's changelist).")
    )
    columns = models.JSONField(_("columns"), default=list, blank=True)
    #: The format's name (``csv``, ``xlsx``...) and, for a format that has them, its dialect.
    format = models.CharField(_("format"), max_length=32, default="csv")
    dialect = models.CharField(_("dialect"), max_length=32, blank=True)
    rows_sent = models.BigIntegerField(_("rows sent"), default=0)
    bytes_sent = models.BigIntegerField(_("bytes sent"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration = models.DurationField(_("duration"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    #: The exception's class only: its message could quote the data.
    error = models.CharField(_("error"), max_length=200, blank=True)
    #: The concurrency slot a running export holds (``None``: no limit applied).
    slot = models.PositiveSmallIntegerField(_("slot"), null=True, blank=True, editable=False)
    host = models.CharField(_("host"), max_length=255, blank=True, editable=False)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("export run")
        verbose_name_plural = _("export runs")
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
        return gettext("%(export)s by %(user)s at %(started)s") % {
            "export": self.export_name,
            "user": self.username or gettext("nobody"),
            "started": f"{self.started_at:%Y-%m-%d %H:%M:%S}",
        }


# The records of background jobs live in their own module; importing them here registers them with the app.
from exports.job_models import ExportDownload, ExportJob  # noqa: E402

__all__ = ["ExportDownload", "ExportJob", "ExportRun"]
