"""The one small interface every format follows, and what the built-in text formats share.

A :class:`Format` knows its name, extension and media type; how the values of a column become its cells (a column
converter, as :func:`exports.cells.column_converter` is for the text formats); whether PostgreSQL can write it byte
for byte (:meth:`Format.copy_output`, and :attr:`Format.sql_cells` for the cells PostgreSQL formats on the ORM path);
and its encoder, which turns a header and batches of cells into bytes. It knows nothing about HTTP, files or runs.

Adding a format is one module with a :class:`Format` subclass, named in ``EXPORTS_FORMATS`` (:mod:`exports.formats
.registry`).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from exports.cells import ColumnConverter
from exports.columns import ResolvedColumn

__all__ = ["ColumnConverter", "CopyOutput", "Encoder", "Format", "SQLCells", "TextEncoder", "chunked"]


class Encoder(Protocol):
    """Turns a header and batches of rows of cells into chunks of bytes."""

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        """The header and the first batch at once, then chunks of about the encoder's buffer size, yielded only
        between batches (the pipeline counts the rows of the batches taken so far)."""
        ...


class TextEncoder(Encoder, Protocol):
    """An encoder of a text format, which can also write the start of a file PostgreSQL's COPY writes the rest of."""

    def encode_header(self, header: Sequence[str]) -> bytes:
        """What comes before the first row (a byte order mark, the header line; nothing for JSON Lines)."""
        ...


class SQLCells(enum.Enum):
    """How PostgreSQL writes a format's cells (:mod:`exports.postgres.cells`), the same as its column converters."""

    #: Text cells as :mod:`exports.cells` writes them; empty text as NULL, since CSV writes both as an empty cell.
    CSV = "csv"
    #: Text cells as :mod:`exports.cells` writes them; empty text and NULL kept apart (TSV's ``\\N``).
    TEXT = "text"
    #: The JSON text of each value (``null``, numbers, ``true``, strings), as :mod:`exports.formats.jsonl` writes it.
    JSON = "json"


@dataclass(frozen=True, kw_only=True)
class CopyOutput:
    """How ``COPY ... TO STDOUT`` writes a format's rows byte for byte (:mod:`exports.sources.copy`)."""

    #: What goes in ``WITH (...)``: ``FORMAT csv, DELIMITER ';'``.
    options: str
    #: One JSON object per row, built in SQL from the columns' JSON cells (COPY then writes one column).
    json_object: bool = False
    #: Line feeds inside quoted cells do not end a row (CSV): rows are counted outside quotes.
    quoted_newlines: bool = False
    #: Rows end in CRLF: COPY writes LF, and the line feeds outside quoted cells become CRLF while streaming.
    crlf: bool = False
    #: COPY writes a row of one empty cell differently from the encoder (CSV): fewer columns keep to the ORM path.
    min_columns: int = 1


class Format:
    """A file format. Subclass it, set the attributes, implement :meth:`column_converter` and :meth:`encoder`.

    Formats are stateless and shared: :meth:`encoder` makes a fresh encoder for each run.
    """

    #: The name in ``Export(formats=[...])``, ``--format`` and the audit record.
    name: ClassVar[str] = ""
    #: The file name's extension, without the dot; also the URL's (``/exports/<name>.<extension>``).
    extension: ClassVar[str] = ""
    #: The ``Content-Type`` of a download.
    media_type: ClassVar[str] = "application/octet-stream"
    #: What the admin's format choice shows.
    label: ClassVar[str] = ""
    #: A text format: the command gzips it for an output name ending in ``.gz``.
    text: ClassVar[bool] = True
    #: Whether text cells are formula-escaped (a spreadsheet may open the file and run them); typed formats are not.
    escapes_formulas: ClassVar[bool] = True
    #: How PostgreSQL writes the cells on the ORM path; ``None``: every cell is converted in Python.
    sql_cells: ClassVar[SQLCells | None] = None
    #: The named variants of the format (CSV's dialects), the default first; empty when it has none.
    dialects: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, dialect: str | None = None) -> None:
        if dialect is not None and dialect not in self.dialects:
            known = ", ".join(self.dialects) if self.dialects else "none"
            raise ValueError(f"The {self.name} format has no dialect {dialect!r} (its dialects: {known}).")
        #: This instance's variant (``None`` for a format without dialects).
        self.dialect = dialect if dialect is not None else (self.dialects[0] if self.dialects else None)

    def with_dialect(self, dialect: str) -> Format:
        """This format in the named ``dialect``; ``ValueError`` when the format has no such dialect."""
        return self if dialect == self.dialect else type(self)(dialect=dialect)

    def copy_output(self) -> CopyOutput | None:
        """How PostgreSQL's COPY writes the whole file; ``None``: never through COPY."""
        return None

    def header(self, columns: Sequence[ResolvedColumn]) -> list[str]:
        """What the encoder gets as the header: the columns' labels (JSON Lines takes their keys)."""
        return [str(column.label) for column in columns]

    def column_converter(
        self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None
    ) -> ColumnConverter | None:
        """What turns a column of fetched values into this format's cells; ``None`` when they are written as they
        come. ``escape``: formula escaping is on; ``tz``: the zone datetimes are written in (``None``: naive)."""
        raise NotImplementedError

    def encoder(self, *, buffer_size: int) -> Encoder:
        """A fresh encoder yielding chunks of about ``buffer_size`` bytes."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}{f' ({self.dialect})' if self.dialect else ''}>"


def chunked(
    first: bytes, batches: Iterable[Sequence[Sequence[Any]]], encode: Callable[[Any], bytes], *, buffer_size: int
) -> Iterator[bytes]:
    """``first`` and the first batch at once, then one chunk per ``buffer_size`` bytes (the last may be short).

    A chunk is only yielded between batches, so the number of yields grows with the size of the data, never with the
    number of rows: one ``yield`` per row would cost more than the formatting itself.
    """
    pending = [first]
    size = len(first)
    started = False
    for batch in batches:
        data = encode(batch)
        pending.append(data)
        size += len(data)
        if size >= buffer_size or not started:
            yield b"".join(pending)
            pending.clear()
            size = 0
            started = True
    if pending:
        yield b"".join(pending)
