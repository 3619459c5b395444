"""The admin actions: "Export selected …", "Export all matching" and the export page (columns, format, dialect).

Add :class:`ExportActionMixin` to a ``ModelAdmin`` whose model has a registered export. Rows always come from the
changelist (``ModelAdmin.get_queryset(request)``, list filters, search, date hierarchy), limited to the export's own
rows for the user (``Export.get_queryset(user)``), and stream through the same pipeline and writer as the download
URL. What travels between pages is the changelist's query string, never a list of primary keys (except for rows
ticked one by one, at most a page of them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, PAGE_VAR
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import DataError, models
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from exports.admin.background import BACKGROUND_FIELD, BackgroundMixin
from exports.admin.picker import (
    CHOSEN_FIELD,
    changelist_ordering,
    chosen_options,
    describe_changelist,
    needs_picker,
    picker_context,
)
from exports.declarations import Export
from exports.exceptions import ExportError, ExportNotFound
from exports.registry import registry
from exports.responses import streaming_response
from exports.runs import Surface, prepare

if TYPE_CHECKING:
    _Base = admin.ModelAdmin[Any]
else:
    _Base = object

#: Changelist parameters that neither choose rows nor order them: "export all matching" leaves them behind (the sort
#: stays, and the export follows it).
_NOT_FILTERS = (PAGE_VAR, ALL_VAR, ERROR_FLAG)


class ExportActionMixin(BackgroundMixin, _Base):
    """Export from the changelist: ``class OrderAdmin(ExportActionMixin, admin.ModelAdmin)``.

    Adds the action "Export selected …" and an "Export all matching …" button to the changelist, for users with the
    export's permission; when the export has optional columns or more than one format, a page asks for them first.
    Set ``export_name`` when several exports read the model (default: the first registered). An admin that declares
    its own ``actions`` lists ``"export_as_csv"`` among them (the name predates the other formats); one with its own
    ``change_list_template`` extends ``"exports/admin/change_list.html"``.
    """

    export_name: str | None = None
    actions = ["export_as_csv"]
    change_list_template = "exports/admin/change_list.html"
    export_columns_template = "exports/admin/columns.html"

    def get_export(self) -> Export:
        """The export this admin runs; ``ImproperlyConfigured`` when there is none."""
        if self.export_name is not None:
            try:
                export = registry.get(self.export_name)
            except ExportNotFound as error:
                raise ImproperlyConfigured(f"{type(self).__name__}.export_name: {error}") from None
            if export.model_class is not self.model:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.export_name: {export!r} does not export {self.model._meta.label}."
                )
            return export
        found = registry.for_model(self.model)
        if not found:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: no export of {self.model._meta.label} is registered; declare one in an "
                "exports.py module, or remove ExportActionMixin."
            )
        return found[0]

    def has_export_permission(self, request: HttpRequest) -> bool:
        """Whether the user may export (the export's permission); the action and the button follow it."""
        return self.get_export().has_permission(request.user)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            self.get_export()
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), obj=type(self), id="exports.E020"))
        return errors

    # The two entry points -----------------------------------------------------------------------------------------

    # The name predates the other formats; admins list it in their own ``actions``.
    @admin.action(permissions=["export"], description=gettext_lazy("Export selected %(verbose_name_plural)s"))
    def export_as_csv(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> HttpResponseBase | None:
        """Stream the selected rows, or everything the changelist matches with "select all"."""
        if CHOSEN_FIELD in request.POST or not needs_picker(self.get_export()):
            return self._stream(request, queryset)
        if request.POST.get("select_across") == "1":
            # Everything matching: hand over to "export all matching" with the changelist's query string.
            criteria = describe_changelist(self.get_changelist_instance(request))
            return self._column_picker(request, self._export_all_url(request), queryset.count(), [], criteria)
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        hidden = [("action", "export_as_csv"), *((helpers.ACTION_CHECKBOX_NAME, pk) for pk in selected)]
        # The picker posts the selection back (with the CSRF token, its marker and the boxes); a form that Django
        # would refuse with HTTP 400 (TooManyFieldsSent) is not shown.
        fields = len(hidden) + 4 + sum(column.column.optional for column in self.get_export().resolved_columns)
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is not None and fields > limit:
            self.message_user(
                request,
                _(
                    "Too many rows are ticked to choose columns (%(count)d). Tick “Select all”, or use “Export all "
                    "matching”: they carry the list's filters instead of each row."
                )
                % {"count": len(selected)},
                messages.ERROR,
            )
            return None
        ticked = [(_("Rows"), _("ticked on the list"))]
        return self._column_picker(request, request.get_full_path(), queryset.count(), hidden, ticked)

    def export_all_view(self, request: HttpRequest) -> HttpResponseBase:
        """Stream every row the changelist shows for this query string, across all pages."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if not self.has_export_permission(request):
            self.message_user(request, _("You do not have permission to export these rows."), messages.ERROR)
            return HttpResponseRedirect(self._changelist_url(request))
        try:
            # Building the changelist counts its rows: any parameter the database refuses fails here, not mid-file.
            changelist = self.get_changelist_instance(request)
        except (IncorrectLookupParameters, FieldError, ValidationError, ValueError, OverflowError, DataError):
            self.message_user(request, _("The list's filters are not valid; nothing was exported."), messages.ERROR)
            return HttpResponseRedirect(self._changelist_url())
        if request.method == "GET" and needs_picker(self.get_export()):
            criteria = describe_changelist(changelist)
            return self._column_picker(request, request.get_full_path(), changelist.result_count, [], criteria)
        return self._stream(request, changelist.queryset)

    # Hooks into the changelist ------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.export_all_view))
        return [
            path("export/", view, name=f"{opts.app_label}_{opts.model_name}_export"),
            *super().get_urls(),
        ]

    def response_action(
        self, request: HttpRequest, queryset: models.QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        # Django filters pk__in=<the posted ids> before it calls any action: an id that is not a primary key ("abc",
        # "1.5", a NUL, a number beyond the column's range) would be a server error. Refuse the post with a message.
        pk = self.opts.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.run_validators(pk.to_python(value))
        except ValidationError:
            self.message_user(request, _("The selection is not valid; nothing was done."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        export_all_url = self._export_all_url(request) if self.has_export_permission(request) else None
        return super().changelist_view(request, {"export_all_url": export_all_url, **(extra_context or {})})

    # Helpers ------------------------------------------------------------------------------------------------------

    def _stream(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> HttpResponseBase:
        export = self.get_export()
        # prepare() limits the export's rows for this user (its get_queryset(user)) to the changelist's, in the
        # changelist's order (the user sorted it; Django makes it total with the primary key).
        options = chosen_options(request)
        try:
            export_request = prepare(
                export,
                surface=Surface.ADMIN,
                user=request.user,
                queryset=queryset,
                ordering=changelist_ordering(export.get_queryset(request.user), queryset),
                **options,
            )
            if self.wants_background(request, export_request, chosen=CHOSEN_FIELD in request.POST):
                changelist = self._changelist_url(request)
                return self.queue_export(request, export_request, columns=options["columns"], changelist_url=changelist)
            media_type = export_request.format.media_type
            with export_request.start() as run:
                return streaming_response(
                    request, run.stream(), filename=export_request.filename(), content_type=media_type
                )
        except ExportError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(self._changelist_url(request))

    def _column_picker(
        self, request: HttpRequest, form_url: str, count: int, hidden: list[Any], criteria: list[tuple[str, str]]
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            **picker_context(
                self.get_export(),
                count=count,
                form_url=form_url,
                hidden=hidden,
                changelist_url=self._changelist_url(request),
                criteria=criteria,
            ),
            "title": _("Export %(name)s") % {"name": self.opts.verbose_name_plural},
            "background_field": BACKGROUND_FIELD,
            "background_default": self.background_default(count),
            "opts": self.opts,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.export_columns_template, context)

    def _changelist_url(self, request: HttpRequest | None = None) -> str:
        """The changelist, with the filters of ``request`` when given."""
        return self._admin_url("changelist", request)

    def _export_all_url(self, request: HttpRequest) -> str:
        return self._admin_url("export", request)

    def _admin_url(self, view: str, request: HttpRequest | None) -> str:
        opts, site = self.opts, self.admin_site.name
        url = reverse(f"{site}:{opts.app_label}_{opts.model_name}_{view}", current_app=site)
        query = self._changelist_query(request) if request is not None else ""
        return f"{url}?{query}" if query else url

    @staticmethod
    def _changelist_query(request: HttpRequest) -> str:
        """The changelist's filters, search, date hierarchy and sort, as a query string (without the page)."""
        params = request.GET.copy()
        for name in _NOT_FILTERS:
            params.pop(name, None)
        return params.urlencode()
