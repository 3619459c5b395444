r"""TSV (``text/tab-separated-values``): linear TSV, one row a line, written by Python or by PostgreSQL's COPY.

* Cells are separated by a tab and rows end in a line feed; UTF-8, no byte order mark, a header line first.
* Inside a value, backslash, tab, line feed and carriage return are written ``\\``, ``\t``, ``\n`` and ``\r``, so
  every row is one line and no cell is ever quoted. Backspace, form feed and vertical tab are written ``\b``, ``\f``
  and ``\v`` too, as PostgreSQL's text format does (a reader that knows only the first four leaves them as they are).
* NULL is ``\N``; empty text is an empty cell, so the two stay apart.
* Cells are the text :mod:`exports.cells` writes for CSV, formula escaping included.

PostgreSQL's COPY text format writes exactly this, so the COPY path applies as it does for CSV.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, Final

from exports import cells
from exports.columns import ResolvedColumn
from exports.formats.base import ColumnConverter, CopyOutput, Format, SQLCells, chunked

NULL: Final = "\\N"
_ESCAPES: Final = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
)
_SPECIAL: Final = tuple("\\\t\n\r\b\f\v")
_UNESCAPES: Final = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def _column(values: Sequence[Any]) -> list[str]:
    """A column of a batch as escaped text: one scan of the whole column tells whether any cell needs escaping."""
    texts = [v if type(v) is str else "" if v is None else str(v) for v in values]
    joined = "".join(texts)
    if any(character in joined for character in _SPECIAL):
        texts = [text.translate(_ESCAPES) for text in texts]
    if None in values:
        texts = [NULL if value is None else text for value, text in zip(values, texts, strict=True)]
    return texts


def _encode(rows: Sequence[Sequence[Any]]) -> bytes:
    if not rows:
        return b""
    columns = [_column(values) for values in zip(*rows, strict=True)]
    return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()


def unescape(cell: str) -> str | None:
    """A TSV cell back to its text (``None`` for ``\\N``)."""
    if cell == NULL:
        return None
    if "\\" not in cell:
        return cell
    out: list[str] = []
    characters = iter(cell)
    for character in characters:
        out.append(_UNESCAPES.get(next(characters, ""), "") if character == "\\" else character)
    return "".join(out)


class TSVEncoder:
    """Writes a header and batches of rows as linear TSV, yielding chunks of at least ``buffer_size`` bytes."""

    def __init__(self, *, buffer_size: int) -> None:
        self.buffer_size = buffer_size

    def encode_header(self, header: Sequence[str]) -> bytes:
        return _encode([header])

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        return chunked(self.encode_header(header), batches, _encode, buffer_size=self.buffer_size)


class TSV(Format):
    name = "tsv"
    extension = "tsv"
    media_type = "text/tab-separated-values; charset=utf-8"
    label = "TSV"
    sql_cells: ClassVar[SQLCells | None] = SQLCells.TEXT

    def column_converter(
        self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None
    ) -> ColumnConverter | None:
        return cells.column_converter(column, escape=escape, tz=tz)

    def copy_output(self) -> CopyOutput:
        return CopyOutput(options="FORMAT text")

    def encoder(self, *, buffer_size: int) -> TSVEncoder:
        return TSVEncoder(buffer_size=buffer_size)
