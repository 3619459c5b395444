"""Which source an export reads from."""

from __future__ import annotations

import pytest
from django.db import connection
from model_bakery import baker

from exports import Export
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
