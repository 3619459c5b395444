"""One snapshot on PostgreSQL: an export sees the table as of its start while another connection writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from model_bakery import baker

from exports import Export
from exports.models import ExportRun
from exports.runs import prepare
from orders.models import Customer, Order
from tests.conftest import read_csv

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def other_connection() -> Iterator[Any]:
    """A second session on the test database, committing on its own (as another request would), whatever the driver."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    yield other
    other.close()


def test_the_export_reads_one_snapshot_while_another_connection_writes(other_connection, settings):
    settings.EXPORTS_BUFFER_SIZE = 1  # a chunk per batch, so the writes land in the middle of the stream
    customer = baker.make(Customer, name="Ada", country="SE")
    orders = baker.make(Order, customer=customer, status="paid", _quantity=100, _bulk_create=True)
    before = [[str(order.pk), order.reference, "Paid"] for order in sorted(orders, key=lambda order: order.pk)]
    # The ORM path, which reads the rows in many fetches (a COPY is one statement, consistent on its own).
    export = Export(Order, name="snapshot", columns=["id", "reference", "status"], chunk_size=10, copy=False)
    counts: list[int] = []
    read_only: list[str] = []

    def on_progress(run):
        counts.append(run.request.count())
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_read_only")
            read_only.append(cursor.fetchone()[0])

    job = prepare(export, surface="command")
    chunks = job.start().stream(on_progress=on_progress)
    data = [next(chunks)]
    assert len(read_csv(b"".join(data))) < 50  # the header and the first rows only

    last, middle = before[-1][0], before[60][0]
    with other_connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order (reference, customer_id, customer_email, total_cents, status, placed_at) "
            "SELECT 'NEW-' || n, %s, 'new@example.com', 1, 'pending', now() FROM generate_series(1, 10) n",
            [customer.pk],
        )
        cursor.execute("UPDATE orders_order SET status = 'refunded', reference = 'CHANGED' WHERE id = %s", [last])
        cursor.execute("DELETE FROM orders_order WHERE id = %s", [middle])
        cursor.execute("SELECT count(*) FROM orders_order")
        assert cursor.fetchone()[0] == 109  # the writes are committed and visible to everyone else

    data.extend(chunks)
    assert read_csv(b"".join(data))[1:] == before
    assert set(counts) == {100}  # the progress count agrees with the rows (REPEATABLE READ)
    assert set(read_only) == {"on"}
    assert not connection.in_atomic_block
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.COMPLETED


def test_an_abandoned_stream_leaves_no_transaction_open(make_orders):
    make_orders(50)
    job = prepare(Export(Order, name="abandoned", columns=["id"], chunk_size=5), surface="url")
    chunks = job.start().stream()
    next(chunks)
    assert connection.in_atomic_block
    chunks.close()
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")  # this session's cursors only: no other client counts
        assert cursor.fetchone()[0] == 0
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.ABORTED
