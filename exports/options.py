"""The checks every option of an :class:`~exports.Export` passes when the export is created.

A wrong type or value raises ``ImproperlyConfigured`` naming the export and the option, at import time, so a
declaration can never run with an option it misread (``formula_escaping="no"`` would otherwise be true). What needs
the models and the permissions of every app is checked later, by the system checks (:mod:`exports.checks`).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

from exports.columns import Column
from exports.filters import Filter
from exports.formats.csv import DIALECTS
from exports.formats.registry import format_names


class Unset(enum.Enum):
    UNSET = enum.auto()


#: An option not given to ``Export()``: the class attribute (a subclass's, or the default) applies.
UNSET: Final = Unset.UNSET


class DefaultPermission:
    """The type of ``DEFAULT_PERMISSION``: ``"<app_label>.export_<model_name>"``."""

    def __repr__(self) -> str:
        return "DEFAULT_PERMISSION"


def validate_options(export: Any) -> None:
    """Raise ``ImproperlyConfigured`` for the first option of ``export`` of the wrong type or value."""
    name = export.name
    for option, rule, expected in _RULES:
        value = getattr(export, option)
        if not rule(value):
            raise ImproperlyConfigured(f"Export {name!r}: {option} must be {expected}, not {value!r}.")
    formats = export.formats
    known = format_names()
    if formats is not None and not (
        _sequence_of(str)(formats) and 0 < len(formats) == len(set(formats)) and set(formats) <= set(known)
    ):
        raise ImproperlyConfigured(
            f"Export {name!r}: formats must be None or a list of format names, each once, among {', '.join(known)}; "
            f"not {formats!r}."
        )
    if isinstance(export.filename, str):
        now = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        try:
            export.filename.format(name=name, date=now.date(), now=now)
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            raise ImproperlyConfigured(
                f"Export {name!r}: filename {export.filename!r} is not a pattern of {{name}}, {{date}} and "
                f"{{now}} ({type(error).__name__}: {error})."
            ) from None


def _optional_positive_int(value: object) -> bool:
    return value is None or (type(value) is int and value > 0)


def _sequence_of(*types: type) -> Callable[[object], bool]:
    def rule(value: object) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(item, types) for item in value)

    return rule


_RULES: Final[list[tuple[str, Callable[[Any], bool], str]]] = [
    # A name is a segment of its URL (``/exports/<name>.<ext>``): any text but a slash.
    ("name", lambda v: isinstance(v, str) and v != "" and "/" not in v, "a non-empty string without '/'"),
    ("label", lambda v: isinstance(v, str | Promise), "a string"),
    ("columns", lambda v: v is None or _sequence_of(str, Column)(v), "a list of paths or Column objects, or None"),
    ("filters", _sequence_of(str, Filter), "a list of lookup paths or Filter objects"),
    ("ordering", lambda v: v is None or _sequence_of(str)(v), "a list of field names, or None"),
    (
        "permission",
        lambda v: v is None or isinstance(v, DefaultPermission) or (isinstance(v, str) and v.count(".") == 1),
        "'app_label.codename', None or DEFAULT_PERMISSION",
    ),
    ("filename", lambda v: isinstance(v, str) or callable(v), "a pattern string or a callable"),
    ("chunk_size", _optional_positive_int, "a positive integer or None"),
    ("formula_escaping", lambda v: v is None or isinstance(v, bool), "True, False or None"),
    ("max_rows", _optional_positive_int, "a positive integer or None"),
    ("copy", lambda v: v is None or isinstance(v, bool), "True, False or None"),
    ("dialect", lambda v: v is None or v in DIALECTS, "None or a CSV dialect: " + ", ".join(DIALECTS)),
]
