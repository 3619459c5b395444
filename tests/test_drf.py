"""An ``ExportView`` called from a Django REST framework view, with DRF's authentication (docs/url.md's recipe).

DRF is not a dependency of the library nor of its tests: this module runs where DRF is installed.
"""

from __future__ import annotations

import base64

import pytest
from django.http import StreamingHttpResponse

from exports.models import ExportRun
from tests.conftest import body, read_csv

pytest.importorskip("rest_framework", reason="Django REST framework is not installed (pip install djangorestframework)")

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]

URL = "/api/orders.csv"


def basic(username: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_drf_authenticates_and_the_view_streams(client, exporter, make_orders):
    make_orders(3, status="paid")
    response = client.get(URL, {"status": "paid"}, **basic("exporter", "pw"))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert len(read_csv(body(response))) == 4
    assert ExportRun.objects.get().user == exporter


def test_drfs_refusal_comes_first_and_the_exports_checks_still_apply(client, django_user_model, exporter):
    assert client.get(URL).status_code == 401  # DRF: no credentials
    assert client.get(URL, **basic("exporter", "wrong")).status_code == 401
    django_user_model.objects.create_user("visitor", password="pw")
    assert client.get(URL, **basic("visitor", "pw")).status_code == 403  # the export's permission
    assert client.get(URL, {"status": "lost"}, **basic("exporter", "pw")).status_code == 400
