"""The audit trail in the admin: export runs, to read and filter, never to add, change or delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from exports.models import ExportRun

if TYPE_CHECKING:
    ExportRunAdminBase = admin.ModelAdmin[ExportRun]
else:
    ExportRunAdminBase = admin.ModelAdmin


class ExportRunAdmin(ExportRunAdminBase):
    """Read-only: an audit record is written by the run it records, and by nothing else."""

    list_display = (
        "started_at",
        "export_name",
        "username",
        "surface",
        "format",
        "outcome",
        "rows_sent",
        "bytes_sent",
        "duration",
    )
    list_filter = ("outcome", "surface", "format", "export_name", "started_at")
    search_fields = ("export_name", "username")
    date_hierarchy = "started_at"
    fields = (
        "export_name",
        "surface",
        "user",
        "username",
        "filters",
        "selection",
        "columns",
        "format",
        "dialect",
        "outcome",
        "error",
        "rows_sent",
        "bytes_sent",
        "started_at",
        "finished_at",
        "duration",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
