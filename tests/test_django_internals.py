"""The private Django API the ORM source relies on is still there, in the running Django."""

from __future__ import annotations

import pytest
from django.db.models.sql.compiler import SQLCompiler

from exports import Export, django_internals
from exports.runs import prepare
from orders.models import Order
from tests.conftest import read_csv


def test_every_private_api_the_library_relies_on_is_there():
    assert django_internals.verify() == []


def test_a_changed_api_is_reported_loudly(monkeypatch):
    monkeypatch.delattr(SQLCompiler, "apply_converters")
    monkeypatch.setattr(SQLCompiler, "results_iter", lambda self, results=None: iter(()))
    assert django_internals.verify() == [
        "SQLCompiler.results_iter takes no 'tuple_expected'",
        "SQLCompiler.apply_converters is gone",
    ]


@pytest.mark.django_db
def test_an_export_through_a_changed_api_fails_instead_of_writing_a_wrong_file(make_orders, monkeypatch):
    make_orders(3)
    through_the_compiler = Export(Order, columns=["id", "reference", "placed_at"], copy=False)
    monkeypatch.setattr(SQLCompiler, "has_composite_fields", lambda self: False)  # a signature Django might change
    with pytest.raises(TypeError):
        b"".join(prepare(through_the_compiler, surface="command").start().stream())
    monkeypatch.undo()
    assert len(read_csv(b"".join(prepare(through_the_compiler, surface="command").start().stream()))) == 4
