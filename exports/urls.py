from __future__ import annotations

from django.urls import path

from exports.views import ExportView

app_name = "exports"

urlpatterns = [
    # /exports/<name>.<ext> for every format (the name takes every dot but the last); reversed without ``ext``, the
    # same view answers /exports/<name>.csv.
    path("<str:name>.<str:ext>", ExportView.as_view(), name="download"),
    path("<str:name>.csv", ExportView.as_view(), name="download"),
]
