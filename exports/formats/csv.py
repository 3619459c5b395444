"""CSV: RFC 4180 text, UTF-8, rows ending in a line feed, in large chunks.

* UTF-8, no byte order mark; a cell is quoted when it holds a comma, a double quote, CR or LF; quotes are doubled.
* Rows end with a line feed (``\\n``), the one line ending PostgreSQL's COPY writes, so both sources give the same
  bytes.
* Cells are written as :mod:`exports.cells` says.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

LINE_TERMINATOR: Final = "\n"


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

    def __init__(self, *, buffer_size: int) -> None:
        self.buffer_size = buffer_size
        self._lines = _Lines()
        self._writer = csv.writer(self._lines, lineterminator=LINE_TERMINATOR)

    def encode_row(self, row: Sequence[Any]) -> bytes:
        return self._encode([row])

    def _encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        lines = self._lines.lines
        self._writer.writerows(rows)  # one write() per row: lines[i] is rows[i]
        text = "".join(lines)
        if "\r" in text:  # rare, and one scan in C tells
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
        writer = csv.writer(once, lineterminator="\r\n")
        for index in carriage:
            writer.writerow(rows[index])
            lines[index] = once.take()[:-2] + LINE_TERMINATOR

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        """The header line and the first batch at once, then one ``bytes`` chunk per ``buffer_size`` bytes (the last
        may be short).

        A chunk is only yielded between batches, so the number of yields grows with the size of the data, never with
        the number of rows: one ``yield`` per row would cost more than the CSV formatting itself.
        """
        pending = [self.encode_row(header)]
        size = len(pending[0])
        encode = self._encode
        first = True
        for batch in batches:
            data = encode(batch)
            pending.append(data)
            size += len(data)
            if size >= self.buffer_size or first:
                yield b"".join(pending)
                pending.clear()
                size = 0
                first = False
        if pending:
            yield b"".join(pending)
