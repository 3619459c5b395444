from __future__ import annotations

from django.urls import path

from exports.views import ExportView

app_name = "exports"

urlpatterns = [
    path("<str:name>.csv", ExportView.as_view(), name="download"),
]
