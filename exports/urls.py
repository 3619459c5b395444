from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    # /exports/<name>.<ext> for every format (the name takes every dot but the last); reversed without ``ext``, the
    # same view answers /exports/<name>.csv.
    path("<str:name>.<str:ext>", views.download, name="download"),
    path("<str:name>.csv", views.download, name="download"),
]
