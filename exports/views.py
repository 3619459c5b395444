"""The download view, :class:`ExportView`: ``/exports/<name>.<ext>`` (``csv``, ``tsv``, ``jsonl``, ``xlsx``...)
through ``exports.urls``, or at a project's own URL.

A project mounts it for one export or for many::

    path("reports/orders.csv", ExportView.as_view(export_name="orders")),
    path("reports/<str:name>.<str:ext>", ExportView.as_view()),

The guards come first (login, the export, the permission, the query string), each a method a subclass may override,
then the response: the headers alone for ``HEAD``, else the streamed file. ``POST`` (with the session's CSRF token),
after the same guards, prepares the file in the background instead: 202 Accepted, with the job's status URL as
``Location`` (:mod:`exports.job_views`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django.views import View

from exports import job_views
from exports.columns import parse_column_keys
from exports.declarations import Export, User
from exports.exceptions import ExportBusy, ExportError, ExportNotFound, InvalidFilters, UnknownFormat
from exports.filters import COLUMNS_PARAMETER, DIALECT_PARAMETER
from exports.formats.registry import for_extension
from exports.registry import registry
from exports.responses import download_headers, streaming_response
from exports.runs import ExportRequest, Surface, prepare


class ExportView(View):
    """Stream an export, filtered by the query string (``?status=paid&columns=customer_email``).

    The same checks and records as every surface: a logged-in user with the export's permission, filters and columns
    validated (HTTP 400 with the reasons), the export's rows for that user (``Export.get_queryset(user)``), its row
    limit, the user's concurrency limit (HTTP 429 with ``Retry-After``) and an audit record of the run. ``HEAD``
    answers with the headers ``GET`` would send, after the same checks, without reading a row.

    Set ``export_name`` to serve one export; otherwise the export is named by the URL's ``name`` argument (see
    ``name_kwarg``). The format is the URL's ``ext`` argument (``csv`` without one); an extension no format writes,
    or one the export does not offer, is 404; ``?dialect=`` picks a CSV dialect. Override :meth:`get_export`,
    :meth:`get_format`, :meth:`has_permission`, :meth:`get_user`, :meth:`get_filters` or :meth:`get_columns` to
    change one step.
    """

    #: The export this view serves; ``None``: the one named by the URL's ``name_kwarg`` argument.
    export_name: str | None = None
    name_kwarg = "name"
    ext_kwarg = "ext"
    http_method_names = ["get", "head", "post"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.checked(self.head_response if request.method == "HEAD" else self.stream_response)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """After the same guards as ``GET``, queue the checked request as a background job (202 Accepted)."""
        return self.checked(self.background_response)

    def checked(self, respond: Callable[[ExportRequest], HttpResponseBase]) -> HttpResponseBase:
        """Run the guards in order, then ``respond`` to the checked request; a refusal is the guard's answer."""
        user = self.get_user()
        if not user.is_authenticated:
            return self.handle_anonymous()
        export = self.get_export()
        format_name = self.get_format(export)
        if not self.has_permission(export, user):
            message = _("You do not have permission to run the export %(name)s.") % {"name": repr(export.name)}
            raise PermissionDenied(message)
        try:
            return respond(self.prepare(export, user, format_name))
        except ExportBusy as error:
            response = HttpResponse(_reasons(error), status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(error.retry_after)
            return response
        except ExportError as error:
            return HttpResponseBadRequest(_reasons(error), content_type="text/plain; charset=utf-8")

    # Guards: each a step a subclass may change --------------------------------------------------------------------

    def get_user(self) -> Any:
        """Who runs the export: ``request.user`` (Django REST framework sets it on the request it authenticates)."""
        return self.request.user

    def handle_anonymous(self) -> HttpResponseBase:
        """The answer to a visitor who is not logged in: the login page, coming back here after."""
        return redirect_to_login(self.request.get_full_path())

    def get_export(self) -> Export:
        """The export to run: ``export_name``, else the URL's ``name`` argument; HTTP 404 when none is registered."""
        name = self.export_name if self.export_name is not None else self.kwargs.get(self.name_kwarg, "")
        try:
            return registry.get(name)
        except ExportNotFound as error:
            raise Http404(str(error)) from None

    def get_format(self, export: Export) -> str:
        """The format named by the URL's extension (``csv`` without one); HTTP 404 when ``export`` does not offer it."""
        try:
            name = for_extension(self.kwargs.get(self.ext_kwarg, "csv")).name
            if export.formats is not None and name not in export.formats:
                raise UnknownFormat(
                    _("The export %(name)s is not offered as %(format)s.") % {"name": repr(export.name), "format": name}
                )
        except UnknownFormat as error:
            raise Http404(str(error)) from None
        return name

    def has_permission(self, export: Export, user: User) -> bool:
        """Whether ``user`` may run ``export`` (HTTP 403 otherwise); by default the export's own rule."""
        return export.has_permission(user)

    def get_filters(self) -> dict[str, list[str]]:
        """The caller's filters: every query parameter but ``columns`` and ``dialect`` (checked by the export: HTTP
        400)."""
        try:
            reserved = {COLUMNS_PARAMETER, DIALECT_PARAMETER}
            return {key: values for key, values in self.request.GET.lists() if key not in reserved}
        except TooManyFieldsSent:
            raise InvalidFilters(
                _("Too many query parameters: at most %(count)s are accepted.")
                % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
            ) from None

    def get_columns(self) -> list[str] | None:
        """The optional columns asked for with ``?columns=a,b``; ``None``: the export's defaults."""
        columns = self.request.GET.getlist(COLUMNS_PARAMETER)
        return parse_column_keys(columns) if columns else None

    def get_dialect(self) -> str | None:
        """The CSV dialect asked for with ``?dialect=``, given once; ``None``: the export's default."""
        dialects = self.request.GET.getlist(DIALECT_PARAMETER)
        if len(dialects) > 1:
            raise InvalidFilters(
                _("Give %(parameter)s= once, not %(count)d times.")
                % {"parameter": DIALECT_PARAMETER, "count": len(dialects)}
            )
        return dialects[0] if dialects else None

    def prepare(self, export: Export, user: User, format_name: str) -> ExportRequest:
        """The checked request (raises :class:`~exports.exceptions.ExportError`: HTTP 400)."""
        return prepare(
            export,
            surface=Surface.URL,
            user=user,
            filters=self.get_filters(),
            columns=self.get_columns(),
            format=format_name,
            dialect=self.get_dialect(),
        )

    # The response -------------------------------------------------------------------------------------------------

    def head_response(self, export_request: ExportRequest) -> HttpResponseBase:
        """The headers a download would have; no run starts and no row is read."""
        response = HttpResponse()
        media_type = export_request.format.media_type
        download_headers(response, filename=export_request.filename(), content_type=media_type)
        return response

    def background_response(self, export_request: ExportRequest) -> HttpResponseBase:
        """Queue the request as a job (a double click gets the job already queued): 202 with its status URL."""
        return job_views.accepted(self.request, export_request, filters=self.get_filters(), columns=self.get_columns())

    def stream_response(self, export_request: ExportRequest) -> HttpResponseBase:
        """Start the run (raises :class:`~exports.exceptions.ExportBusy`: HTTP 429) and stream its file."""
        media_type = export_request.format.media_type
        with export_request.start() as run:
            # The name is made inside the run: a filename callable that fails is recorded as the run's failure.
            return streaming_response(
                self.request, run.stream(), filename=export_request.filename(), content_type=media_type
            )


def _reasons(error: ExportError) -> str:
    return "\n".join(error.messages).rstrip("\n") + "\n"
