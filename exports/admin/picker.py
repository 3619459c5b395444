"""The column page shown before an admin download when the export has optional columns, and the changelist's order
carried into the export."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import EmptyResultSet, FieldError
from django.db import models

from exports.declarations import Export

#: The page's checkboxes, and the field that marks its form as submitted.
COLUMNS_FIELD = "columns"
CHOSEN_FIELD = "exports_columns_chosen"


def picker_context(
    export: Export, *, count: int, form_url: str, hidden: list[tuple[str, str]], changelist_url: str
) -> dict[str, Any]:
    """The template context of the column page (the admin adds its own: site, title, opts)."""
    return {
        "subtitle": None,
        "export": export,
        "count": count,
        # "order" or "orders" in the active language (one msgid for both forms, as msgfmt --check wants).
        "items_name": model_ngettext(export.model_class._meta, count),
        "columns": [
            {
                "key": column.key,
                "label": column.label,
                "optional": column.column.optional,
                "checked": not column.column.optional or column.column.default,
            }
            for column in export.resolved_columns
        ],
        "columns_field": COLUMNS_FIELD,
        "chosen_field": CHOSEN_FIELD,
        "form_url": form_url,
        "hidden_fields": hidden,
        "changelist_url": changelist_url,
    }


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
