"""Exports the admin prepares in the background: "Prepare the file in the background" on the column page, and
"Export all matching" above ``EXPORTS_BACKGROUND_THRESHOLD`` rows. The job carries the changelist's query string
(its filters, search and date hierarchy), never a list of rows; the worker builds the same changelist again, as the
user, when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, PAGE_VAR
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from exports import jobs
from exports.conf import app_settings
from exports.runs import ExportRequest

if TYPE_CHECKING:
    _Base = admin.ModelAdmin[Any]
else:
    _Base = object

#: The column page's button that asks for the background.
BACKGROUND_FIELD = "exports_background"


class BackgroundMixin(_Base):
    """The background half of :class:`~exports.admin.actions.ExportActionMixin`."""

    def wants_background(self, request: HttpRequest, export_request: ExportRequest, *, chosen: bool) -> bool:
        """The user pressed "Prepare the file in the background", or chose nothing and the rows are many."""
        if request.method == "POST" and BACKGROUND_FIELD in request.POST:
            return True
        threshold = app_settings.BACKGROUND_THRESHOLD
        return not chosen and threshold is not None and export_request.count() > threshold

    def background_default(self, count: int) -> bool:
        """Whether the column page makes "Prepare the file in the background" its default button."""
        threshold = app_settings.BACKGROUND_THRESHOLD
        return threshold is not None and count > threshold

    def queue_export(
        self, request: HttpRequest, export_request: ExportRequest, *, columns: list[str] | None, changelist_url: str
    ) -> HttpResponseRedirect:
        job, created = jobs.submit(
            export_request,
            columns=columns,
            selection=self._selection_query(request),
            admin=f"{self.admin_site.name}:{self.opts.label_lower}",
        )
        my_exports = reverse(f"{self.admin_site.name}:exports_exportjob_changelist", current_app=self.admin_site.name)
        text = (
            _("The file is being prepared in the background")
            if created
            else _("The same export is already being prepared")
        )
        self.message_user(
            request,
            format_html('{}: <a href="{}">{}</a>.', text, my_exports, _("My exports")),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(changelist_url)

    def _selection_query(self, request: HttpRequest) -> str:
        """The changelist's filters and sort as a query string; for rows ticked one by one (a page at most), their keys
        too."""
        params: QueryDict = request.GET.copy()
        for name in (PAGE_VAR, ALL_VAR, ERROR_FLAG):
            params.pop(name, None)
        ticked = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if request.method == "POST" else []
        if ticked and request.POST.get("select_across") != "1":
            params[f"{self.opts.pk.attname}__in"] = ",".join(ticked)
        return params.urlencode()
