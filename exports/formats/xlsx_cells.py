"""How a typed value becomes a cell of an XLSX sheet (SpreadsheetML ``<c>``), a column of a batch at a time.

* ``None`` is an empty cell; ``bool`` a boolean cell; ``int``, ``float`` and ``Decimal`` number cells holding the
  number's own text (``str(Decimal)`` exactly; Excel reads it into a double, 15 significant digits, as it does a
  number typed in). NaN and infinities, which no number cell can hold, are written as text.
* ``datetime`` (wall-clock time as given: Excel has no time zones, an aware value is written in its own offset),
  ``date`` and ``time`` are date cells: Excel's serial day number (1900 system) with a date, date-time or time format.
  A day before 1900-03-01 is written as ISO 8601 text: Excel shows no date before 1900, and for January and
  February 1900 Excel (which counts a 29 February 1900 that never was) and LibreOffice read the same serial as
  different days.
* ``str`` is an inline string (``t="inlineStr"``), never a formula, whatever it starts with. Its text is made safe:
  characters XML 1.0 forbids (control characters but tab, LF and CR; U+FFFE, U+FFFF; lone surrogates) become U+FFFD;
  a literal ``_xHHHH_``, which Excel would read as an escaped character, gets its ``_`` escaped as ``_x005F_`` so
  Excel shows it as written; CR is written ``&#13;`` so XML parsers keep it; and text past Excel's 32,767-character
  limit is cut to that limit, ending with :data:`TRUNCATED`.
* Anything else is the inline string of ``str(value)``.

A whole column of one type takes a path of C-level loops (``map``, ``join``, ``split``); a column that mixes types, or
whose text needs any of the care above, goes cell by cell.
"""

from __future__ import annotations

import datetime
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import repeat
from typing import Any, Final

#: ``cellXfs`` indexes of xl/styles.xml (:mod:`exports.formats.xlsx_parts`).
BOLD, DATETIME, DATE, TIME = 1, 2, 3, 4

#: Excel's limit on the characters (UTF-16 units) of one cell.
MAX_CELL_CHARS: Final = 32_767
#: The end of a text cut at :data:`MAX_CELL_CHARS`.
TRUNCATED: Final = "…[truncated]"

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: The ``_`` that starts a ``_xHHHH_`` (looked ahead, so ``_x005F_x0041_`` has both of its escaped).
_EXCEL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_EPOCH: Final = datetime.datetime(1899, 12, 30)
_EPOCH_ORDINAL: Final = _EPOCH.toordinal()
#: A date-time's serial is written with this many decimals of a day (under a microsecond): Excel keeps milliseconds.
_DIGITS: Final = 11
_SCALE: Final = 10**_DIGITS
_DAY_MICROSECONDS: Final = 86_400_000_000
_DAYS = operator.attrgetter("days")
_SECONDS = operator.attrgetter("seconds")
_MICRO = operator.attrgetter("microseconds")
#: Serial 61 is 1900-03-01, the first day every spreadsheet reads the same way.
_FIRST_EXACT: Final = 61

_TEXT_OPEN: Final = '<c t="inlineStr"><is><t xml:space="preserve">'
_TEXT_CLOSE: Final = "</t></is></c>"
EMPTY: Final = "<c/>"
_BOOLS: Final = {True: '<c t="b"><v>1</v></c>', False: '<c t="b"><v>0</v></c>'}
#: Text no longer than this cannot pass Excel's limit, even in UTF-16 units; longer text is measured cell by cell.
_SHORT: Final = MAX_CELL_CHARS // 2


def safe_text(text: str) -> str:
    """``text`` as the escaped content of a ``<t>`` element, cut to Excel's limit (see the module docstring)."""
    if len(text) > _SHORT and len(text.encode("utf-16-le", "surrogatepass")) > 2 * MAX_CELL_CHARS:
        text = _cut(text)
    text = _FORBIDDEN.sub("\ufffd", text)
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub("_x005F_", text)
    return _escape(text)


def _cut(text: str) -> str:
    room = MAX_CELL_CHARS - len(TRUNCATED)
    kept = text.encode("utf-16-le", "surrogatepass")[: 2 * room].decode("utf-16-le", "surrogatepass")
    if len(kept.encode("utf-16-le", "surrogatepass")) > 2 * room:  # a pair cut in two decodes as one lone surrogate
        kept = kept[:-1]
    return kept + TRUNCATED


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def text_cell(text: str, style: int = 0) -> str:
    opening = _TEXT_OPEN if not style else f'<c s="{style}" t="inlineStr"><is><t xml:space="preserve">'
    return opening + safe_text(text) + _TEXT_CLOSE


def _number(text: str) -> str:
    return f"<c><v>{text}</v></c>"


def _datetime(value: datetime.datetime) -> str:
    delta = value.replace(tzinfo=None) - _EPOCH
    if delta.days < _FIRST_EXACT:
        return text_cell(value.isoformat())
    fraction = (delta.seconds * 1_000_000 + delta.microseconds) * _SCALE // _DAY_MICROSECONDS
    return f'<c s="{DATETIME}"><v>{delta.days}.{fraction:0{_DIGITS}d}</v></c>'


