"""The demo's own pages (not part of the library)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise

from exports import Export, Filter, registry
from exports.models import ExportRun

#: How many of the user's latest runs the home page lists.
RECENT_RUNS = 10


@dataclass(frozen=True)
class ExportLink:
    """An export the user may run, as the home page shows it."""

    name: str
    #: Lazy when the verbose name is: the page shows it in the request's language.
    label: str | Promise
    url: str
    filters: list[str]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The exports the logged-in user may run, with their download links, and that user's latest runs."""
    user = request.user
    if not user.is_authenticated:  # login_required has sent anonymous visitors away; this tells the type checker
        raise PermissionDenied
    exports = [_link(export) for export in registry if export.has_permission(user)]
    runs = ExportRun.objects.filter(user=user).order_by("-started_at", "-pk")[:RECENT_RUNS]
    return render(request, "home.html", {"exports": exports, "runs": runs})


def _link(export: Export) -> ExportLink:
    return ExportLink(
        name=export.name,
        label=export.label,
        url=reverse("exports:download", kwargs={"name": export.name}),
        filters=[item.key if isinstance(item, Filter) else item for item in export.filters],
    )
