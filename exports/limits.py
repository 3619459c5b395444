"""The row cap: the most rows an export may write, refused before a byte is sent (or, when rows are added during
the run, before the row past it is)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from exports.conf import app_settings
from exports.exceptions import TooManyRows


def row_limit(max_rows: int | None) -> int | None:
    """The most rows an export whose ``max_rows`` is given may write (else ``EXPORTS_MAX_ROWS``); ``None``: none."""
    return max_rows if max_rows is not None else app_settings.MAX_ROWS


def check_row_count(queryset: models.QuerySet[Any], *, limit: int | None, name: str) -> None:
    """Refuse an export of ``queryset`` that would write more than ``limit`` rows.

    Counts at most ``limit + 1`` rows, so the check costs little even on a huge table.
    """
    if limit is not None and queryset[: limit + 1].count() > limit:
        raise TooManyRows(
            _(
                "The export %(name)s would write more than %(limit)s rows, its limit. "
                "Narrow it down with filters and try again."
            )
            % {"name": repr(name), "limit": f"{limit:,}"}
        )


def grew_beyond(limit: int, *, name: str) -> TooManyRows:
    """The error of a run whose rows passed ``limit`` after the count that let it start."""
    return TooManyRows(
        _("The export %(name)s grew beyond its limit of %(limit)s rows.") % {"name": repr(name), "limit": f"{limit:,}"}
    )
