"""django-streaming-exports: streamed, permission-checked CSV exports from one declaration.

The public API::

    from exports import Column, Export, Filter, register

    register(Export(Order, columns=["reference", "customer__country", "status"], filters=["status"]))
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from exports.columns import Column
from exports.declarations import Export
from exports.filters import Filter
from exports.registry import register, registry

try:
    __version__ = version("django-streaming-exports")
except PackageNotFoundError:  # pragma: no cover - running from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["Column", "Export", "Filter", "__version__", "register", "registry"]
