"""The ``export`` command's arguments turned into what a request takes: the user, the filters, the output's format."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import CommandError

from exports.columns import parse_column_keys
from exports.declarations import Export
from exports.exceptions import ExportError
from exports.formats.registry import extensions_to_names
from exports.registry import registry
from exports.runs import ExportRequest, Surface, prepare


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


def checked_request(
    name: str,
    *,
    format_name: str | None,
    dialect: str | None,
    filters: list[str],
    columns: str | None,
    chunk_size: int | None,
    username: str | None,
) -> ExportRequest:
    """The command's request, checked by :func:`~exports.runs.prepare`; a :class:`CommandError` with the reasons."""
    try:
        export = registry.get(name)
        user = user_named(username, export) if username is not None else None
        return prepare(
            export,
            surface=Surface.COMMAND,
            user=user,
            filters=parse_filters(filters),
            columns=parse_column_keys([columns]) if columns is not None else None,
            chunk_size=chunk_size,
            format=format_name,
            dialect=dialect,
        )
    except ExportError as error:
        raise CommandError(" ".join(error.messages)) from None
