"""``python -m bench.formats``: each format against the default CSV in one process, without a server or a client.

Runs the demo's ``orders`` export through :func:`exports.runs.prepare` on the COPY path, on the ORM path (cells
formatted by PostgreSQL where it can) and on the ORM path with every cell formatted in Python, each format and CSV
dialect five times round by round, and prints the best time of each and its ratio to the default CSV's on the same
path. Use the database ``python -m bench`` seeded::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_bench python -m bench.formats
"""

from __future__ import annotations

import os
import time
from unittest import mock

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

CASES = [("csv", None), ("csv", "excel"), ("csv", "excel-semicolon"), ("tsv", None), ("jsonl", None)]
ROUNDS = 5


def main() -> None:
    django.setup()
    from exports import Export
    from exports.registry import registry
    from exports.runs import prepare

    orders = registry.get("orders")
    orm = Export(orders.model_class, name="formats-orm", columns=orders.columns, copy=False)

    def seconds(export: Export, fmt: str, dialect: str | None, *, in_python: bool) -> float:
        request = prepare(export, surface="command", format=fmt, dialect=dialect)
        started = time.perf_counter()
        with mock.patch("exports.pipeline.sql_cells", return_value={}) if in_python else mock.MagicMock():
            for _chunk in request.start().stream():
                pass
        return time.perf_counter() - started

    for label, export, in_python in (
        ("COPY", orders, False),
        ("ORM", orm, False),
        ("ORM, every cell in Python", orm, True),
    ):
        times: dict[tuple[str, str | None], list[float]] = {case: [] for case in CASES}
        for _ in range(ROUNDS):
            for case in CASES:
                times[case].append(seconds(export, *case, in_python=in_python))
        base = min(times[("csv", None)])
        figures = [
            f"{fmt}{'/' + dialect if dialect else ''} {min(t):.2f} s ({base / min(t):.2f}x)"
            for (fmt, dialect), t in times.items()
        ]
        print(f"| {label} | " + " | ".join(figures) + " |")


if __name__ == "__main__":
    main()
