"""Fast writes of seed rows: COPY on PostgreSQL, ``bulk_create`` elsewhere.

Callers wrap these in one ``transaction.atomic()`` so a failed seed leaves the tables as they were.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max

from orders.models import Customer, Order
from orders.seed_data import OrderRow, customer_email, generate_customers

COPY_CHUNK_ROWS = 10_000
COPY_READ_SIZE = 1 << 16
BULK_CREATE_CHUNK_ROWS = 10_000
BULK_CREATE_BATCH_SIZE = 1_000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def delete_orders_and_customers() -> None:
    """Empty both tables; on PostgreSQL also restart their id sequences."""
    if is_postgresql():
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Order, Customer))
        # TRUNCATE refuses tables with deferred foreign key checks still pending from earlier in this transaction.
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")
    else:
        Order.objects.all().delete()
        Customer.objects.all().delete()


def ensure_customers(count: int, seed: int) -> tuple[list[tuple[int, str]], int]:
    """``(id, order email)`` of every customer by pk, creating ``count`` of them if there are none.

    Returns the pairs and how many customers were created.
    """
    created = 0
    if not Customer.objects.exists():
        # Explicit ids, so a reseed gives the same ids even where deleting rows does not restart the sequence.
        Customer.objects.bulk_create(
            (
                Customer(id=number, name=row.name, country=row.country)
                for number, row in enumerate(generate_customers(count, seed), start=1)
            ),
            batch_size=BULK_CREATE_BATCH_SIZE,
        )
        created = count
    names = Customer.objects.order_by("pk").values_list("pk", "name")
    return [(pk, customer_email(name, number)) for number, (pk, name) in enumerate(names, start=1)], created


def next_order_number() -> int:
    return (Order.objects.aggregate(max_id=Max("id"))["max_id"] or 0) + 1


def insert_orders(rows: Iterable[OrderRow], on_progress: Callable[[int], None]) -> None:
    """Insert ``rows``, calling ``on_progress(inserted_so_far)`` every few thousand rows."""
    if is_postgresql():
        _copy_orders(rows, on_progress)
        return
    inserted = 0
    for chunk in _chunks(rows, BULK_CREATE_CHUNK_ROWS):
        Order.objects.bulk_create((Order(**row._asdict()) for row in chunk), batch_size=BULK_CREATE_BATCH_SIZE)
        inserted += len(chunk)
        on_progress(inserted)


def reset_sequences() -> None:
    """Point the id sequences past the explicit ids we inserted (a no-op where ids need no sequence)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Customer, Order])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze() -> None:
    """Refresh the planner statistics after a bulk load (PostgreSQL only)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            for model in (Customer, Order):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _chunks(rows: Iterable[OrderRow], size: int) -> Iterator[list[OrderRow]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _copy_orders(rows: Iterable[OrderRow], on_progress: Callable[[int], None]) -> None:
    # One COPY fed while it runs: the server indexes rows while Python builds the next ones.
    columns = ", ".join(connection.ops.quote_name(name) for name in OrderRow._fields)
    sql = f"COPY {connection.ops.quote_name(Order._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
    csv_chunks = _csv_chunks(rows, on_progress)
    with connection.cursor() as cursor:
        raw_cursor: Any = cursor.cursor
        if hasattr(raw_cursor, "copy_expert"):  # psycopg2
            raw_cursor.copy_expert(sql, _ChunksReader(csv_chunks), size=COPY_READ_SIZE)
        else:  # psycopg 3
            with raw_cursor.copy(sql) as copy:
                for chunk in csv_chunks:
                    copy.write(chunk)


def _csv_chunks(rows: Iterable[OrderRow], on_progress: Callable[[int], None]) -> Iterator[str]:
    buffer = io.StringIO()
    # QUOTE_ALL: embedded CR/LF are always quoted and no value can read as NULL or as the end-of-data marker.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    inserted = 0
    for chunk in _chunks(rows, COPY_CHUNK_ROWS):
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        inserted += len(chunk)
        on_progress(inserted)


class _ChunksReader:
    """The ``read()`` that psycopg2's ``copy_expert`` pulls from, over an iterator of strings."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._chunk = ""
        self._offset = 0

    def read(self, size: int = -1) -> str:
        while self._offset >= len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return ""
            self._chunk, self._offset = chunk, 0
        end = len(self._chunk) if size < 0 else self._offset + size
        data = self._chunk[self._offset : end]
        self._offset += len(data)
        return data
