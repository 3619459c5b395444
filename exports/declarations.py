"""The declaration of an export: what it reads, which columns it shows, who may run it, what the file is called."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar, Final, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst, slugify

from exports import columns as columns_module
from exports import filters as filters_module
from exports.columns import Column, ResolvedColumn
from exports.exceptions import InvalidColumns
from exports.filters import BoundFilter, Filter, FilterValues
from exports.formats.registry import extensions
from exports.options import UNSET, DefaultPermission, Unset, validate_options


class User(Protocol):
    """What an export needs of a user (``request.user``, a custom user model or ``AnonymousUser``)."""

    @property
    def is_active(self) -> bool: ...

    @property
    def is_authenticated(self) -> bool: ...

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...


#: The default ``permission``: ``"<app_label>.export_<model_name>"``, declared in the model's ``Meta.permissions``.
DEFAULT_PERMISSION: Final = DefaultPermission()

_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class Export:
    """One export, declared once and served by the download URL, the admin and the ``export`` command.

    Declare it with keyword arguments (``Export(Order, columns=[...])``) or as a subclass with class attributes, the
    way a ``ModelAdmin`` is declared; register it with :func:`exports.register`. Only the source is required; every
    option is keyword-only, and a wrong type or value raises ``ImproperlyConfigured`` naming it:

    * ``model`` or ``queryset`` (the first positional argument may be either): the rows; a queryset may annotate
      values for columns to show and limit the rows (``Order.objects.filter(test=False)``).
    * ``name``: the name in URLs and on the command line; defaults to the model's plural verbose name, slugified.
    * ``columns``: paths or :class:`~exports.Column` objects, in order; defaults to every concrete field.
    * ``filters``: lookup paths or :class:`~exports.Filter` objects a caller may apply; none by default.
    * ``ordering``: defaults to the queryset's ordering, or the primary key.
    * ``permission``: the permission a user needs; defaults to ``"<app_label>.export_<model_name>"``; ``None`` lets
      any active staff user export.
    * ``filename``: a pattern with ``{name}``, ``{date}`` and ``{now}`` (local time), or a callable taking the
      export and returning the name; defaults to ``"{name}-{date:%Y%m%d}.csv"``. The name ends in the format's
      extension: one that ends in another format's (``.csv``) has it replaced, any other has it added.
    * ``formats``: the names of the formats the export is offered in (``["csv", "xlsx"]``); defaults to every
      registered format (``csv``, ``tsv``, ``jsonl``, ``xlsx``, and those of ``EXPORTS_FORMATS``).
    * ``dialect``: the CSV dialect a caller gets unless they choose one: ``"unix"`` (the default), ``"excel"`` or
      ``"excel-semicolon"``.
    * ``chunk_size``: rows per database round trip; defaults to ``EXPORTS_CHUNK_SIZE``.
    * ``formula_escaping``: defaults to ``EXPORTS_FORMULA_ESCAPING``.
    * ``max_rows``: the most rows a run may write (a larger one is refused before it starts); defaults to
      ``EXPORTS_MAX_ROWS``.
    * ``copy``: ``False`` always reads rows through the ORM, never PostgreSQL's COPY (see :mod:`exports.sources.copy`
      for when COPY applies); defaults to ``EXPORTS_COPY``.
    """

    model: ClassVar[type[models.Model] | None] = None
    queryset: ClassVar[models.QuerySet[Any] | None] = None
    name: str = ""
    label: str = ""
    columns: Sequence[str | Column] | None = None
    filters: Sequence[str | Filter] = ()
    ordering: Sequence[str] | None = None
    permission: str | None | DefaultPermission = DEFAULT_PERMISSION
    filename: str | Callable[[Export], str] = "{name}-{date:%Y%m%d}.csv"
    chunk_size: int | None = None
    formula_escaping: bool | None = None
    max_rows: int | None = None
    copy: bool | None = None
    formats: Sequence[str] | None = None
    dialect: str | None = None

    def __init__(
        self,
        source: type[models.Model] | models.QuerySet[Any] | None = None,
        /,
        *,
        model: type[models.Model] | None | Unset = UNSET,
        queryset: models.QuerySet[Any] | None | Unset = UNSET,
        name: str | Unset = UNSET,
        label: str | Unset = UNSET,
        columns: Sequence[str | Column] | None | Unset = UNSET,
        filters: Sequence[str | Filter] | Unset = UNSET,
        ordering: Sequence[str] | None | Unset = UNSET,
        permission: str | None | DefaultPermission | Unset = UNSET,
        filename: str | Callable[[Export], str] | Unset = UNSET,
        chunk_size: int | None | Unset = UNSET,
        formula_escaping: bool | None | Unset = UNSET,
        max_rows: int | None | Unset = UNSET,
        copy: bool | None | Unset = UNSET,
        formats: Sequence[str] | None | Unset = UNSET,
        dialect: str | None | Unset = UNSET,
    ) -> None:
        if isinstance(source, models.QuerySet) and queryset is UNSET:
            queryset = source
        elif isinstance(source, type) and model is UNSET:
            model = source
        # Every keyword argument is an option of the same name (UNSET: not given, the class attribute applies).
        given = {option: value for option, value in locals().items() if option not in {"self", "source"}}
        for option, value in given.items():
            if value is not UNSET:
                setattr(self, option, value)
        rows = self.__dict__.get("queryset", type(self).queryset)
        source_model = rows.model if rows is not None else self.__dict__.get("model", type(self).model)
        if source_model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model or a queryset.")
        self.model_class: type[models.Model] = source_model
        self.base_queryset: models.QuerySet[Any] | None = rows
        opts = source_model._meta
        if not self.name:
            self.name = slugify(str(opts.verbose_name_plural)) or opts.model_name or "export"
        if not self.label:
            # Lazy when the verbose name is: the label follows the language in force where it is shown.
            self.label = capfirst(opts.verbose_name_plural)
        validate_options(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} of {self.model_class._meta.label}>"

    # Rows ---------------------------------------------------------------------------------------------------------

    def get_queryset(self, user: User | None) -> models.QuerySet[Any]:
        """The rows ``user`` may export, before filters and ordering: override it to scope them per user. Every surface
        asks here (the admin within its changelist). ``user`` is ``None`` for the operator (``manage.py export``
        without ``--user``), who reads every row. The default: a fresh copy of the declared rows, for anyone."""
        return self.declared_rows()

    def declared_rows(self) -> models.QuerySet[Any]:
        """A fresh copy of the ``queryset`` option, or of the model's default manager."""
        rows = self.base_queryset
        return rows.all() if rows is not None else self.model_class._default_manager.all()

    def order(self, queryset: models.QuerySet[Any], ordering: Sequence[Any] | None = None) -> models.QuerySet[Any]:
        """``queryset`` in ``ordering`` (default: the export's), ending on the primary key so the order is total."""
        ordering = self.ordering if ordering is None else ordering
        if ordering is not None:
            return queryset.order_by(*ordering) if "pk" in ordering else queryset.order_by(*ordering, "pk")
        if queryset.ordered:
            return queryset
        return queryset.order_by("pk")

    # Columns ------------------------------------------------------------------------------------------------------

    @cached_property
    def resolved_columns(self) -> list[ResolvedColumn]:
        """Every column, checked against the model (``ImproperlyConfigured`` says what is wrong)."""
        declared = self.columns if self.columns is not None else columns_module.default_columns(self.model_class)
        columns = [column if isinstance(column, Column) else Column(column) for column in declared]
        if not columns:
            raise ImproperlyConfigured(f"Export {self.name!r} has no columns.")
        keys = [column.key for column in columns]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ImproperlyConfigured(
                f"Export {self.name!r}: columns {', '.join(duplicates)} appear twice; give one a name=."
            )
        annotations = columns_module.annotation_fields(self.declared_rows())
        return [columns_module.resolve(column, self.model_class, annotations) for column in columns]

    def select_columns(self, keys: Sequence[str] | None = None) -> list[ResolvedColumn]:
        """The columns to write: all default ones, or the required ones plus the optional ones named in ``keys``.

        Naming a required column is allowed and changes nothing: it is always written (so a list naming only required
        columns asks for none of the optional ones). Raises :class:`~exports.exceptions.InvalidColumns` for a name
        that is not a column of this export, or a name given twice.
        """
        columns = self.resolved_columns
        if keys is None:
            return [c for c in columns if not c.column.optional or c.column.default]
        known = {c.key for c in columns}
        problems = []
        unknown = [key for key in keys if key not in known]
        if unknown:
            problems.append(
                f"Unknown column {', '.join(map(repr, unknown))}. Columns: {', '.join(c.key for c in columns)}."
            )
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            problems.append(f"Column {', '.join(map(repr, twice))} is named more than once; name each once.")
        if problems:
            raise InvalidColumns(problems)
        wanted = set(keys)
        return [c for c in columns if not c.column.optional or c.key in wanted]

    # Filters ------------------------------------------------------------------------------------------------------

    @cached_property
    def bound_filters(self) -> dict[str, BoundFilter]:
        bound = [
            filters_module.bind(item if isinstance(item, Filter) else Filter(item), self.model_class)
            for item in self.filters
        ]
        return {item.key: item for item in bound}

    def parse_filters(self, data: Mapping[str, Sequence[str]]) -> FilterValues:
        """Validate caller-given filters (parameter -> values); raises ``InvalidFilters`` listing every problem."""
        return filters_module.parse(self.bound_filters, data)

    # Who and what -------------------------------------------------------------------------------------------------

    @property
    def required_permission(self) -> str | None:
        if isinstance(self.permission, DefaultPermission):
            opts = self.model_class._meta
            return f"{opts.app_label}.export_{opts.model_name}"
        return self.permission

    def has_permission(self, user: User) -> bool:
        """Whether ``user`` may run this export; override for rules beyond one permission."""
        if not (user.is_active and user.is_authenticated):
            return False
        permission = self.required_permission
        if permission is None:
            return bool(getattr(user, "is_staff", False))
        return user.has_perm(permission)

    def get_filename(self, *, extension: str = "csv") -> str:
        """The download's file name, made safe for any file system, ending in ``.extension``."""
        if callable(self.filename):
            name = self.filename(self)
        else:
            now = timezone.localtime() if settings.USE_TZ else timezone.now()
            name = self.filename.format(name=self.name, date=now.date(), now=now)
        name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and suffix.lower() in extensions():
            name = stem
        return f"{name or slugify(self.name) or 'export'}.{extension}"
