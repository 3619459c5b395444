from __future__ import annotations

from django.urls import include, path

from bench import views

urlpatterns = [
    path("exports/", include("exports.urls")),
    path("bench/naive.csv", views.naive),
    path("bench/docs.csv", views.docs_recipe),
    path("bench/values.csv", views.values_in_transaction),
    path("bench/copy.csv", views.raw_copy),
    path("bench/import-export.csv", views.import_export),
]
