"""XLSX: an Excel workbook streamed while it is built, typed cells in sheets of inline strings.

* A ZIP written front to back (:mod:`exports.formats.xlsx_zip`), deflated at zlib level 1: the sheet's XML repeats
  itself so much that higher levels buy little size for much time.
* Parts in the order they can be known: the package relationships and the styles, then the sheets as their rows come,
  then the workbook, its relationships and the content types, which name every sheet.
* No shared-strings table (it needs every string of the file before the first sheet is complete): text cells are
  inline strings. Cells are typed as :mod:`exports.formats.xlsx_cells` says; no cell is ever a formula, so formula
  escaping does not apply.
* The header row is bold and frozen; the columns are sized from the header and the first batch (a sheet's ``<cols>``
  comes before its rows).
* A sheet holds at most ``max_rows_per_sheet`` rows with its header (Excel's limit, 1,048,576, by default); the rows
  after it go on to a new sheet, ``Export (2)``, with the header repeated.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import Any, ClassVar, Final

from exports.formats import xlsx_parts as parts
from exports.formats.xlsx_cells import BOLD, column, text_cell
from exports.formats.xlsx_zip import ZipWriter

#: Excel's limit on the rows of a sheet.
EXCEL_MAX_ROWS: Final = 1_048_576
_MIN_WIDTH, _MAX_WIDTH = 8, 60


class XLSXEncoder:
    """Writes a header and batches of rows as an XLSX workbook, yielding chunks of about ``buffer_size`` bytes."""

    #: zlib's level for every part.
    COMPRESS_LEVEL: ClassVar[int] = 1

    def __init__(
        self, *, buffer_size: int, sheet_name: str = "Export", max_rows_per_sheet: int = EXCEL_MAX_ROWS
    ) -> None:
        if not sheet_name or len(sheet_name) > parts.SHEET_NAME_MAX or parts.SHEET_NAME_FORBIDDEN & set(sheet_name):
            raise ValueError(
                f"sheet_name must be 1 to {parts.SHEET_NAME_MAX} characters, none of "
                f"{''.join(sorted(parts.SHEET_NAME_FORBIDDEN))}: {sheet_name!r}"
            )
        if sheet_name[0] == "'" or sheet_name[-1] == "'":
            raise ValueError(f"sheet_name may not start or end with an apostrophe: {sheet_name!r}")
        if not 2 <= max_rows_per_sheet <= EXCEL_MAX_ROWS:
            raise ValueError(f"max_rows_per_sheet must be from 2 to {EXCEL_MAX_ROWS}: {max_rows_per_sheet}")
        self.buffer_size = buffer_size
        self.sheet_name = sheet_name
        self.max_rows_per_sheet = max_rows_per_sheet

    def encode_batches(self, header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
        """The start of the file and the first batch at once, then one ``bytes`` chunk per ``buffer_size`` bytes or
        so (the last may be short), yielded only between batches.

        Memory stays flat whatever the number of rows: besides zlib's own window, the encoder keeps counters and one
        small record per part of the file.
        """
        run = _Run(self, header)
        pending = [
            run.zip.whole("_rels/.rels", parts.ROOT_RELS.encode()),
            run.zip.whole("xl/styles.xml", parts.STYLES.encode()),
        ]
        size = sum(map(len, pending))
        first = True
        for batch in batches:
            for data in run.batch(batch):
                pending.append(data)
                size += len(data)
            if size >= self.buffer_size or first:
                yield b"".join(pending)
                pending.clear()
                size = 0
                first = False
        pending.extend(run.finish())
        yield b"".join(pending)


class _Run:
    """One workbook being written: its ZIP, its sheets, and how many rows the current sheet still takes."""

    def __init__(self, encoder: XLSXEncoder, header: Sequence[str]) -> None:
        self.encoder = encoder
        self.header = header
        self.header_row = "<row>" + "".join(text_cell(str(name), BOLD) for name in header) + "</row>"
        self.zip = ZipWriter(level=encoder.COMPRESS_LEVEL)
        self.widths: list[float] = []
        self.sheets = 0
        self.room = 0  # rows the current sheet still takes

    def batch(self, rows: Sequence[Sequence[Any]]) -> Iterator[bytes]:
        if not self.sheets:
            self.widths = self._widths(rows)
            yield from self._next_sheet()
        done, count = 0, len(rows)
        while done < count:
            if not self.room:
                yield from self._next_sheet()
            take = min(self.room, count - done)
            part = rows if take == count else rows[done : done + take]
            yield self.zip.write(_rows_xml(part).encode())
            self.room -= take
            done += take

    def finish(self) -> Iterator[bytes]:
        if not self.sheets:
            self.widths = self._widths(())
            yield from self._next_sheet()
        yield from self._close_sheet()
        names = [parts.sheet_name(self.encoder.sheet_name, n) for n in range(1, self.sheets + 1)]
        yield self.zip.whole("xl/workbook.xml", parts.workbook(names).encode())
        yield self.zip.whole("xl/_rels/workbook.xml.rels", parts.workbook_rels(self.sheets).encode())
        yield self.zip.whole("[Content_Types].xml", parts.content_types(self.sheets).encode())
        yield self.zip.finish()

    def _next_sheet(self) -> Iterator[bytes]:
        if self.sheets:
            yield from self._close_sheet()
        self.sheets += 1
        yield self.zip.start(parts.sheet_path(self.sheets))
        start = parts.sheet_start(self.widths, selected=self.sheets == 1)
        yield self.zip.write((start + self.header_row).encode())
        self.room = self.encoder.max_rows_per_sheet - 1

    def _close_sheet(self) -> Iterator[bytes]:
        yield self.zip.write(parts.SHEET_END.encode())
        yield self.zip.end()

    def _widths(self, rows: Sequence[Sequence[Any]]) -> list[float]:
        widths = [len(str(name)) + 1 for name in self.header]  # bold is a little wider
        for row in rows:
            widths = [max(width, _display_width(value)) for width, value in zip(widths, row, strict=False)]
        return [min(max(_MIN_WIDTH, width + 2), _MAX_WIDTH) for width in widths]


def _rows_xml(rows: Sequence[Sequence[Any]]) -> str:
    """The ``<row>`` elements of ``rows``, built column by column (no ``r`` attributes: rows and cells are in order)."""
    pieces = [piece for values in zip(*rows, strict=True) for piece in column(values)]
    if not pieces:
        return "<row/>" * len(rows)
    return "".join(chain.from_iterable(zip(repeat("<row>"), *pieces, repeat("</row>"))))


def _display_width(value: Any) -> int:
    """About how many characters ``value`` shows as, to size its column."""
    if value is None:
        return 0
    if isinstance(value, datetime.datetime):
        return 19
    if isinstance(value, datetime.date):
        return 10
    if isinstance(value, datetime.time):
        return 8
    text = str(value)
    return max(map(len, text.split("\n"))) if "\n" in text else len(text)
