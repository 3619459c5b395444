from __future__ import annotations

from django.urls import path

from exports import job_views
from exports.views import ExportView

app_name = "exports"

urlpatterns = [
    # The jobs' links come first: "jobs/<id>/download" is not an export named "jobs/<id>/download".
    path("jobs/<uuid:job_id>/", job_views.status, name="job"),
    path("jobs/<uuid:job_id>/download", job_views.download, name="job_download"),
    path("jobs/<uuid:job_id>/cancel", job_views.cancel, name="job_cancel"),
    # /exports/<name>.<ext> for every format (the name takes every dot but the last); reversed without ``ext``, the
    # same view answers /exports/<name>.csv.
    path("<str:name>.<str:ext>", ExportView.as_view(), name="download"),
    path("<str:name>.csv", ExportView.as_view(), name="download"),
]
