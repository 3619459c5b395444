"""Formats by name: the built-in ones, and those a project adds with ``EXPORTS_FORMATS``.

As Django's serializers are found (``BUILTIN_SERIALIZERS`` and ``SERIALIZATION_MODULES``)::

    EXPORTS_FORMATS = {"ods": "myproject.exports_ods.ODS"}  # name -> dotted path of a Format subclass

A project's entry replaces a built-in format of the same name; ``None`` as the path removes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from django.utils.module_loading import import_string

from exports.conf import app_settings
from exports.exceptions import ExportError, UnknownFormat
from exports.formats.base import Format

BUILTIN_FORMATS: Final = {
    "csv": "exports.formats.csv.CSV",
    "tsv": "exports.formats.tsv.TSV",
    "jsonl": "exports.formats.jsonl.JSONLines",
    "xlsx": "exports.formats.typed.XLSX",
}
DEFAULT_FORMAT: Final = "csv"


def format_paths() -> dict[str, str]:
    """Every format's name and the dotted path of its class, the built-in ones first."""
    paths = dict(BUILTIN_FORMATS)
    for name, path in (app_settings.FORMATS or {}).items():
        if path is None:
            paths.pop(name, None)
        else:
            paths[name] = path
    return paths


def format_names() -> list[str]:
    return list(format_paths())


def load(path: str) -> Format:
    """The format whose class (or instance) ``path`` names; ``ImportError`` or ``TypeError`` when it is none."""
    found = import_string(path)
    if isinstance(found, type) and issubclass(found, Format):
        found = found()
    if not isinstance(found, Format):
        raise TypeError(f"{path} is not a Format subclass (exports.formats.base.Format)")
    return found


def get_format(name: str) -> Format:
    """The format called ``name``, in its default dialect; raises :class:`UnknownFormat`."""
    path = format_paths().get(name)
    if path is None:
        raise UnknownFormat(f"No format is called {name!r}; the formats are {', '.join(format_names())}.")
    return load(path)


def extensions_to_names() -> dict[str, str]:
    """Each format's extension and its name."""
    return {get_format(name).extension: name for name in format_paths()}


def extensions() -> set[str]:
    """The extensions of every format's files."""
    return set(extensions_to_names())


def for_extension(extension: str) -> Format:
    """The format whose files end in ``.extension`` (the URL's and the command's); raises :class:`UnknownFormat`."""
    for name in format_paths():
        found = get_format(name)
        if found.extension == extension:
            return found
    raise UnknownFormat(f"No format writes .{extension} files.")


def choose_format(
    name: str | None, *, dialect: str | None, allowed: Sequence[str] | None, default_dialect: str | None
) -> Format:
    """The format a request asks for, among the ``allowed`` names (``None``: every format), in its dialect.

    ``name`` ``None`` is CSV, or the first allowed format when CSV is not; ``dialect`` ``None`` is
    ``default_dialect`` where the format has it (an export's default CSV dialect), else the format's own default.
    Raises :class:`UnknownFormat` for a format that does not exist or is not allowed, and
    :class:`~exports.exceptions.ExportError` for a dialect the format does not have.
    """
    if name is None:
        name = DEFAULT_FORMAT if allowed is None or DEFAULT_FORMAT in allowed else allowed[0]
    chosen = get_format(name)
    if allowed is not None and name not in allowed:
        raise UnknownFormat(f"This export is not offered as {name}; its formats are {', '.join(allowed)}.")
    if dialect is not None:
        try:
            return chosen.with_dialect(dialect)
        except ValueError as error:
            raise ExportError(str(error)) from None
    if default_dialect is not None and default_dialect in chosen.dialects:
        return chosen.with_dialect(default_dialect)
    return chosen
