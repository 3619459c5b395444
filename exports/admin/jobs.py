""" "My exports" in the admin: the user's background exports, with a live progress bar, the download link, the expiry
and a cancel button. Every staff user sees their own jobs; a user with the "view all export files" permission sees
everyone's. Nothing here adds or changes a job, except a cancel by its owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exports import jobs
from exports.job_models import ExportJob

if TYPE_CHECKING:
    ExportJobAdminBase = admin.ModelAdmin[ExportJob]
else:
    ExportJobAdminBase = admin.ModelAdmin


class ExportJobAdmin(ExportJobAdminBase):
    """The changelist is "My exports"; its rows follow their jobs' state while they are queued or running."""

    change_list_template = "exports/admin/my_exports.html"
    list_filter = ("state", "export_name")
    list_display_links = None
    date_hierarchy = None
    fields = (
        "export_name",
        "format",
        "username",
        "surface",
        "filters",
        "selection",
        "columns",
        "state",
        "error",
        "rows_done",
        "rows_total",
        "bytes_written",
        "filename",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[ExportJob]:
        return jobs.visible_jobs(request.user)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        progress = _progress_column(request)
        everyone = request.user.has_perm(jobs.VIEW_ALL_PERMISSION)
        return ["created_at", "export_name", *(["username"] if everyone else []), progress, "expires_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and getattr(user, "is_staff", False))


def _progress_column(request: HttpRequest) -> Callable[[ExportJob], SafeString]:
    token = get_token(request)
    here = request.get_full_path()

    @admin.display(description=gettext_lazy("progress"))
    def progress(job: ExportJob) -> SafeString:
        status_url = reverse("exports:job", args=[job.pk])
        done = job.state == ExportJob.State.COMPLETED and not job.is_expired()
        percent = 100 if done else int(job.rows_done * 100 / job.rows_total) if job.rows_total else None
        bar = (
            format_html('<progress class="exports-progress" max="100" value="{}"></progress>', percent)
            if percent is not None
            else mark_safe('<progress class="exports-progress" max="100"></progress>')
        )
        cancel = (
            format_html(
                '<form class="exports-cancel" method="post" action="{}" style="display:inline">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" name="next" '
                'value="{}"><button type="submit" class="button">{}</button></form>',
                reverse("exports:job_cancel", args=[job.pk]),
                token,
                here,
                _("Cancel"),
            )
            if job.live and job.user_id == request.user.pk
            else ""
        )
        return format_html(
            '<div class="exports-job" data-state="{state}"{follow}>{bar} <span class="exports-job-state">{state}'
            '</span> · <span class="exports-rows">{rows}</span> {rows_label}'
            ' <span class="exports-download"{hidden}><a href="{download}">{download_label}</a></span>'
            ' <span class="exports-error">{error}</span> {cancel}</div>',
            state=job.state,
            follow=format_html(' data-status-url="{}"', status_url) if job.live else "",
            bar=bar,
            rows=f"{job.rows_done}" + (f" / {job.rows_total}" if job.rows_total else ""),
            rows_label=_("rows"),
            hidden="" if done else mark_safe(" hidden"),
            download=reverse("exports:job_download", args=[job.pk]) if done else "",
            download_label=_("Download %(name)s") % {"name": job.filename or _("the file")},
            error=job.error,
            cancel=cancel,
        )

    return progress
