"""The ``export`` command's arguments turned into what a request takes: the user, the filters, the output's format."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import CommandError

from exports.declarations import Export
from exports.formats.registry import extensions_to_names


def output_format(output: str, format_name: str | None) -> tuple[bool, str | None]:
    """Whether the output is gzipped, and the format its name or ``--format`` asks for (``None``: the default)."""
    compressed = output != "-" and output.lower().endswith(".gz")
    base = output[:-3] if compressed else output
    stem, dot, suffix = os.path.basename(base).rpartition(".")
    named = extensions_to_names().get(suffix.lower()) if dot and stem and output != "-" else None
    if format_name is not None and named is not None and named != format_name:
        raise CommandError(f"{output} names a {named} file, but --format is {format_name}.")
    return compressed, format_name or named


def user_named(username: str, export: Export) -> Any:
    try:
        user = get_user_model()._default_manager.get_by_natural_key(username)
    except ObjectDoesNotExist:
        raise CommandError(f"No user is called {username!r}.") from None
    if not export.has_permission(user):
        raise CommandError(f"The user {username!r} may not run the export {export.name!r}.")
    return user


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--filter takes KEY=VALUE, not {item!r}.")
        filters.setdefault(key.strip(), []).append(value)
    return filters
