"""A job's request, checked again on the worker: the export still exists, its owner may still run it, the filters
(or the admin's changelist query string) still select rows within the limits.

A user who lost the permission between the click and the run gets no file; the row cap counts the rows as they are
when the job runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.sites import AdminSite, all_sites
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import HttpRequest, QueryDict

from exports.admin.picker import changelist_ordering
from exports.exceptions import ExportError
from exports.job_models import ExportJob
from exports.registry import registry
from exports.runs import ExportRequest, Surface, prepare


def rebuild(job: ExportJob) -> ExportRequest:
    """The checked request of ``job``; raises :class:`~exports.exceptions.ExportError` with the reason it cannot
    run (any more)."""
    export = registry.get(job.export_name)
    user = _owner(job)
    if user is not None and not export.has_permission(user):
        raise ExportError(f"{job.username or 'The user'} may no longer run the export {export.name!r}.")
    columns = job.columns
    if job.admin:
        # As the admin's own download does: the export's rows, limited to the changelist's, in its order.
        queryset = admin_rows(job.admin, job.selection, user)
        return prepare(
            export,
            surface=Surface.ADMIN,
            user=user,
            queryset=queryset,
            columns=columns,
            ordering=changelist_ordering(export.get_queryset(user), queryset),
            format=job.format,
            dialect=job.dialect or None,
        )
    return prepare(
        export,
        surface=Surface(job.surface),
        user=user,
        filters=job.filters,
        columns=columns,
        format=job.format,
        dialect=job.dialect or None,
    )


def _owner(job: ExportJob) -> Any:
    if job.user_id is None:
        if job.surface == Surface.COMMAND and not job.username:
            return None  # a command run without --user: no user, no permission (as on the command line)
        raise ExportError("The user who asked for this export no longer exists.")
    try:
        user = get_user_model()._default_manager.get(pk=job.user_id)
    except ObjectDoesNotExist:
        raise ExportError("The user who asked for this export no longer exists.") from None
    if not user.is_active:
        raise ExportError(f"{job.username or 'The user'} may no longer run exports.")
    return user


def admin_rows(admin: str, query: str, user: Any) -> models.QuerySet[Any]:
    """The changelist queryset of ``admin`` (``"<site>:<app_label>.<model_name>"``) for the query string ``query``,
    as ``user`` would see it."""
    site_name, _, label = admin.partition(":")
    site = _site(site_name)
    model_admin = next(
        (found for model, found in site._registry.items() if model._meta.label_lower == label.lower()), None
    )
    if model_admin is None:
        raise ExportError(f"The admin {admin!r} no longer exists.")
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.META["QUERY_STRING"] = query
    request.path = request.path_info = "/"
    request.user = user
    if user is None or not model_admin.has_view_or_change_permission(request):
        raise ExportError("You may no longer see these rows in the admin.")
    try:
        changelist = model_admin.get_changelist_instance(request)
    except Exception:  # noqa: BLE001 - whatever the admin refuses, the job says so rather than failing obscurely
        raise ExportError("The list's filters are no longer valid.") from None
    queryset: models.QuerySet[Any] = changelist.queryset
    return queryset


def _site(name: str) -> AdminSite:
    for site in all_sites:
        if site.name == name:
            return site
    raise ExportError(f"The admin site {name!r} no longer exists.")
