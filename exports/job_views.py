"""The links of a background export: its state, its file, its cancel; and the answer to ``POST /exports/<name>.<ext>``.

Only the job's owner, or a user with the "view all export files" permission, learns that a job exists: anyone else
gets 404, whether or not the id is one. A file past its expiry answers 410 Gone; every answer to a download of a
stored file is recorded (who, when, bytes, outcome).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import IO, Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseGone,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from exports import jobs, storage
from exports.exceptions import ExportNotFound, UnknownFormat
from exports.formats.registry import get_format
from exports.job_models import ExportDownload, ExportJob
from exports.registry import registry
from exports.runs import ExportRequest

#: Bytes read from the stored file per chunk of a download.
BLOCK_SIZE = 256 * 1024


def accepted(
    request: HttpRequest, export_request: ExportRequest, *, filters: dict[str, list[str]], columns: Sequence[str] | None
) -> HttpResponse:
    """Queue the checked ``export_request`` as a job: 202 Accepted, with the job's status URL as ``Location``."""
    job, created = jobs.submit(export_request, filters=filters, columns=columns)
    response = JsonResponse({**_described(request, job), "created": created}, status=202)
    response["Location"] = reverse("exports:job", args=[job.pk])
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def status(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The job's state: JSON for ``Accept: application/json`` (the progress bars poll it), else a small page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    job = _find(request, job_id)
    data = _described(request, job)
    if "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse(data)
    else:
        response = render(request, "exports/job.html", {"job": job, "status": data})
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def download(request: HttpRequest, job_id: UUID) -> HttpResponse | StreamingHttpResponse:
    """The job's stored file, as an attachment, while it has not expired."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    job = _find(request, job_id)
    if job.is_expired():
        _audit(request, job, ExportDownload.Outcome.GONE)
        return HttpResponseGone(
            _("This export file has expired; start the export again.") + "\n", content_type="text/plain"
        )
    if job.state != ExportJob.State.COMPLETED or not job.file:
        raise Http404(_("The file of this export is not ready."))
    if job.user_id == request.user.pk and not _may_run(job, request.user):
        raise Http404(_("No such export file."))  # the owner lost the export's permission since
    try:
        file = storage.get_storage().open(job.file, "rb")
    except FileNotFoundError:
        _audit(request, job, ExportDownload.Outcome.MISSING)
        raise Http404(_("The file of this export is missing.")) from None
    size = file.size
    _audit(request, job, ExportDownload.Outcome.SERVED, size=size)
    content_type = _content_type(job)
    response: HttpResponse | StreamingHttpResponse
    if isinstance(request, ASGIRequest):
        # Under ASGI a sync iterator would be read whole into memory before the first byte is sent.
        response = StreamingHttpResponse(_read_async(file), content_type=content_type)
        response["Content-Length"] = str(size)
        # Never None for an attachment (the django-stubs of 5.2 type it as possibly None).
        disposition = content_disposition_header(as_attachment=True, filename=job.filename)
        response["Content-Disposition"] = disposition or "attachment"
    else:
        response = FileResponse(file, as_attachment=True, filename=job.filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def cancel(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """Cancel the user's own queued or running job; back to ``next`` (a local URL), or the job's state."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    job = _find(request, job_id)
    if job.user_id != request.user.pk:
        raise Http404(_("No such export job."))
    jobs.cancel(job)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return JsonResponse(_described(request, job))


def _find(request: HttpRequest, job_id: UUID) -> ExportJob:
    job = jobs.find(job_id, request.user)
    if job is None:
        raise Http404(_("No such export job."))
    return job


def _may_run(job: ExportJob, user: Any) -> bool:
    try:
        return registry.get(job.export_name).has_permission(user)
    except ExportNotFound:
        return False


def _described(request: HttpRequest, job: ExportJob) -> dict[str, Any]:
    data = jobs.status(job)
    data["status_url"] = reverse("exports:job", args=[job.pk])
    data["download_url"] = (
        reverse("exports:job_download", args=[job.pk])
        if job.state == ExportJob.State.COMPLETED and not job.is_expired()
        else None
    )
    data["cancel_url"] = reverse("exports:job_cancel", args=[job.pk]) if job.live else None
    return data


def _audit(request: HttpRequest, job: ExportJob, outcome: str, *, size: int = 0) -> None:
    user: Any = request.user
    ExportDownload.objects.create(job=job, user=user, username=user.get_username()[:150], size=size, outcome=outcome)


async def _read_async(file: IO[bytes]) -> AsyncIterator[bytes]:
    read = sync_to_async(file.read)
    try:
        while block := await read(BLOCK_SIZE):
            yield block
    finally:
        await sync_to_async(file.close)()


def _content_type(job: ExportJob) -> str:
    """The stored file's media type: its format's, or gzip's for a compressed text file."""
    if job.file.endswith(".gz"):
        return "application/gzip"
    try:
        return get_format(job.format).media_type
    except UnknownFormat:  # a format the project removed since the job ran
        return "application/octet-stream"
