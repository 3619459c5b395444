"""Which source an export reads from, and the Python encoder's handling of carriage returns."""

from __future__ import annotations

import pytest
from django.db import connection
from model_bakery import baker

from exports import Export
from exports.formats.csv import CSVEncoder
from exports.runs import ExportRequest, prepare
from tests.conftest import read_csv
from tests.testapp.models import Sample


def fallback_reason(request: ExportRequest) -> str:
    """Why ``request`` reads through the ORM (fails when it would take the COPY path)."""
    reason = request.source()
    assert isinstance(reason, str), reason
    return reason


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite fallback")
def test_sqlite_reads_through_the_orm():
    baker.make(Sample, text="x", _quantity=3)
    job = prepare(Export(Sample, columns=["id", "text"]), surface="url")
    assert "not PostgreSQL" in fallback_reason(job)
    assert len(read_csv(b"".join(job.start().stream()))) == 4


def test_a_lone_carriage_return_is_quoted():
    encoder = CSVEncoder(buffer_size=1024)
    rows: list[list[object]] = [["lone\rcr", 1], ["plain", 2], ["crlf\r\n", 3], ["\r", None]]
    data = b"".join(encoder.encode_batches(["text", "n"], iter([rows])))
    assert data == b'text,n\n"lone\rcr",1\nplain,2\n"crlf\r\n",3\n"\r",\n'
    assert read_csv(data)[1:] == [["lone\rcr", "1"], ["plain", "2"], ["crlf\r\n", "3"], ["\r", ""]]
