"""django-streaming-exports: streamed, permission-checked CSV exports from one declaration.

The public API::

    from exports import Column, Export, ExportView, Filter, register

    register(Export(Order, columns=["reference", "customer__country", "status"], filters=["status"]))
    urlpatterns = [path("reports/orders.csv", ExportView.as_view(export_name="orders"))]
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from exports.columns import Column
from exports.declarations import Export
from exports.filters import Filter
from exports.registry import register, registry

if TYPE_CHECKING:
    from exports.views import ExportView

try:
    __version__ = version("django-streaming-exports")
except PackageNotFoundError:  # pragma: no cover - running from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["Column", "Export", "ExportView", "Filter", "__version__", "register", "registry"]


def __getattr__(name: str) -> Any:
    # The view imports the models (the audit record), which cannot load while Django imports this package to set up
    # its apps: it is imported on first use.
    if name == "ExportView":
        from exports.views import ExportView

        return ExportView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
