"""The download URL: ``/exports/<name>.csv`` for a logged-in user with the export's permission; ``POST`` prepares the
file in the background instead (:mod:`exports.job_views`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_http_methods

from exports import job_views
from exports.columns import parse_column_keys
from exports.exceptions import ExportBusy, ExportError, ExportNotFound
from exports.filters import COLUMNS_PARAMETER
from exports.registry import registry
from exports.responses import download_headers, streaming_response
from exports.runs import Surface, prepare


@require_http_methods(["GET", "HEAD", "POST"])
def download(request: HttpRequest, name: str) -> HttpResponse | StreamingHttpResponse:
    """Stream the export called ``name``, filtered by the query string (``?status=paid&columns=customer_email``).

    ``HEAD`` answers with the headers ``GET`` would send, after the same checks, without reading a row. ``POST``
    (with the session's CSRF token), after the same checks, queues a background job and answers 202 Accepted.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        export = registry.get(name)
    except ExportNotFound as error:
        raise Http404(str(error)) from None
    if not export.has_permission(request.user):
        raise PermissionDenied(f"You do not have permission to run the export {export.name!r}.")
    try:
        filters = {key: values for key, values in request.GET.lists() if key != COLUMNS_PARAMETER}
    except TooManyFieldsSent:
        return _bad_request(
            f"Too many query parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are accepted."
        )
    try:
        columns = request.GET.getlist(COLUMNS_PARAMETER)
        export_request = prepare(
            export,
            surface=Surface.URL,
            user=request.user,
            filters=filters,
            columns=parse_column_keys(columns) if columns else None,
        )
        if request.method == "POST":
            chosen = parse_column_keys(columns) if columns else None
            return job_views.accepted(request, export_request, filters=filters, columns=chosen)
        if request.method == "HEAD":
            response = HttpResponse()
            download_headers(response, filename=export_request.filename())
            return response
        with export_request.start() as run:
            return streaming_response(request, run.stream(), filename=export_request.filename())
    except ExportBusy as error:
        response = HttpResponse(_reasons(error), status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(error.retry_after)
        return response
    except ExportError as error:
        return _bad_request(_reasons(error))


def _bad_request(reasons: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(reasons.rstrip("\n") + "\n", content_type="text/plain; charset=utf-8")


def _reasons(error: ExportError) -> str:
    return "\n".join(error.messages) + "\n"
