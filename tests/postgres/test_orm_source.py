"""The ORM source on PostgreSQL: a transaction for a fast first row, key pages without server-side cursors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exports import Export
from exports.runs import prepare
from orders.models import Order
from tests.conftest import read_csv

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL"),
]


def run(export: Export, **options) -> tuple[bytes, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        data = b"".join(prepare(export, surface="url", **options).start().stream())
    return data, [query["sql"] for query in queries.captured_queries]


def test_rows_are_read_through_a_cursor_without_hold_inside_a_transaction(make_orders):
    make_orders(30)
    data, statements = run(Export(Order, columns=["id", "reference"], copy=False), chunk_size=7)
    assert len(read_csv(data)) == 31
    declares = [sql for sql in statements if "DECLARE" in sql.upper()]
    # Django logs the SELECT of its named cursor; no WITH HOLD cursor means PostgreSQL streams the first rows.
    assert not any("WITH HOLD" in sql.upper() for sql in declares)


@pytest.fixture
def without_server_side_cursors(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)


def test_without_server_side_cursors_pages_by_primary_key(make_orders, without_server_side_cursors):
    make_orders(25)
    export = Export(Order, columns=["id", "reference", "status"], copy=False)
    paged, statements = run(export, chunk_size=10)
    selects = [sql for sql in statements if sql.startswith("SELECT") and 'FROM "orders_order"' in sql]
    assert len(selects) == 3  # 10 + 10 + 5 rows, the short page ends it
    assert all("LIMIT 10" in sql for sql in selects)
    assert '"orders_order"."id" >' in selects[1]
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False
    whole, _ = run(export, chunk_size=10)
    assert paged == whole
    assert len(read_csv(paged)) == 26


def test_without_server_side_cursors_descending_and_other_orderings(make_orders, without_server_side_cursors):
    make_orders(12)
    descending, statements = run(Export(Order, columns=["id", "reference"], ordering=["-pk"], copy=False), chunk_size=5)
    ids = [int(row[0]) for row in read_csv(descending)[1:]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 12
    assert '"orders_order"."id" <' in [sql for sql in statements if sql.startswith("SELECT")][-1]
    # Another ordering: Django's own fetch (the whole result at once), still correct.
    by_reference, statements = run(Export(Order, columns=["id", "reference"], ordering=["reference"], copy=False))
    assert [row[1] for row in read_csv(by_reference)[1:]] == sorted(o.reference for o in Order.objects.all())
