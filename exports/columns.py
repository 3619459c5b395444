"""A column of an export: which value it reads and the header it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exports.exceptions import InvalidColumns

#: ``field``: a model field reached through forward foreign keys; ``annotation``: a name the queryset annotates;
#: ``attribute``: a property or method of the model, which needs model instances instead of ``values_list`` rows.
ColumnKind = Literal["field", "annotation", "attribute"]


@dataclass(frozen=True)
class Column:
    """One column of an export, declared by the path of the value it shows.

    ``path`` is a field name, a path through foreign keys (``customer__country``), a name the export's queryset
    annotates, or a property or method of the model. A field with ``choices`` shows the label of its value unless
    ``choice_labels=False``. ``format`` turns the value into what the cell shows (a computed value); its result is
    written by type like any other value. ``optional`` columns may be left out by the user; ``default`` says whether
    an optional column is ticked to begin with. ``name`` identifies the column when the same path is shown twice.
    """

    path: str
    label: str | Promise | None = None
    format: Callable[[Any], Any] | None = None
    optional: bool = False
    default: bool = True
    choice_labels: bool = True
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.path


@dataclass(frozen=True)
class ResolvedColumn:
    """A :class:`Column` checked against the export's model and queryset."""

    column: Column
    kind: ColumnKind
    #: The header, kept lazy when the declaration or the verbose name is (``gettext_lazy``): a resolved column is
    #: cached on its export, so the text is made in each run, in the language active there.
    label: str | Promise
    field: models.Field[Any, Any] | None
    #: For ``attribute`` columns: the foreign keys to follow (``select_related``) before reading the attribute.
    relations: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.column.key

    @property
    def path(self) -> str:
        return self.column.path


def resolve(
    column: Column, model: type[models.Model], annotations: Mapping[str, models.Field[Any, Any] | None]
) -> ResolvedColumn:
    """Check ``column`` against ``model`` and what its queryset annotates (name -> output field, if known).

    Raises ``ImproperlyConfigured`` with the reason when the path leads nowhere, or through a to-many relation
    (a CSV row is one object).
    """
    if column.path in annotations:
        label = column.label or capfirst(column.path.replace("_", " "))
        return ResolvedColumn(column, "annotation", label, annotations[column.path])
    current: type[models.Model] = model
    parts = column.path.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return _resolve_attribute(column, model, current, parts, index)
        if not isinstance(field, models.Field):
            raise ImproperlyConfigured(
                f"Column {column.path!r}: {part!r} is a reverse relation; a CSV row shows one object, so "
                "annotate an aggregate on the export's queryset and name that instead."
            )
        if field.many_to_many or field.one_to_many:
            raise ImproperlyConfigured(
                f"Column {column.path!r}: {part!r} is a to-many relation; a row shows one object."
            )
        if index == len(parts) - 1:
            label = column.label or capfirst(field.verbose_name)
            return ResolvedColumn(column, "field", label, field)
        if not field.is_relation or not isinstance(field.related_model, type):
            raise ImproperlyConfigured(
                f"Column {column.path!r}: {part!r} is not a foreign key, so it has no {parts[index + 1]!r}."
            )
        current = field.related_model
    raise ImproperlyConfigured(f"Column {column.path!r}: empty path.")  # pragma: no cover - split() never gives []


def _resolve_attribute(
    column: Column, model: type[models.Model], owner: type[models.Model], parts: list[str], index: int
) -> ResolvedColumn:
    if index != len(parts) - 1 or not hasattr(owner, parts[index]):
        raise ImproperlyConfigured(
            f"Column {column.path!r}: {owner._meta.label} has no field, annotation or attribute {parts[index]!r}."
        )
    label = column.label or capfirst(parts[index].replace("_", " "))
    return ResolvedColumn(column, "attribute", label, None, relations=tuple(_prefixes(parts[:index])))


def _prefixes(parts: list[str]) -> list[str]:
    return [LOOKUP_SEP.join(parts[: end + 1]) for end in range(len(parts))]


def instance_getter(resolved: ResolvedColumn) -> Callable[[models.Model], Any]:
    """Read the column's value from a model instance (the instance path, used when some column is an attribute)."""
    parts = resolved.path.split(LOOKUP_SEP)
    if resolved.kind == "field" and resolved.field is not None:
        # The last step reads the stored value (``customer_id``), as values_list() does, without a query.
        parts = [*parts[:-1], resolved.field.attname]
    return partial(_read_path, parts=parts, call=resolved.kind == "attribute")


def _read_path(instance: models.Model, *, parts: list[str], call: bool) -> Any:
    value: Any = instance
    for part in parts:
        if value is None:
            return None
        value = getattr(value, part)
    return value() if call and callable(value) else value


def parse_column_keys(values: list[str]) -> list[str]:
    """The column keys given as comma-separated lists (``?columns=a,b``, ``--columns a,b``); an empty one is refused
    (:class:`~exports.exceptions.InvalidColumns`), never skipped."""
    keys = [key.strip() for value in values for key in value.split(",")]
    if not keys or not all(keys):
        raise InvalidColumns(
            _("Empty column name in %(value)s: give the keys of the columns to include, separated by commas.")
            % {"value": repr(",".join(values))}
        )
    return keys


def select(columns: Sequence[ResolvedColumn], keys: Sequence[str] | None) -> list[ResolvedColumn]:
    """What :meth:`Export.select_columns <exports.Export.select_columns>` returns (its docstring says what)."""
    if keys is None:
        return [c for c in columns if not c.column.optional or c.column.default]
    known = {c.key for c in columns}
    problems = []
    unknown = [key for key in keys if key not in known]
    if unknown:
        problems.append(
            ngettext(
                "Unknown column %(names)s. Columns: %(columns)s.",
                "Unknown columns %(names)s. Columns: %(columns)s.",
                len(unknown),
            )
            % {"names": ", ".join(map(repr, unknown)), "columns": ", ".join(c.key for c in columns)}
        )
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        problems.append(
            ngettext(
                "Column %(names)s is named more than once; name each once.",
                "Columns %(names)s are named more than once; name each once.",
                len(twice),
            )
            % {"names": ", ".join(map(repr, twice))}
        )
    if problems:
        raise InvalidColumns(problems)
    wanted = set(keys)
    return [c for c in columns if not c.column.optional or c.key in wanted]


def default_columns(model: type[models.Model]) -> list[Column]:
    """Every concrete field of ``model`` in declaration order; foreign keys show the related primary key."""
    return [Column(field.name) for field in model._meta.concrete_fields]


def annotation_fields(queryset: models.QuerySet[Any]) -> dict[str, models.Field[Any, Any] | None]:
    """The fields of the values ``queryset`` annotates (``None`` for one without a single type), by name."""
    fields: dict[str, models.Field[Any, Any] | None] = {}
    for name, expression in queryset.query.annotations.items():
        try:
            fields[name] = expression.output_field
        except Exception:  # noqa: BLE001 - a mixed-type expression has no output field; values are rendered by type
            fields[name] = None
    return fields
