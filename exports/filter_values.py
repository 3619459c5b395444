"""Validated filter values, ready to apply to a queryset: what :func:`parse` makes of a caller's parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext as _

from exports.exceptions import InvalidFilters


class BoundFilter(Protocol):
    """What a value needs of its filter (:class:`exports.filters.BoundFilter`, which imports this module)."""

    @property
    def field_path(self) -> str: ...

    @property
    def lookup(self) -> str: ...

    def clean(self, values: Sequence[str]) -> Any: ...


@dataclass
class FilterValues:
    """Validated filter values, keyed by parameter name, ready to apply to a queryset."""

    bound: dict[str, BoundFilter] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def apply(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """``queryset`` filtered, its SQL made now (no query runs): a value that a lookup or the database adapter
        refuses raises :class:`~exports.exceptions.InvalidFilters` before a response starts, not mid-download."""
        lookups = {}
        for key, value in self.values.items():
            bound = self.bound[key]
            lookups[f"{bound.field_path}{LOOKUP_SEP}{bound.lookup}"] = value
        if not lookups:
            return queryset
        try:
            rows = queryset.filter(**lookups)
            rows.query.get_compiler(rows.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass
        except (ValueError, TypeError, OverflowError, ValidationError) as error:
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            raise InvalidFilters(_("The filters cannot be applied: %(reason)s") % {"reason": reason}) from None
        return rows

    def as_strings(self) -> dict[str, str]:
        """The values as they would be written back into a query string (for logs and the audit record)."""
        return {
            key: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for key, value in self.values.items()
        }


def parse(bound_filters: Mapping[str, BoundFilter], data: Mapping[str, Sequence[str]]) -> FilterValues:
    """Validate ``data`` (parameter -> given values) against the allowed filters.

    Raises :class:`~exports.exceptions.InvalidFilters` listing every problem at once.
    """
    errors: list[str] = []
    result = FilterValues(bound=dict(bound_filters))
    for key, values in data.items():
        bound = bound_filters.get(key)
        if bound is None:
            allowed = ", ".join(bound_filters) or _("none")
            errors.append(
                _("Unknown filter %(key)s. Allowed filters: %(allowed)s.") % {"key": repr(key), "allowed": allowed}
            )
            continue
        try:
            result.values[key] = bound.clean(values)
        except ValidationError as error:
            errors.append(_("Filter %(key)s: %(reasons)s") % {"key": repr(key), "reasons": " ".join(error.messages)})
    if errors:
        raise InvalidFilters(errors)
    return result
