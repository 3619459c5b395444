"""A format a project adds through ``EXPORTS_FORMATS``: CSV's cells, separated by ``|``, read through the ORM."""

from __future__ import annotations

import datetime

from exports import cells
from exports.columns import ResolvedColumn
from exports.formats.base import ColumnConverter, Format
from exports.formats.csv import CSVEncoder, Dialect


class PipeSeparated(Format):
    name = "psv"
    extension = "psv"
    media_type = "text/plain; charset=utf-8"
    label = "Pipe-separated"

    def column_converter(
        self, column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None
    ) -> ColumnConverter | None:
        return cells.column_converter(column, escape=escape, tz=tz)

    def encoder(self, *, buffer_size: int) -> CSVEncoder:
        return CSVEncoder(buffer_size=buffer_size, dialect=Dialect("|", "\n", bom=False))
