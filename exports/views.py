"""The download URL: ``/exports/<name>.<ext>`` (``csv``, ``tsv``, ``jsonl``, ``xlsx``...) for a logged-in user with
the export's permission."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from exports.columns import parse_column_keys
from exports.exceptions import ExportBusy, ExportError, ExportNotFound, UnknownFormat
from exports.filters import COLUMNS_PARAMETER, DIALECT_PARAMETER
from exports.formats.registry import for_extension
from exports.registry import registry
from exports.responses import download_headers, streaming_response
from exports.runs import Surface, prepare


@require_safe
def download(request: HttpRequest, name: str, ext: str = "csv") -> HttpResponse | StreamingHttpResponse:
    """Stream the export called ``name`` in the format whose extension is ``ext``, filtered by the query string
    (``?status=paid&columns=customer_email``; ``?dialect=excel`` for a CSV dialect).

    An extension no format writes, or a format the export does not offer, is 404. ``HEAD`` answers with the headers
    ``GET`` would send, after the same checks, without reading a row.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        export = registry.get(name)
        format = for_extension(ext).name
        if export.formats is not None and format not in export.formats:
            raise UnknownFormat(f"The export {export.name!r} is not offered as {format}.")
    except (ExportNotFound, UnknownFormat) as error:
        raise Http404(str(error)) from None
    if not export.has_permission(request.user):
        raise PermissionDenied(f"You do not have permission to run the export {export.name!r}.")
    try:
        filters = {
            key: values for key, values in request.GET.lists() if key not in {COLUMNS_PARAMETER, DIALECT_PARAMETER}
        }
    except TooManyFieldsSent:
        return _bad_request(
            f"Too many query parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are accepted."
        )
    try:
        columns = request.GET.getlist(COLUMNS_PARAMETER)
        dialects = request.GET.getlist(DIALECT_PARAMETER)
        if len(dialects) > 1:
            return _bad_request(f"Give {DIALECT_PARAMETER}= once, not {len(dialects)} times.")
        export_request = prepare(
            export,
            surface=Surface.URL,
            user=request.user,
            filters=filters,
            columns=parse_column_keys(columns) if columns else None,
            format=format,
            dialect=dialects[0] if dialects else None,
        )
        media_type = export_request.format.media_type
        if request.method == "HEAD":
            response = HttpResponse()
            download_headers(response, filename=export_request.filename(), content_type=media_type)
            return response
        with export_request.start() as run:
            # The name is made inside the run: a filename callable that fails is recorded as the run's failure.
            return streaming_response(
                request, run.stream(), filename=export_request.filename(), content_type=media_type
            )
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
