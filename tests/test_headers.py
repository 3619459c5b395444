"""Response headers of a download, and GZipMiddleware keeping it a stream."""

from __future__ import annotations

import datetime
import gzip

import pytest
from django.http import StreamingHttpResponse

from exports import Export
from exports.models import ExportRun
from orders.models import Order
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"


def test_a_csv_attachment_named_after_the_export_and_the_day_never_cached_or_sniffed(client, exporter, make_orders):
    make_orders(1)
    client.force_login(exporter)
    response = client.get(URL)
    today = datetime.date.today().strftime("%Y%m%d")
    assert response["Content-Disposition"] == f'attachment; filename="orders-{today}.csv"'
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not response.has_header("Content-Length")  # streamed: its length is not known in advance


def test_gzip_middleware_still_streams(client, exporter, make_orders, settings, temporary_export):
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    settings.EXPORTS_BUFFER_SIZE = 1
    make_orders(3000)
    # The ORM path, in batches of 100 rows: a chunk per batch (COPY would hand over fewer, larger blocks).
    temporary_export(Export(Order, name="batches", chunk_size=100, permission="orders.export_order", copy=False))
    client.force_login(exporter)
    plain = body(client.get("/exports/batches.csv"))
    response = client.get("/exports/batches.csv", {}, headers={"accept-encoding": "gzip"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"
    assert not response.has_header("Content-Length")
    chunks = iter(response.streaming_content)  # type: ignore[arg-type]
    first = [next(chunks), next(chunks)]
    run = ExportRun.objects.latest("pk")
    assert run.outcome == "running"  # compressed as it goes, not gathered into one body first
    rest = list(chunks)
    assert len(rest) > 2
    assert gzip.decompress(b"".join(first + rest)) == plain
    assert len(read_csv(plain)) == 3001


def test_the_file_name_may_come_from_a_callable(client, exporter, make_orders, temporary_export):
    make_orders(1)
    temporary_export(Export(Order, name="named", filename=lambda export: f"{export.name} for Åsa.csv", permission=None))
    client.force_login(exporter)
    response = client.get("/exports/named.csv")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''named%20for%20%C3%85sa.csv"
