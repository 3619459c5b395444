r"""``python -m bench.xlsx``: the XLSX encoder against the usual XLSX writers and against CSV, on the same typed rows.

Every case writes the same ``--rows`` order-like rows (8 columns: int id, text reference, naive datetime, choice label,
name, 2-letter country, email, Decimal total), handed over in batches of 2,000, to a file in a temporary folder; the
time is the median of ``--repeat`` runs, the cases interleaved round by round. No database and no server: this
measures the writers alone (``python -m bench`` measures the library's paths end to end). Every XLSX output is read
back with openpyxl (its row count and first row) before its time counts.

* ``exports XLSX``: :class:`exports.formats.xlsx.XLSXEncoder` (zlib level 1).
* ``exports CSV``: :class:`exports.formats.csv.CSVEncoder`, the datetimes first turned to ISO text as the ORM path's
  column converters do.
* ``Python csv``: ``csv.writer(file).writerows(rows)``, the floor any CSV writer in Python stands on.
* ``xlsxwriter (constant_memory)``, ``openpyxl write-only``: the two usual writers, each writing typed cells with a
  date format.
* ``xlsx_streaming``: when it imports (GPL, never a dependency; ``pip install xlsx-streaming`` beside the bench
  extra, which it conflicts with: its ``zipstream`` and zipstream-ng install the same module name). Without a
  template it writes every cell as text.

``--zip`` measures instead what was weighed for the ZIP layer, on the sheet XML of the same rows: the hand-written
:class:`exports.formats.xlsx_zip.ZipWriter` against stream-zip and zipstream-ng (all at zlib level 1), and zlib
levels 1, 6 and 9.

    python -m bench.xlsx --rows 200000 --repeat 3            # writes bench/results/xlsx.md
    python -m bench.xlsx --rows 200000 --repeat 3 --zip      # writes bench/results/xlsx-zip.md
"""

from __future__ import annotations

import argparse
import datetime
import platform
import random
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import xlsx_cases as cases

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HEADER = ["id", "reference", "placed", "status", "customer", "country", "email", "total"]
BATCH = 2000


def order_rows(count: int) -> list[list[Any]]:
    """``count`` order-like rows, the same ones on every call."""
    pick = random.Random(14)
    statuses = ["Pending", "Paid", "Shipped", "Delivered", "Cancelled"]
    first = ["Zoë", "Ana", "Jean-Luc", "Mika", "Olu", "Søren", "Priya", "Tom"]
    last = ["Martin", "O'Neil", "Nguyen", "Schmidt", "Rossi", "García", "Kowalski", "Smith"]
    countries = ["FR", "DE", "US", "GB", "ES", "IT", "PL", "JP"]
    start = datetime.datetime(2024, 1, 1)
    rows = []
    for n in range(1, count + 1):
        name = f"{pick.choice(first)} {pick.choice(last)}"
        rows.append(
            [
                n,
                f"ORD-{n:08d}",
                start
                + datetime.timedelta(seconds=pick.randrange(60 * 60 * 24 * 700), microseconds=pick.randrange(10**6)),
                pick.choice(statuses),
                name,
                pick.choice(countries),
                f"{name.lower().replace(' ', '.').replace(chr(39), '')}{n}@example.com",
                Decimal(pick.randrange(100, 10**7)) / 100,
            ]
        )
    return rows


def batches(rows: list[list[Any]]) -> Iterator[list[list[Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def timed(runs: dict[str, Callable[[Path], None]], *, repeat: int, folder: Path) -> dict[str, tuple[float, int]]:
    """The median seconds and the output size of each run, the runs interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    sizes: dict[str, int] = {}
    for name, run in runs.items():  # one warm-up each, not timed
        run(folder / cases.file_name(name))
    for _ in range(repeat):
        for name, run in runs.items():
            path = folder / cases.file_name(name)
            began = time.perf_counter()
            run(path)
            times[name].append(time.perf_counter() - began)
            sizes[name] = path.stat().st_size
            path.unlink()
    return {name: (statistics.median(times[name]), sizes[name]) for name in runs}


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, Linux {platform.release()}; Python {platform.python_version()}"
    )


def main_table(args: argparse.Namespace, folder: Path) -> str:
    rows = order_rows(args.rows)
    runs = cases.writers(rows, batches, HEADER)
    for name, run in runs.items():
        cases.check(name, run, folder / cases.file_name(name), HEADER, rows)
    results = timed(runs, repeat=args.repeat, folder=folder)
    ours = results["exports XLSX"][0]
    lines = [
        f"# XLSX writers: {args.rows:,} order-like rows, {datetime.date.today()}",
        "",
        f"Machine: {machine()}. `python -m bench.xlsx --rows {args.rows} --repeat {args.repeat}`: medians of "
        f"{args.repeat} runs, after one warm-up run each; each writes the same typed rows (8 columns) to a file.",
        "",
        "| writer | time | rows/s | file | exports XLSX is |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (seconds, size) in results.items():
        faster = f"{seconds / ours:.2f}x as fast" if name != "exports XLSX" else ""
        lines.append(f"| {name} | {seconds:.2f} s | {args.rows / seconds:,.0f} | {size / 2**20:.1f} MiB | {faster} |")
    lines.append("")
    lines.append(f"Versions: {cases.versions()}.")
    return "\n".join(lines) + "\n"


def zip_table(args: argparse.Namespace, folder: Path) -> str:
    parts = cases.sheet_parts(order_rows(args.rows), batches, HEADER)
    runs = cases.zippers(parts)
    for name, run in runs.items():
        cases.check_zip(name, run, folder / "check.zip", parts)
    results = timed(runs, repeat=args.repeat, folder=folder)
    xml = sum(len(chunk) for _, chunks in parts for chunk in chunks)
    lines = [
        f"# The ZIP layer of the XLSX encoder: {args.rows:,} rows' sheet XML ({xml / 2**20:.1f} MiB), "
        f"{datetime.date.today()}",
        "",
        f"Machine: {machine()}. `python -m bench.xlsx --rows {args.rows} --repeat {args.repeat} --zip`: the parts of "
        f"one workbook (its sheet cut into one chunk per batch of {BATCH} rows) zipped by each writer; medians of "
        f"{args.repeat} runs after one warm-up. The XML is made once before; only the zipping is timed.",
        "",
        "| ZIP writer | time | MiB/s of XML | file |",
        "|---|---:|---:|---:|",
    ]
    for name, (seconds, size) in results.items():
        lines.append(f"| {name} | {seconds:.2f} s | {xml / 2**20 / seconds:,.0f} | {size / 2**20:.2f} MiB |")
    lines.append("")
    lines.append(f"Versions: zlib {zlib.ZLIB_RUNTIME_VERSION}; {cases.versions(zip_only=True)}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zip", action="store_true", help="compare the ZIP writers and zlib levels instead")
    parser.add_argument("--output", type=Path, help="where the Markdown goes (default: bench/results/xlsx[-zip].md)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as name:
        table = zip_table(args, Path(name)) if args.zip else main_table(args, Path(name))
    output = args.output or RESULTS / ("xlsx-zip.md" if args.zip else "xlsx.md")
    output.write_text(table)
    sys.stdout.write(table)
    sys.stdout.write(f"\nwritten to {output}\n")


if __name__ == "__main__":
    main()
