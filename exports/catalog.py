"""What an export offers a caller, as plain data: its filters (with the values a choice takes) and its columns.

``manage.py export --list`` prints it, and ``--list --json`` gives it to scripts, under keys that stay: ``name``,
``label``, ``filters`` (each ``name``, ``lookup`` and, for a choice, ``choices`` of ``value`` and ``label``) and
``columns`` (each ``key``, ``label``, ``optional`` and ``default``: whether it is written when no columns are named).
"""

from __future__ import annotations

from typing import Any

from django.db.models.constants import LOOKUP_SEP

from exports.choices import describe_choices
from exports.declarations import Export


def describe(export: Export) -> dict[str, Any]:
    """``export``'s name, label, filters and columns, as JSON-ready data."""
    filters = []
    for key, bound in export.bound_filters.items():
        item: dict[str, Any] = {"name": key, "lookup": f"{bound.field_path}{LOOKUP_SEP}{bound.lookup}"}
        choices = bound.choices()
        if choices is not None:
            item["choices"] = [{"value": value, "label": label} for value, label in choices]
        filters.append(item)
    columns = [
        {
            "key": column.key,
            "label": str(column.label),
            "optional": column.column.optional,
            "default": not column.column.optional or column.column.default,
        }
        for column in export.resolved_columns
    ]
    return {"name": export.name, "label": str(export.label), "filters": filters, "columns": columns}


def as_text(description: dict[str, Any]) -> list[str]:
    """The lines ``export --list`` prints for one export: ``name<TAB>label``, then its filters and optional columns,
    indented (so a script that reads only the first field of unindented lines still gets the names)."""
    lines = [f"{description['name']}\t{description['label']}"]
    filters = [
        f"{item['name']} ({describe_choices([(c['value'], c['label']) for c in item['choices']])})"
        if "choices" in item
        else item["name"]
        for item in description["filters"]
    ]
    lines.append(f"  filters: {', '.join(filters) or 'none'}")
    optional = [
        f"{column['key']}{'' if column['default'] else ' (off by default)'}"
        for column in description["columns"]
        if column["optional"]
    ]
    lines.append(f"  optional columns: {', '.join(optional) or 'none'}")
    return lines
