"""The library's admin: the audit trail of export runs (read-only)."""

from __future__ import annotations

from django.contrib import admin

from exports.audit_admin import ExportRunAdmin
from exports.models import ExportRun

admin.site.register(ExportRun, ExportRunAdmin)
