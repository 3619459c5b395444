"""A project's own URLs for :class:`~exports.ExportView` (beside the demo's), as the tests of the view mount it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.urls import path

from exports import Export, ExportView
from project.urls import urlpatterns as project_urls


class PaidOrdersForManagers(ExportView):
    """One export, its paid rows only, for the members of the "managers" group (whatever their permissions)."""

    export_name = "orders"

    def has_permission(self, export: Export, user: Any) -> bool:
        return isinstance(user, AbstractBaseUser) and user.groups.filter(name="managers").exists()  # type: ignore[attr-defined]

    def get_filters(self) -> dict[str, list[str]]:
        return {**super().get_filters(), "status": ["paid"]}


urlpatterns = [
    *project_urls,
    path("reports/orders.csv", ExportView.as_view(export_name="orders")),
    path("reports/<str:name>.csv", ExportView.as_view()),
    path("managers/<slug:report>/paid-orders.csv", PaidOrdersForManagers.as_view()),
]
