"""The alternatives the benchmark compares the library with: each the usual way to write a CSV download in Django.

Every view writes the demo export's columns in the same order, from the same rows; none checks permissions (the bench
middleware logs every request in as a superuser, so the library's URL works too).
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from bench.queries import RAW_SQL
from exports import Export, register
from exports.responses import _async_chunks  # the library's own adapter: the same for every case
from orders.exports import orders
from orders.models import Order

HEADER = ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Email", "Total (cents)"]
FIELDS = [
    "id",
    "reference",
    "placed_at",
    "status",
    "customer__name",
    "customer__country",
    "customer_email",
    "total_cents",
]
CHUNK = 64 * 1024

#: The library's own URL on the ORM path: the demo export with COPY turned off.
register(Export(Order, name="orders-orm", columns=orders.columns, copy=False))


class BenchUserMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.user: Any = None

    def __call__(self, request: HttpRequest) -> Any:
        if self.user is None:
            model = get_user_model()
            self.user = model.objects.filter(username="bench").first() or model.objects.create_superuser("bench")
        request.user = self.user
        return self.get_response(request)


def _streamed(request: HttpRequest, chunks: Iterator[Any]) -> StreamingHttpResponse:
    """A streaming CSV response; under ASGI through the same async adapter as the library's, so that Django does not
    gather a baseline's sync iterator whole before its first byte (that would flatter the library)."""
    if isinstance(request, ASGIRequest):
        return StreamingHttpResponse(_async_chunks(iter_bytes(chunks)), content_type="text/csv")
    return StreamingHttpResponse(chunks, content_type="text/csv")


def iter_bytes(chunks: Iterator[Any]) -> Generator[bytes, None, None]:
    """``chunks`` as bytes (the docs recipe yields text, as Django's own example does)."""
    for chunk in chunks:
        yield chunk.encode() if isinstance(chunk, str) else chunk


def _rows() -> Any:
    return Order.objects.order_by("pk").values_list(*FIELDS)


def naive(request: HttpRequest) -> HttpResponse:
    """HttpResponse + csv.writer: the whole file in memory before the first byte."""
    response = HttpResponse(content_type="text/csv")
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(_rows())
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def docs_recipe(request: HttpRequest) -> StreamingHttpResponse:
    """Django's documented recipe: a pseudo-buffer and one yield per row."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    rows = _rows().iterator()
    return _streamed(request, (writer.writerow(row) for row in _with_header(rows)))


def _with_header(rows: Iterator[Any]) -> Iterator[Any]:
    yield HEADER
    yield from rows


def values_in_transaction(request: HttpRequest) -> StreamingHttpResponse:
    """A careful hand-written view: values_list().iterator(5000) inside a transaction, 64 KiB chunks."""

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        with transaction.atomic():
            for row in _rows().iterator(5000):
                writer.writerow(row)
                if buffer.tell() >= CHUNK:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()

    return _streamed(request, chunks())


class _QueueWriter:
    def __init__(self, target: queue.Queue[bytes | None]) -> None:
        self.target = target
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.target.put(b"".join(self.parts))
            self.parts, self.size = [], 0


def raw_copy(request: HttpRequest) -> StreamingHttpResponse:
    """psycopg2's copy_expert of the plain SELECT in a thread, drained from a bounded queue: no formatting at all."""
    connection.ensure_connection()
    raw = connection.connection
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=16)

    def run() -> None:
        writer = _QueueWriter(chunks)
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(f"COPY ({RAW_SQL}) TO STDOUT WITH (FORMAT csv, HEADER)", writer)
            writer.flush()
        finally:
            chunks.put(None)

    def stream() -> Iterator[bytes]:
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        while (chunk := chunks.get()) is not None:
            yield chunk
        thread.join()

    return _streamed(request, stream())


def import_export(request: HttpRequest) -> HttpResponse:
    """django-import-export's ModelResource.export(): a tablib Dataset of every row, then one HttpResponse."""
    from import_export import resources

    class OrderResource(resources.ModelResource):  # type: ignore[misc]
        class Meta:
            model = Order
            fields = FIELDS

    return HttpResponse(
        # select_related as the admin's changelist gives it (list_select_related): without it every row's customer
        # would cost a query of its own.
        OrderResource().export(queryset=Order.objects.select_related("customer").order_by("pk")).csv,
        content_type="text/csv",
    )
