"""The admin integration: :class:`ExportActionMixin` for a ``ModelAdmin``, and the audit trail of export runs."""

from __future__ import annotations

from django.contrib import admin

from exports.admin.actions import ExportActionMixin
from exports.admin.jobs import ExportJobAdmin
from exports.admin.picker import CHOSEN_FIELD, COLUMNS_FIELD
from exports.admin.runs import ExportRunAdmin
from exports.models import ExportJob, ExportRun

__all__ = ["CHOSEN_FIELD", "COLUMNS_FIELD", "ExportActionMixin", "ExportJobAdmin", "ExportRunAdmin"]

admin.site.register(ExportRun, ExportRunAdmin)
admin.site.register(ExportJob, ExportJobAdmin)
