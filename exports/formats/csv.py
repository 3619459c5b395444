"""CSV: RFC 4180 text in UTF-8, in three named dialects, written by Python's ``csv`` or by PostgreSQL's COPY.

* ``unix`` (the default): comma, rows ending in a line feed (``\\n``, the one line ending COPY writes), no byte order
  mark.
* ``excel``: a UTF-8 byte order mark (so Excel reads ``Zoë`` as ``Zoë``), comma, rows ending in CRLF.
* ``excel-semicolon``: the same with ``;`` between cells, for the locales whose Excel expects it (German, French...).

A cell is quoted when it holds the delimiter, a double quote, CR or LF; quotes are doubled; line breaks inside a
quoted cell are written as they are. Cells are written as :mod:`exports.cells` says, formula escaping included.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from exports import cells
from exports.columns import ResolvedColumn
from exports.formats.base import ColumnConverter, CopyOutput, Format, SQLCells, chunked

BOM: Final = "\ufeff"


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    line_terminator: str
    bom: bool


#: The dialects by name, the default first.
DIALECTS: Final = {
    "unix": Dialect(",", "\n", bom=False),
    "excel": Dialect(",", "\r\n", bom=True),
    "excel-semicolon": Dialect(";", "\r\n", bom=True),
}
DEFAULT_DIALECT: Final = "unix"


class _Lines:
    """The pseudo-buffer ``csv.writer`` writes to: it keeps each formatted line until the batch is joined."""

    __slots__ = ("lines", "write")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.write = self.lines.append

    def take(self) -> str:
        text = "".join(self.lines)
        self.lines.clear()
        return text


class CSVEncoder:
    """Writes a header and batches of rows as UTF-8 CSV, yielding chunks of at least ``buffer_size`` bytes."""

    def __init__(self, *, buffer_size: int, dialect: str | Dialect = DEFAULT_DIALECT) -> None:
        self.buffer_size = buffer_size
        self.dialect = DIALECTS[dialect] if isinstance(dialect, str) else dialect
        self._lines = _Lines()
        self._writer = csv.writer(
            self._lines, delimiter=self.dialect.delimiter, lineterminator=self.dialect.line_terminator
        )
        # A writer quotes the characters of its own line terminator: only one ending in a bare LF needs help with CR.
        self._bare_lf = "\r" not in self.dialect.line_terminator

    def encode_header(self, header: Sequence[str]) -> bytes:
        return (BOM if self.dialect.bom else "").encode() + self.encode_row(header)

    def encode_row(self, row: Sequence[Any]) -> bytes:
        return self._encode([row])

    def _encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        lines = self._lines.lines
        self._writer.writerows(rows)  # one write() per row: lines[i] is rows[i]
        text = "".join(lines)
        if self._bare_lf and "\r" in text:  # rare, and one scan in C tells
            self._quote_carriage_returns(rows)
            text = "".join(lines)
        lines.clear()
        return text.encode()

    def _quote_carriage_returns(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rewrite the lines whose cells hold a carriage return, quoting them (as RFC 4180 and PostgreSQL's COPY do).

        Python's csv (3.11) only quotes the characters of its own line terminator, so with ``\\n`` a lone ``\\r``
        would go out bare and a reader would take it for a line break. A writer whose terminator is ``\\r\\n``
        quotes both; its own terminator is swapped for ``\\n``. Only the rows holding a CR pay for this.
        """
        lines = self._lines.lines
        carriage = [index for index, line in enumerate(lines) if "\r" in line]
        once = _Lines()
        writer = csv.writer(once, delimiter=self.dialect.delimiter, lineterminator="\r\n")
        for index in carriage:
            writer.writerow(rows[index])
            lines[index] = once.take()[:-2] + self.dialect.line_terminator

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        """The header line and the first batch at once, then one ``bytes`` chunk per ``buffer_size`` bytes."""
        return chunked(self.encode_header(header), batches, self._encode, buffer_size=self.buffer_size)


class CSV(Format):
    name = "csv"
    extension = "csv"
    media_type = "text/csv; charset=utf-8"
    label = "CSV"
    sql_cells: ClassVar[SQLCells | None] = SQLCells.CSV
    dialects = tuple(DIALECTS)

    def column_converter(
        self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None
    ) -> ColumnConverter | None:
        return cells.column_converter(column, escape=escape, tz=tz)

    def copy_output(self) -> CopyOutput:
        dialect = DIALECTS[self.dialect or DEFAULT_DIALECT]
        delimiter = "" if dialect.delimiter == "," else f", DELIMITER '{dialect.delimiter}'"
        return CopyOutput(
            options=f"FORMAT csv{delimiter}",
            quoted_newlines=True,
            crlf=dialect.line_terminator == "\r\n",
            min_columns=2,
        )

    def encoder(self, *, buffer_size: int) -> CSVEncoder:
        return CSVEncoder(buffer_size=buffer_size, dialect=self.dialect or DEFAULT_DIALECT)
