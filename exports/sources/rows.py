"""The rows in COPY's output, counted as it streams; and CSV's CRLF row ends, which COPY does not write.

COPY ends every row in a line feed. In CSV a line feed inside a quoted cell is part of the cell, so rows are the line
feeds outside quotes (a doubled quote toggles twice); TSV and JSON Lines never break a line inside a row. For a CSV
dialect whose rows end in CRLF, the line feeds outside quotes become CRLF (those inside a cell stay as they are, as
Python's csv writes them), so the bytes are the ORM path's.
"""

from __future__ import annotations

from typing import Protocol


class Rows(Protocol):
    def take(self, data: bytes) -> tuple[bytes, int]:
        """``data`` as it is to be sent, and the rows it ends."""
        ...


class LineRows:
    """A format that never breaks a line inside a row (TSV, JSON Lines): its rows are its line feeds."""

    def take(self, data: bytes) -> tuple[bytes, int]:
        return data, data.count(b"\n")


class RowCounter:
    """Counts the rows in COPY's CSV: line feeds outside quoted cells (a doubled quote toggles twice).

    Every line feed, less those between an opening and a closing quote: a few quoted cells per block cost a few
    ``find()`` calls, where splitting the block on quotes would copy all of it.
    """

    def __init__(self) -> None:
        self.quoted = False

    def take(self, data: bytes) -> tuple[bytes, int]:
        return data, self.count(data)

    def count(self, data: bytes) -> int:
        rows = data.count(b"\n")
        quoted = self.quoted
        start = 0  # where the current quoted run began
        quote = data.find(b'"')
        while quote >= 0:
            if quoted:
                rows -= data.count(b"\n", start, quote)
            else:
                start = quote + 1
            quoted = not quoted
            quote = data.find(b'"', quote + 1)
        if quoted:
            rows -= data.count(b"\n", start)
        self.quoted = quoted
        return rows


class CRLFRows:
    """COPY's CSV with the line feeds outside quoted cells turned into CRLF, and the rows counted."""

    def __init__(self) -> None:
        self.quoted = False

    def take(self, data: bytes) -> tuple[bytes, int]:
        if b'"' not in data:
            if self.quoted:  # all of it inside one quoted cell
                return data, 0
            return data.replace(b"\n", b"\r\n"), data.count(b"\n")
        parts = data.split(b'"')
        rows = 0
        # The parts alternate outside and inside quotes, starting inside when a quoted cell runs on from the last
        # block; a doubled quote inside a cell leaves an empty part "outside", which holds no line feed.
        for index in range(1 if self.quoted else 0, len(parts), 2):
            part = parts[index]
            if b"\n" in part:
                rows += part.count(b"\n")
                parts[index] = part.replace(b"\n", b"\r\n")
        if len(parts) % 2 == 0:  # an odd number of quotes
            self.quoted = not self.quoted
        return b'"'.join(parts), rows
