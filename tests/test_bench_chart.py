"""The bench's chart reads what the bench writes: its JSON, and the Markdown table of runs made before the JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import chart
from bench.__main__ import CommandTimes, Sample

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(monkeypatch) -> tuple[dict[tuple[str, str], list[Sample]], argparse.Namespace]:
    monkeypatch.setattr(bench_main, "machine", lambda: "a test machine")
    sample = Sample(
        first_byte=0.011, first_row=0.012, total=1.92, size=113_600_000, rows=1_000_000, rss_growth_mb=3.6, digest=""
    )
    slow = Sample(
        first_byte=6.4, first_row=6.4, total=11.92, size=113_600_000, rows=1_000_000, rss_growth_mb=966.5, digest=""
    )
    results = {
        ("gunicorn", "exports, ORM path"): [sample, sample, sample],
        ("uvicorn", "exports, ORM path"): [sample],
        ("gunicorn", "naive HttpResponse"): [slow],
    }
    return results, argparse.Namespace(rows=1_000_000, repeat=3)


def test_the_markdown_table_reads_back_as_the_bench_summarised_it(run):
    results, args = run
    table = bench_main.render(results, args, True, CommandTimes(1.0, 0.9, 1.0, True))

    read = chart.from_markdown(table)
    summary = bench_main.summary(results, args)

    assert (read.rows, read.date, read.machine) == (summary.rows, summary.date, "a test machine")
    assert read.command == summary.command == "python -m bench --rows 1000000 --repeat 3"
    assert [(r.server, r.case, r.rows_per_s, r.rss_growth_mb) for r in read.cases] == [
        ("gunicorn", "exports, ORM path", 520_833, 3.6),
        ("uvicorn", "exports, ORM path", 520_833, 3.6),
        ("gunicorn", "naive HttpResponse", 83_893, 966.5),
    ]
    assert [(r.server, r.case, r.rows_per_s, r.rss_growth_mb) for r in summary.cases] == [
        (r.server, r.case, r.rows_per_s, r.rss_growth_mb) for r in read.cases
    ]
    assert read.methods == ["exports, ORM path", "naive HttpResponse"]
    assert read.get("uvicorn", "naive HttpResponse") is None


def test_json_round_trip(run):
    results, args = run
    summary = bench_main.summary(results, args)

    assert chart.from_json(chart.to_json(summary)) == summary


def test_the_committed_results_read(tmp_path):
    results = chart.load(ROOT / "bench" / "results" / "latest.md")

    assert results.rows == 1_000_000
    assert {r.server for r in results.cases} == {"gunicorn", "uvicorn"}
    assert all(r.rows_per_s > 0 and r.total_s > 0 for r in results.cases)


def test_a_file_that_is_not_a_result_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a bench result"):
        chart.from_markdown("# Notes\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")


def test_the_chart_is_drawn(run, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib comes with the bench extra: pip install -e '.[bench]'")
    results, args = run
    output = tmp_path / "chart.png"

    chart.main([str(_written(tmp_path, bench_main.summary(results, args))), str(output)])

    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _written(folder: Path, results: chart.Results) -> Path:
    path = folder / "latest.json"
    path.write_text(chart.to_json(results))
    return path
