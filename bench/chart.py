"""``python -m bench.chart RESULTS [PNG]``: the bench's results as a chart — rows/s and worker memory per method.

``RESULTS`` is what ``python -m bench`` writes: its JSON (``bench/results/latest.json``) or, for runs made before it
wrote one, its Markdown table (``bench/results/latest.md``). Each method gets a bar per server: on the left its
throughput in rows/s, on the right the growth of the worker's memory (peak RSS minus RSS before the request, the most
of the runs) on a log scale, since the methods that hold the file in memory grow a thousand times more than the
streaming ones. The library's own methods are named in bold. ``PNG`` defaults to ``RESULTS`` with ``.png``.

matplotlib comes with the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SERVERS = ("gunicorn", "uvicorn")
COLOURS = {"gunicorn": "#1f77b4", "uvicorn": "#ff7f0e"}
#: The library's own cases start with this (bench/__main__.py's CASES).
OURS = "exports"


@dataclass(frozen=True)
class CaseResult:
    """One case on one server: the medians of the runs, and the most the worker grew."""

    server: str
    case: str
    first_byte_ms: float
    first_row_ms: float
    total_s: float
    rows_per_s: float
    mb_per_s: float
    rss_growth_mb: float


@dataclass(frozen=True)
class Results:
    """One run of ``python -m bench``."""

    rows: int
    date: str
    machine: str = ""
    command: str = ""
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def methods(self) -> list[str]:
        """The cases in the order they ran, each once."""
        return list(dict.fromkeys(result.case for result in self.cases))

    def get(self, server: str, case: str) -> CaseResult | None:
        return next((r for r in self.cases if r.server == server and r.case == case), None)


def to_json(results: Results) -> str:
    return json.dumps(asdict(results), indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> Results:
    data: dict[str, Any] = json.loads(text)
    cases = [CaseResult(**case) for case in data.pop("cases")]
    return Results(**data, cases=cases)


_TITLE = re.compile(r"^#\s*Benchmark: ([\d,]+) orders, (\S+)", re.MULTILINE)


def from_markdown(text: str) -> Results:
    """The results in the Markdown table that ``python -m bench`` writes (``bench.__main__.render``)."""
    title = _TITLE.search(text)
    if title is None:
        raise ValueError("not a bench result: no '# Benchmark: N orders, DATE' line")
    lines = text.splitlines()
    machine = next((line.removeprefix("Machine: ").rstrip(".") for line in lines if line.startswith("Machine: ")), "")
    command = next((line.split("`")[1] for line in lines if line.startswith("`python -m bench")), "")
    header: list[str] | None = None
    cases: list[CaseResult] = []
    for line in lines:
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(cells[0]) <= {"-", ":"}:
            continue
        row = dict(zip(header, cells, strict=True))
        cases.append(
            CaseResult(
                server=row["server"],
                case=row["case"],
                first_byte_ms=_number(row["first byte"], "ms"),
                first_row_ms=_number(row["first row"], "ms"),
                total_s=_number(row["total"], "s"),
                rows_per_s=_number(row["rows/s"]),
                mb_per_s=_number(row["MB/s"]),
                rss_growth_mb=_number(row["RSS growth"], "MB"),
            )
        )
    if not cases:
        raise ValueError("not a bench result: no table rows")
    rows = int(title.group(1).replace(",", ""))
    return Results(rows=rows, date=title.group(2), machine=machine, command=command, cases=cases)


def _number(cell: str, unit: str = "") -> float:
    return float(cell.removesuffix(unit).strip().replace(",", ""))


def load(path: Path) -> Results:
    text = path.read_text(encoding="utf-8")
    return from_json(text) if path.suffix == ".json" else from_markdown(text)


def draw(results: Results, path: Path) -> None:
    """Write the chart of ``results`` to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart only goes to a file
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    methods = results.methods
    servers = [server for server in SERVERS if any(r.server == server for r in results.cases)]
    height = 0.8 / len(servers)
    figure, (speed, memory) = plt.subplots(
        1, 2, figsize=(13, 1.2 + 0.55 * len(methods)), sharey=True, gridspec_kw={"width_ratios": [1.15, 1]}
    )
    for index, server in enumerate(servers):
        offsets = [row - 0.4 + height * (index + 0.5) for row in range(len(methods))]
        found = [(offset, results.get(server, method)) for offset, method in zip(offsets, methods, strict=True)]
        present = [(offset, result) for offset, result in found if result is not None]
        where = [offset for offset, _ in present]
        colour = COLOURS.get(server)
        bars = speed.barh(where, [r.rows_per_s for _, r in present], height, label=server, color=colour)
        speed.bar_label(bars, [f"{r.rows_per_s / 1000:,.0f}k" for _, r in present], padding=3, fontsize=8)
        growth = [max(r.rss_growth_mb, 0.1) for _, r in present]
        bars = memory.barh(where, growth, height, label=server, color=colour)
        memory.bar_label(bars, [_megabytes(r.rss_growth_mb) for _, r in present], padding=3, fontsize=8)

    speed.set_yticks(range(len(methods)), methods)
    speed.invert_yaxis()
    for label in speed.get_yticklabels():
        if label.get_text().startswith(OURS):
            label.set_fontweight("bold")
    speed.set_title("Throughput (rows/s, higher is better)", fontsize=11)
    speed.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:,.0f}k"))
    speed.set_xlim(0, max(r.rows_per_s for r in results.cases) * 1.18)
    memory.set_xscale("log")
    memory.set_title("Worker memory growth (MB, log scale, lower is better)", fontsize=11)
    memory.set_xlim(0.1, max(r.rss_growth_mb for r in results.cases) * 8)
    memory.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    for axes in (speed, memory):
        axes.grid(axis="x", alpha=0.3)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
    handles, labels = speed.get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=len(servers), frameon=False)
    figure.suptitle(f"python -m bench: {results.rows:,} orders, {results.date}", fontsize=13, fontweight="bold")
    if results.machine:
        figure.text(0.5, 0.005, results.machine, ha="center", va="bottom", fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 0.93))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _megabytes(value: float) -> str:
    return f"{value:+,.0f} MB" if abs(value) >= 100 else f"{value:+.1f} MB"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chart", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="bench/results/NAME.json, or the .md of an older run")
    parser.add_argument("png", type=Path, nargs="?", help="where to write the chart (default: RESULTS with .png)")
    args = parser.parse_args(argv)
    output = args.png or args.results.with_suffix(".png")
    draw(load(args.results), output)
    print(output)


if __name__ == "__main__":
    main()
