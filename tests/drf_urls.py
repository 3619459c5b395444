"""docs/url.md's Django REST framework recipe, mounted for tests/test_drf.py (imported only when DRF is installed)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from django.urls import path
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from exports import ExportView
from project.urls import urlpatterns as project_urls


class OrdersExport(APIView):  # type: ignore[misc]  # DRF ships no type hints
    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # DRF has authenticated the user and set it on the Django request underneath, which the view reads.
        return ExportView.as_view(export_name="orders")(request._request)


urlpatterns = [*project_urls, path("api/orders.csv", OrdersExport.as_view())]
