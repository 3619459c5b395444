"""The download URL: ``/exports/<name>.csv`` for a logged-in user with the export's permission."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from exports.exceptions import ExportBusy, ExportError, ExportNotFound
from exports.registry import registry
from exports.responses import csv_response

#: Query parameters that are not filters.
COLUMNS_PARAMETER = "columns"


@require_safe
def download(request: HttpRequest, name: str) -> HttpResponse | StreamingHttpResponse:
    """Stream the export called ``name``, filtered by the query string (``?status=paid&columns=email``)."""
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
        return HttpResponseBadRequest(
            f"Too many query parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are accepted.\n",
            content_type="text/plain; charset=utf-8",
        )
    columns = _columns(request)
    try:
        job = export.prepare(surface="url", user=request.user, filters=filters, columns=columns)
    except ExportBusy as error:
        response = HttpResponse(_reasons(error), status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(error.retry_after)
        return response
    except ExportError as error:
        return HttpResponseBadRequest(_reasons(error), content_type="text/plain; charset=utf-8")
    return csv_response(request, job)


def _reasons(error: ExportError) -> str:
    return "\n".join(error.messages) + "\n"


def _columns(request: HttpRequest) -> list[str] | None:
    values = request.GET.getlist(COLUMNS_PARAMETER)
    if not values:
        return None
    return [key.strip() for value in values for key in value.split(",") if key.strip()]
