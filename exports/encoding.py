"""Cells to CSV bytes: how each kind of value is written, formula escaping, and batching into large chunks.

The format, the same on every surface and on both sources (ORM and COPY):

* UTF-8, no byte order mark; RFC 4180 quoting (a cell is quoted when it holds a comma, a double quote, CR or LF;
  quotes are doubled); rows end with a line feed (``\\n``), the one line ending PostgreSQL's COPY can write.
* ``None`` is an empty cell; ``True``/``False`` are ``true``/``false``.
* Datetimes are ISO 8601 with their UTC offset, in the current time zone (``2026-11-24T17:28:22.123456+01:00``;
  the fraction is left out when it is zero, as ``datetime.isoformat()`` does); dates and times are ISO 8601.
* Numbers are written as Python writes them (``Decimal`` keeps its scale); UUIDs in their hyphenated form.
* With formula escaping on, a *text* cell that starts with ``= + - @``, tab, CR, LF, NUL or ``'`` gets a leading
  ``'``, so no spreadsheet runs it and the escape can be undone exactly (drop the first character of a text cell that
  starts with ``'``). Numbers, dates and booleans are never touched: a negative total stays ``-500``.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

Converter = Callable[[Any], Any]

#: What a text cell may start with for a spreadsheet to treat it as a formula, plus the escape character itself.
FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r\n\x00'")
LINE_TERMINATOR: Final = "\n"


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet could read it as a formula (or it starts with ``'``)."""
    return "'" + text if text[:1] in FORMULA_TRIGGERS else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula` on a text cell read back from an export."""
    return text[1:] if text[:1] == "'" else text


def render_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def datetime_renderer(tz: datetime.tzinfo | None) -> Converter:
    """ISO 8601 with the offset, in ``tz``; naive datetimes (``USE_TZ = False``) are written as they are."""

    def render(value: datetime.datetime | None) -> str | None:
        if value is None:
            return None
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.isoformat()

    return render


def render_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def text_renderer(escape: bool) -> Converter:
    """A text cell: ``str()`` of the value, formula-escaped when ``escape`` is on."""
    if escape:

        def render_escaped(value: Any) -> str | None:
            if value is None:
                return None
            text = value if type(value) is str else str(value)
            return "'" + text if text[:1] in FORMULA_TRIGGERS else text

        return render_escaped

    def render(value: Any) -> str | None:
        return None if value is None else str(value)

    return render


def value_renderer(*, escape: bool, tz: datetime.tzinfo | None) -> Converter:
    """Render a value whose type is only known at run time (format hooks, annotations, attributes)."""
    render_datetime = datetime_renderer(tz)
    render_text = text_renderer(escape)

    def render(value: Any) -> Any:
        if value is None or isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
            return value
        if isinstance(value, bool):
            return render_bool(value)
        if isinstance(value, datetime.datetime):
            return render_datetime(value)
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, dict | list):
            return render_text(render_json(value))
        return render_text(value)

    return render


# Whole columns at a time: the ORM source converts a batch column by column, so the per-cell work is a comprehension
# step instead of a function call. Each returns a list the length of ``values`` and writes what its one-value twin
# above writes.

BatchConverter = Callable[[Sequence[Any]], list[Any]]


def batch_of(convert: Converter) -> BatchConverter:
    """The batch form of any one-value converter."""
    return lambda values: list(map(convert, values))


def datetimes_renderer(tz: datetime.tzinfo | None) -> BatchConverter:
    """:func:`datetime_renderer` for a column; values already in ``tz`` (UTC from the database) skip ``astimezone``."""
    if tz is None:
        return lambda values: [None if v is None else v.isoformat() for v in values]
    # Values come from the database in UTC; when the export's zone is UTC too, isoformat() alone writes the same.
    same = datetime.UTC if tz is datetime.UTC or getattr(tz, "key", None) in _UTC_NAMES else tz

    def render(values: Sequence[Any]) -> list[Any]:
        return [
            None
            if v is None
            else v.isoformat()
            if v.tzinfo is same or v.tzinfo is None
            else v.astimezone(tz).isoformat()
            for v in values
        ]

    return render


_UTC_NAMES: Final = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})


def render_bools(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else "true" if v else "false" for v in values]


def render_isos(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else v.isoformat() for v in values]


def texts_renderer(escape: bool) -> BatchConverter:
    """:func:`text_renderer` for a column of text (values that are not ``str`` go through the one-value form)."""
    render = text_renderer(escape)
    if not escape:
        return lambda values: [v if v is None or type(v) is str else render(v) for v in values]
    triggers = FORMULA_TRIGGERS
    return lambda values: [("'" + v if v[:1] in triggers else v) if type(v) is str else render(v) for v in values]


def labels_renderer(labels: dict[Any, str], otherwise: Converter) -> BatchConverter:
    """Choices: the (already rendered) label of a value, else the value as ``otherwise`` writes it."""
    return lambda values: [labels[v] if v in labels else otherwise(v) for v in values]


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
