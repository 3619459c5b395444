"""The export page shown before an admin download when there is a choice to make (optional columns, or more than one
format): it restates what will be exported, and offers the columns, the format and the CSV dialect. Also the
changelist's order carried into the export."""

from __future__ import annotations

from typing import Any

import django
from django.contrib.admin.utils import model_ngettext
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FieldError
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exports.declarations import Export
from exports.formats.csv import DIALECTS
from exports.formats.registry import format_names, get_format

#: The page's checkboxes, its format and dialect choices, and the field that marks its form as submitted.
COLUMNS_FIELD = "columns"
FORMAT_FIELD = "exports_format"
DIALECT_FIELD = "exports_dialect"
CHOSEN_FIELD = "exports_columns_chosen"
DIALECT_LABELS = {
    "unix": gettext_lazy("Unix: comma, LF, no byte order mark"),
    "excel": gettext_lazy("Excel: UTF-8 with BOM, comma, CRLF"),
    "excel-semicolon": gettext_lazy("Excel, semicolon: UTF-8 with BOM, “;”, CRLF (German, French... Excel)"),
}


def allowed_formats(export: Export) -> list[str]:
    """The names of the formats the export is offered in, as the registry knows them now."""
    known = format_names()
    return [name for name in (export.formats or known) if name in known]


def needs_picker(export: Export) -> bool:
    """Whether a download asks first: the export has optional columns, or is offered in more than one format."""
    return len(allowed_formats(export)) > 1 or any(column.column.optional for column in export.resolved_columns)


def picker_context(
    export: Export,
    *,
    count: int,
    form_url: str,
    hidden: list[tuple[str, str]],
    changelist_url: str,
    criteria: list[tuple[str, str]],
) -> dict[str, Any]:
    """The template context of the export page (the admin adds its own: site, title, opts)."""
    columns = export.resolved_columns
    formats = [get_format(name) for name in allowed_formats(export)]
    names = [fmt.name for fmt in formats]
    return {
        "subtitle": None,
        # Django 6.1's admin lays out breadcrumbs as a list and checkboxes in their own box (its CSS expects both).
        "admin_markup_61": django.VERSION >= (6, 1),
        "export": export,
        "count": count,
        # "order" or "orders" in the active language (one msgid for both forms, as msgfmt --check wants).
        "items_name": model_ngettext(export.model_class._meta, count),
        "criteria": criteria,
        "required_columns": [column.label for column in columns if not column.column.optional],
        "columns": [
            {"key": column.key, "label": column.label, "checked": column.column.default}
            for column in columns
            if column.column.optional
        ],
        "formats": [(fmt.name, fmt.label) for fmt in formats],
        "default_format": "csv" if "csv" in names else names[0],
        "dialects": [(name, DIALECT_LABELS.get(name, name)) for name in DIALECTS] if "csv" in names else [],
        "default_dialect": export.dialect or next(iter(DIALECTS)),
        "columns_field": COLUMNS_FIELD,
        "format_field": FORMAT_FIELD,
        "dialect_field": DIALECT_FIELD,
        "chosen_field": CHOSEN_FIELD,
        "form_url": form_url,
        "hidden_fields": hidden,
        "changelist_url": changelist_url,
    }


def chosen_options(request: HttpRequest) -> dict[str, Any]:
    """The page's choices, as :func:`~exports.runs.prepare` takes them: the optional columns ticked (``None``, the
    defaults, when no page was shown), the format, and the dialect when the format has dialects."""
    if request.method != "POST" or CHOSEN_FIELD not in request.POST:
        return {"columns": None}
    name = request.POST.get(FORMAT_FIELD) or None
    dialect = request.POST.get(DIALECT_FIELD) or None
    if dialect is not None and name is not None and name in format_names() and not get_format(name).dialects:
        dialect = None  # the page offers the CSV dialect whatever the format chosen
    return {"columns": request.POST.getlist(COLUMNS_FIELD), "format": name, "dialect": dialect}


def describe_changelist(changelist: ChangeList) -> list[tuple[str, str]]:
    """What chose the changelist's rows, as (what, value) pairs: each list filter in use, the date, the search."""
    criteria: list[tuple[str, str]] = []
    for spec in changelist.filter_specs:
        if not getattr(spec, "used_parameters", None):
            continue
        chosen = [str(choice["display"]) for choice in spec.choices(changelist) if choice.get("selected")]
        criteria.append((str(spec.title), ", ".join(chosen)))
    hierarchy = changelist.date_hierarchy
    if hierarchy:
        parts = [changelist.params.get(f"{hierarchy}__{part}") for part in ("year", "month", "day")]
        date = "-".join(str(part[-1] if isinstance(part, list) else part) for part in parts if part)
        if date:
            criteria.append((_("Date"), date))
    if changelist.query:
        criteria.append((_("Search"), changelist.query))
    return criteria


def changelist_ordering(rows: models.QuerySet[Any], changelist: models.QuerySet[Any]) -> list[Any] | None:
    """The changelist's ordering, when the export's rows can be sorted by it (an ordering by something only the
    admin's queryset annotates cannot be: the export's own order applies then)."""
    ordering = list(changelist.query.order_by)
    if not ordering:
        return None
    try:
        rows.order_by(*ordering).query.get_compiler(rows.db).as_sql()
    except (FieldError, EmptyResultSet):
        return None
    return ordering
