"""The fixed choices a filter takes (a field's ``choices``): named by value or by label, listed in errors and help."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

_BOOLEAN_VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def fixed_choices(form_field: forms.Field) -> list[tuple[str, str]] | None:
    """The values ``form_field`` accepts with their labels, when it takes one of a fixed list; else ``None``."""
    # A model's rows are no list to show (and could be millions): only fixed choices are listed.
    if not isinstance(form_field, forms.ChoiceField) or isinstance(form_field, forms.ModelChoiceField):
        return None
    return [(str(value), str(label)) for value, label in _flatten(form_field.choices) if value not in ("", None)]


def choice_value(given: str, choices: Sequence[tuple[str, str]]) -> str:
    """The value of the choice ``given`` names: its value, or its value or label in any case; ``given`` if none.

    The file and the admin show a choice's label: what a user reads there works as a filter. An exact value wins over
    a label that happens to spell another choice's value.
    """
    folded = given.casefold()
    for value, _ in choices:
        if value == given:
            return value
    for value, _ in choices:
        if value.casefold() == folded:
            return value
    for value, label in choices:
        if label.casefold() == folded:
            return value
    return given


def describe_choices(choices: Sequence[tuple[str, str]]) -> str:
    """``paid, aborted (Aborted by the client)``: each value, with its label where it says more than the value."""
    return ", ".join(
        value if label.casefold() == value.casefold() else f"{value} ({label})" for value, label in choices
    )


def clean_boolean(value: str) -> bool:
    """A yes-or-no value (``isnull``): true, false, 1, 0, yes or no, in any case."""
    try:
        return _BOOLEAN_VALUES[value.lower()]
    except KeyError:
        raise ValidationError("must be true or false") from None


def _flatten(choices: Any) -> Iterator[tuple[Any, Any]]:
    for value, label in choices:
        if isinstance(label, list | tuple):  # a named group of choices
            yield from _flatten(label)
        else:
            yield value, label
