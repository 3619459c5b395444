"""The writers ``python -m bench.xlsx`` times, each a function that writes the rows to a path, and their checks."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl

from exports.cells import datetime_column
from exports.formats import xlsx_parts
from exports.formats.csv import CSVEncoder
from exports.formats.xlsx import XLSXEncoder
from exports.formats.xlsx_zip import ZipWriter

Rows = list[list[Any]]
Batches = Callable[[Rows], Iterator[Rows]]
Run = Callable[[Path], None]
BUFFER = 64 * 1024


def _level(level: int) -> type[XLSXEncoder]:
    return type(f"XLSXEncoderLevel{level}", (XLSXEncoder,), {"COMPRESS_LEVEL": level})


def writers(rows: Rows, batches: Batches, header: list[str]) -> dict[str, Run]:
    def ours(path: Path) -> None:
        with open(path, "wb") as file:
            for chunk in XLSXEncoder(buffer_size=BUFFER).encode_batches(header, batches(rows)):
                file.write(chunk)

    as_text = datetime_column(None)

    def converted() -> Iterator[Rows]:
        for batch in batches(rows):
            columns = list(zip(*batch, strict=True))
            columns[2] = tuple(as_text(columns[2]))
            yield [list(row) for row in zip(*columns, strict=True)]

    def our_csv(path: Path) -> None:
        with open(path, "wb") as file:
            for chunk in CSVEncoder(buffer_size=BUFFER).encode_batches(header, converted()):
                file.write(chunk)

    def python_csv(path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            for batch in batches(rows):
                writer.writerows(batch)

    def xlsxwriter(path: Path) -> None:
        import xlsxwriter

        workbook = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "default_date_format": "yyyy-mm-dd hh:mm:ss"}
        )
        sheet = workbook.add_worksheet("Export")
        sheet.write_row(0, 0, header)
        number = 1
        for batch in batches(rows):
            for row in batch:
                sheet.write_row(number, 0, row)
                number += 1
        workbook.close()

    def openpyxl_write_only(path: Path) -> None:
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Export")
        sheet.append(header)
        for batch in batches(rows):
            for row in batch:
                sheet.append(row)
        workbook.save(path)

    runs: dict[str, Run] = {
        "exports XLSX": ours,
        "exports CSV": our_csv,
        "Python csv": python_csv,
        "xlsxwriter (constant_memory)": xlsxwriter,
        "openpyxl write-only": openpyxl_write_only,
    }
    try:
        from xlsx_streaming import stream_queryset_as_xlsx
    except ImportError:
        return runs

    def xlsx_streaming(path: Path) -> None:
        with open(path, "wb") as file:
            for chunk in stream_queryset_as_xlsx([header, *rows], batch_size=2000):
                file.write(chunk)

    runs["xlsx_streaming (every cell text)"] = xlsx_streaming
    return runs


def file_name(name: str) -> str:
    """A file name for a case's output, with the suffix its reader wants (openpyxl refuses others)."""
    stem = "".join(c if c.isalnum() else "-" for c in name)
    return stem + (".csv" if name.endswith("CSV") or name.endswith("csv") else ".xlsx")


def check(name: str, run: Run, path: Path, header: list[str], rows: Rows) -> None:
    """Each output holds every row; an XLSX's first row reads back as written (typed, or as text where all is)."""
    run(path)
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as file:
            count = sum(1 for _ in csv.reader(file))
        assert count == len(rows) + 1, (name, count)
        return
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    read = list(sheet.iter_rows(values_only=True))
    assert len(read) == len(rows) + 1, (name, len(read))
    assert list(read[0]) == header, (name, read[0])
    if not name.startswith("xlsx_streaming"):
        first = list(read[1])
        assert first[:2] == rows[0][:2] and first[3:7] == rows[0][3:7], (name, first)
        assert abs(first[2] - rows[0][2]).total_seconds() < 0.001 and first[7] == float(rows[0][7]), (name, first)


def sheet_parts(rows: Rows, batches: Batches, header: list[str]) -> list[tuple[str, list[bytes]]]:
    """The parts of the workbook of ``rows``, uncompressed and in the encoder's order: each a name and its data in
    chunks, the sheet's cut into as many chunks as there are batches."""
    data = b"".join(XLSXEncoder(buffer_size=BUFFER).encode_batches(header, batches(rows)))
    count = sum(1 for _ in batches(rows))
    parts: list[tuple[str, list[bytes]]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            whole = archive.read(info)
            if info.filename == xlsx_parts.sheet_path(1):
                step = -(-len(whole) // count)
                parts.append((info.filename, [whole[start : start + step] for start in range(0, len(whole), step)]))
            else:
                parts.append((info.filename, [whole]))
    return parts


def zippers(parts: list[tuple[str, list[bytes]]]) -> dict[str, Run]:
    def ours(level: int) -> Run:
        def run(path: Path) -> None:
            with open(path, "wb") as file:
                writer = ZipWriter(level=level)
                for name, chunks in parts:
                    if name.startswith("xl/worksheets/"):
                        file.write(writer.start(name))
                        for chunk in chunks:
                            file.write(writer.write(chunk))
                        file.write(writer.end())
                    else:
                        file.write(writer.whole(name, chunks[0]))
                file.write(writer.finish())

        return run

    runs = {f"hand-written (zlib), level {level}": ours(level) for level in (1, 6, 9)}

    import datetime

    import stream_zip

    def with_stream_zip(path: Path) -> None:
        when = datetime.datetime(1980, 1, 1)
        members = [(name, when, 0o600, stream_zip.ZIP_64, iter(chunks)) for name, chunks in parts]
        compress = lambda: zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)  # noqa: E731
        with open(path, "wb") as file:
            for chunk in stream_zip.stream_zip(members, get_compressobj=compress, extended_timestamps=False):
                file.write(chunk)

    runs["stream-zip (ZIP_64), level 1"] = with_stream_zip
    try:
        from zipstream import ZIP_DEFLATED, ZipStream  # zipstream-ng
    except ImportError:  # the other package named zipstream (xlsx_streaming's) is installed instead
        return runs

    def with_zipstream_ng(path: Path) -> None:
        stream = ZipStream(compress_type=ZIP_DEFLATED, compress_level=1, sized=False)
        for name, chunks in parts:
            stream.add(iter(chunks), name)
        with open(path, "wb") as file:
            for chunk in stream:
                file.write(chunk)

    runs["zipstream-ng, level 1"] = with_zipstream_ng
    return runs


def check_zip(name: str, run: Run, path: Path, parts: list[tuple[str, list[bytes]]]) -> None:
    run(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None, name
        for part, chunks in parts:
            assert archive.read(part) == b"".join(chunks), (name, part)


def versions(*, zip_only: bool = False) -> str:
    names = ["stream-zip", "zipstream-ng"] if zip_only else ["xlsxwriter", "openpyxl", "xlsx-streaming"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)
