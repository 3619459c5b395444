from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("<str:name>.csv", views.download, name="download"),
]