def _date(value: datetime.date) -> str:
    serial = value.toordinal() - _EPOCH_ORDINAL
    return text_cell(value.isoformat()) if serial < _FIRST_EXACT else f'<c s="{DATE}"><v>{serial}</v></c>'


def _time(value: datetime.time) -> str:
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
    return f'<c s="{TIME}"><v>{seconds / 86400!r}</v></c>'


def _float(value: float) -> str:
    return _number(repr(value)) if math.isfinite(value) else text_cell(repr(value))


def _decimal(value: Decimal) -> str:
    return _number(str(value)) if value.is_finite() else text_cell(str(value))


_CELL: Final[dict[type, Callable[[Any], str]]] = {
    str: text_cell,
    int: lambda value: f"<c><v>{value}</v></c>",
    type(None): lambda value: EMPTY,
    bool: _BOOLS.__getitem__,
    float: _float,
    Decimal: _decimal,
    datetime.datetime: _datetime,
    datetime.date: _date,
    datetime.time: _time,
}

#: A subclass of a cell type (an ``IntEnum``, a ``str`` subclass, a ``datetime`` subclass) is written as its base.
_PLAIN: Final[tuple[tuple[type, Callable[[Any], Any]], ...]] = (
    (int, int),
    (float, float),
    (str, str.__str__),
    (Decimal, Decimal),
    (datetime.datetime, lambda value: value),
    (datetime.date, lambda value: value),
    (datetime.time, lambda value: value),
)


def cell(value: Any) -> str:
    """One value as a ``<c>`` element (no ``r``: a cell's place is its order in the row)."""
    render = _CELL.get(type(value))
    if render is not None:
        return render(value)
    for kind, plain in _PLAIN:
        if isinstance(value, kind):
            return _CELL[kind](plain(value))
    return text_cell(str(value))


Pieces = list[Iterable[str]]


def _wrapped(opening: str, texts: Iterable[str], closing: str) -> Pieces:
    return [repeat(opening), texts, repeat(closing)]


def _text_column(values: Sequence[str]) -> Pieces | None:
    flat = "".join(values)
    # isprintable() is one fast pass, true of most text; the regex only looks at text it is false for (tab, LF…).
    if "_x" in flat or not flat.isprintable() and _FORBIDDEN.search(flat) or max(map(len, values)) > _SHORT:
        return None
    if "&" in flat or "<" in flat or ">" in flat or "\r" in flat:
        values = _escape("\x00".join(values)).split("\x00")  # NUL is forbidden: it cannot be in any value here
    return _wrapped(_TEXT_OPEN, values, _TEXT_CLOSE)


def _int_column(values: Sequence[int]) -> Pieces:
    return _wrapped("<c><v>", map(str, values), "</v></c>")


def _float_column(values: Sequence[float]) -> Pieces | None:
    return _wrapped("<c><v>", map(repr, values), "</v></c>") if all(map(math.isfinite, values)) else None


def _decimal_column(values: Sequence[Decimal]) -> Pieces | None:
    return _wrapped("<c><v>", map(str, values), "</v></c>") if all(map(Decimal.is_finite, values)) else None


def _bool_column(values: Sequence[bool]) -> Pieces:
    return [map(_BOOLS.__getitem__, values)]


def _datetime_column(values: Sequence[datetime.datetime]) -> Pieces | None:
    try:
        deltas = list(map(operator.sub, values, repeat(_EPOCH)))
    except TypeError:  # aware datetimes: cell by cell
        return None
    days = list(map(_DAYS, deltas))
    if min(days) < _FIRST_EXACT:
        return None
    microseconds = map(operator.add, map(operator.mul, map(_SECONDS, deltas), repeat(1_000_000)), map(_MICRO, deltas))
    fractions = map(operator.floordiv, map(operator.mul, microseconds, repeat(_SCALE)), repeat(_DAY_MICROSECONDS))
    return [
        repeat(f'<c s="{DATETIME}"><v>'),
        map(str, days),
        repeat("."),
        map(str.zfill, map(str, fractions), repeat(_DIGITS)),
        repeat("</v></c>"),
    ]


def _date_column(values: Sequence[datetime.date]) -> Pieces | None:
    serials = list(map(operator.sub, map(datetime.date.toordinal, values), repeat(_EPOCH_ORDINAL)))
    return None if min(serials) < _FIRST_EXACT else _wrapped(f'<c s="{DATE}"><v>', map(str, serials), "</v></c>")


_COLUMN: Final[dict[type, Callable[[Any], Pieces | None]]] = {
    str: _text_column,
    int: _int_column,
    float: _float_column,
    Decimal: _decimal_column,
    bool: _bool_column,
    datetime.datetime: _datetime_column,
    datetime.date: _date_column,
    type(None): lambda values: [[EMPTY] * len(values)],
}


def column(values: Sequence[Any]) -> Pieces:
    """The ``<c>`` elements of a column of a batch as *pieces*: iterables that, read in step (``zip``), give each
    cell's text in parts, in order. At least one of them ends with the column; the others may repeat without end."""
    kinds = set(map(type, values))
    if len(kinds) == 1:
        fast = _COLUMN.get(kinds.pop())
        if fast is not None and (pieces := fast(values)) is not None:
            return pieces
    return [list(map(cell, values))]
