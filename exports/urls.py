from __future__ import annotations

from django.urls import path

from exports import job_views, views

app_name = "exports"

urlpatterns = [
    path("jobs/<uuid:job_id>/", job_views.status, name="job"),
    path("jobs/<uuid:job_id>/download", job_views.download, name="job_download"),
    path("jobs/<uuid:job_id>/cancel", job_views.cancel, name="job_cancel"),
    path("<str:name>.csv", views.download, name="download"),
]
