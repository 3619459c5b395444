"""Exports by name: every surface looks an export up here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext as _

from exports.declarations import Export
from exports.exceptions import ExportNotFound

E = TypeVar("E", bound=Export)


class ExportRegistry:
    """The registered exports; ``exports.registry.registry`` is the one every surface uses."""

    def __init__(self) -> None:
        self._exports: dict[str, Export] = {}

    def register(self, export: E) -> E:
        """Register ``export`` under its name; a second export with the same name is an error."""
        if not isinstance(export, Export):
            raise TypeError(f"register() takes an Export instance, not {export!r}")
        existing = self._exports.get(export.name)
        if existing is not None and existing is not export:
            raise ValueError(f"An export named {export.name!r} is already registered: {existing!r}.")
        self._exports[export.name] = export
        return export

    def unregister(self, name: str) -> None:
        self._exports.pop(name, None)

    def get(self, name: str) -> Export:
        """The export called ``name``; raises :class:`~exports.exceptions.ExportNotFound`."""
        try:
            return self._exports[name]
        except KeyError:
            raise ExportNotFound(_("No export is called %(name)s.") % {"name": repr(name)}) from None

    def for_model(self, model: type[models.Model]) -> list[Export]:
        """The exports whose rows are ``model``'s (the admin shows these)."""
        return [export for export in self if export.model_class is model]

    def __iter__(self) -> Iterator[Export]:
        return iter(list(self._exports.values()))

    def __contains__(self, name: Any) -> bool:
        return name in self._exports

    def __len__(self) -> int:
        return len(self._exports)


registry = ExportRegistry()


def register(export: E) -> E:
    """Register ``export`` with the default registry and return it, so it can be kept in a module-level name."""
    return registry.register(export)
