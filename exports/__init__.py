"""django-streaming-exports: streamed, permission-checked CSV exports from one declaration.

The public API::

    from exports import Column, Export, Filter, register

    register(Export(Order, columns=["reference", "customer__country", "status"], filters=["status"]))
"""

from __future__ import annotations

from exports.columns import Column
from exports.declarations import Export
from exports.filters import Filter
from exports.registry import register, registry

__all__ = ["Column", "Export", "Filter", "register", "registry"]
