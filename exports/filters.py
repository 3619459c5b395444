"""Filters a caller may apply to an export, and their validation.

A filter is declared by a lookup path, the way ``QuerySet.filter()`` spells it: ``status``, ``placed_at__gte``,
``customer__country__in``. Its value is checked with the form field of the model field it ends on (a choice field
accepts a choice's value or label, a date field a date, ...), so a bad value is a clear error, never a database error.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import (
    FieldDoesNotExist,
    ImproperlyConfigured,
    ValidationError,
)
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from exports.choices import choice_value, clean_boolean, describe_choices, fixed_choices
from exports.filter_values import FilterValues, parse

#: The query parameters that choose the optional columns and a CSV dialect (``?dialect=excel``): no filter's name.
COLUMNS_PARAMETER, DIALECT_PARAMETER = "columns", "dialect"
#: Text lookups on a field with choices match part of a value, so their value is any text, not one of the choices.
_PARTIAL_TEXT_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
)
#: Lookups a filter may end with; the value of each is validated with the field's own form field.
SCALAR_LOOKUPS = _PARTIAL_TEXT_LOOKUPS | {"exact", "gt", "gte", "lt", "lte"}
#: Lookups whose value is not one value of the field.
SPECIAL_LOOKUPS = frozenset({"in", "isnull", "range"})
#: Transforms a filter may apply to a datetime before its lookup (``placed_at__date__gte``).
_TRANSFORM_FIELDS: dict[str, models.Field[Any, Any]] = {
    "date": models.DateField(),
    "year": models.IntegerField(),
    "month": models.IntegerField(),
    "day": models.IntegerField(),
}


@dataclass(frozen=True)
class Filter:
    """A filter a caller may apply: ``path`` is a lookup (``placed_at__gte``); ``name`` the parameter (default
    ``path``); ``form_field`` overrides the form field that validates a value; ``label`` is shown in help texts."""

    path: str
    name: str | None = None
    form_field: forms.Field | None = None
    label: str | Promise | None = None

    @property
    def key(self) -> str:
        return self.name or self.path


@dataclass(frozen=True)
class BoundFilter:
    """A :class:`Filter` checked against the export's model."""

    filter: Filter
    field_path: str
    lookup: str
    model_field: models.Field[Any, Any]
    #: Lazy when the declaration's label or the verbose name is: it follows the language where it is shown.
    label: str | Promise

    @property
    def key(self) -> str:
        return self.filter.key

    def clean(self, values: Sequence[str]) -> Any:
        """The validated value of the parameter given as ``values``; raises ``ValidationError`` with the reason."""
        if len(values) != 1 and self.lookup != "in":
            raise ValidationError(_("given more than once; give it once"))
        if self.lookup == "isnull":
            return clean_boolean(values[0])
        if self.lookup == "in":
            items = [item.strip() for value in values for item in value.split(",")]
            if not any(items):
                raise ValidationError(_("give one or more values, separated by commas"))
            return [self._clean_one(item) for item in items if item]
        if self.lookup == "range":
            bounds = values[0].split(",")
            if len(bounds) != 2:
                raise ValidationError(_("give two values separated by a comma: start,end"))
            return [self._clean_one(bound.strip()) for bound in bounds]
        return self._clean_one(values[0])

    def _clean_one(self, value: str) -> Any:
        if "\x00" in value:
            raise ValidationError(_("contains a NUL character"))
        if value == "":
            raise ValidationError(_("is empty; give a value"))
        choices = self.choices()
        try:
            cleaned = self.form_field().clean(value if choices is None else choice_value(value, choices))
        except ValidationError as error:
            if choices is None or error.code != "invalid_choice":
                raise
            raise ValidationError(
                [*error.messages, _("Valid values: %(values)s.") % {"values": describe_choices(choices)}]
            ) from None
        if cleaned in (None, ""):
            raise ValidationError(_("is empty; give a value"))
        if isinstance(cleaned, models.Model):
            return cleaned.pk
        if isinstance(cleaned, datetime.datetime) and cleaned.tzinfo is not None:
            try:
                cleaned.astimezone(datetime.UTC)  # what the database adapter does; year 1 at +14:00 is year 0
            except OverflowError:
                raise ValidationError(_("is out of range")) from None
        return cleaned

    def choices(self) -> list[tuple[str, str]] | None:
        """The values the filter takes with their labels, when it takes one of a list (a field's choices)."""
        try:
            return fixed_choices(self.form_field())
        except ValidationError:
            return None

    def form_field(self) -> forms.Field:
        if self.filter.form_field is not None:
            return self.filter.form_field
        model_field = self.model_field
        if isinstance(model_field, models.ForeignKey):
            # A foreign key is filtered by the primary key of the related row; checking that the row exists would
            # cost a query and say nothing useful (no such row simply matches nothing).
            model_field = model_field.target_field
        if model_field.choices and self.lookup in _PARTIAL_TEXT_LOOKUPS:
            return forms.CharField(max_length=1000)
        if isinstance(model_field, models.AutoField):
            # An auto field has no form field of its own (a form never edits it); its values are integers.
            return forms.IntegerField()
        form_field = model_field.formfield()
        if isinstance(form_field, forms.CharField) and form_field.max_length is None:
            # Unbounded text is still bounded in a filter; the form field makes its validators when it is built.
            form_field = model_field.formfield(max_length=1000)
        if form_field is None:
            raise ValidationError(_("cannot be filtered on"))
        return form_field


def bind(filter_: Filter, model: type[models.Model]) -> BoundFilter:
    """Check ``filter_`` against ``model``; raises ``ImproperlyConfigured`` with the reason."""
    parts = filter_.path.split(LOOKUP_SEP)
    current: type[models.Model] = model
    model_field: models.Field[Any, Any] | None = None
    field_parts: list[str] = []
    rest: list[str] = []
    for index, part in enumerate(parts):
        try:
            candidate = current._meta.get_field(part)
        except FieldDoesNotExist:
            rest = parts[index:]
            break
        if not isinstance(candidate, models.Field) or candidate.many_to_many:
            raise ImproperlyConfigured(f"Filter {filter_.path!r}: {part!r} is a to-many relation.")
        model_field = candidate
        field_parts.append(part)
        if candidate.is_relation and isinstance(candidate.related_model, type) and index < len(parts) - 1:
            next_part = parts[index + 1]
            related: type[models.Model] = candidate.related_model
            if _has_field(related, next_part):
                current = related
                continue
        rest = parts[index + 1 :]
        break
    if model_field is None:
        raise ImproperlyConfigured(f"Filter {filter_.path!r}: {model._meta.label} has no field {parts[0]!r}.")
    label = filter_.label or capfirst(model_field.verbose_name)
    if rest and rest[0] in _TRANSFORM_FIELDS and isinstance(model_field, models.DateField):
        model_field = _TRANSFORM_FIELDS[rest[0]]
        field_parts.append(rest.pop(0))
    lookup = rest[0] if len(rest) == 1 else "exact" if not rest else ""
    if lookup not in SCALAR_LOOKUPS | SPECIAL_LOOKUPS:
        raise ImproperlyConfigured(
            f"Filter {filter_.path!r}: {LOOKUP_SEP.join(rest)!r} is not a supported lookup "
            f"(use one of {', '.join(sorted(SCALAR_LOOKUPS | SPECIAL_LOOKUPS))})."
        )
    return BoundFilter(filter_, LOOKUP_SEP.join(field_parts), lookup, model_field, label)


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


__all__ = ["COLUMNS_PARAMETER", "BoundFilter", "Filter", "FilterValues", "bind", "parse"]
