"""``python -m bench.sql_costs``: where the COPY path's time goes inside PostgreSQL, without HTTP or a server.

For the demo export over the benchmark's database, it times ``COPY (...) TO STDOUT`` drained by psycopg2 into
``/dev/null`` (the driver's C loop: no Python per row) of:

* the plain SELECT of the columns (the raw COPY view's) and the export's own SELECT, in its session, with 0, 1 and 2
  parallel workers;
* each column beside the id, once as the export formats it and once as PostgreSQL writes the raw value: the
  difference is what formatting that column costs.

Every statement runs ``--repeat`` times, round by round; the table gives the fastest and the median run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_bench python -m bench.sql_costs
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

from bench.__main__ import DEFAULT_DATABASE_URL, RESULTS, machine
from bench.queries import RAW_SQL


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sql_costs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--output", type=Path, default=RESULTS / "sql-costs.md")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()

    from django.db import connection

    from exports.cells import export_time_zone
    from exports.postgres.session import export_session
    from exports.registry import registry
    from exports.runs import Surface, prepare
    from exports.sources.copy import CopyPlan, copy_plan

    request = prepare(registry.get("orders"), surface=Surface.COMMAND)
    queryset, columns = request.queryset, list(request.columns)
    tz = export_time_zone()
    escape = request.formula_escaping

    def copy_sql(*args: Any, **kwargs: Any) -> str:
        plan = copy_plan(*args, **kwargs)
        if not isinstance(plan, CopyPlan):
            raise SystemExit(f"not a COPY: {plan}")
        return plan.sql

    def plain_copy(*paths: str) -> str:
        sql, params = queryset.values_list(*paths).query.sql_with_params()
        return f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT WITH (FORMAT csv)"  # type: ignore[attr-defined]

    def timed(sql: str, workers: int | None, *, session: bool = True) -> Callable[[], float]:
        """``sql`` drained into /dev/null, in the export's session with ``workers`` (or, like the raw COPY view, in the
        connection's own session)."""

        def run() -> float:
            connection.ensure_connection()
            with (
                export_session(connection.alias, tz, parallel_workers=workers) if session else contextlib.nullcontext(),
                open(os.devnull, "wb") as sink,
                connection.connection.cursor() as cursor,
            ):
                started = time.perf_counter()
                cursor.copy_expert(sql, sink)
                return time.perf_counter() - started

        return run

    export_sql = copy_sql(queryset, columns, escape=escape, tz=tz)
    cases: dict[str, Callable[[], float]] = {
        "plain SELECT of the columns (the raw COPY view's)": timed(
            f"COPY ({RAW_SQL}) TO STDOUT WITH (FORMAT csv)", None, session=False
        ),
        "the export's SELECT, one backend": timed(export_sql, 0),
        "the export's SELECT, 1 parallel worker": timed(export_sql, 1),
        "the export's SELECT, 2 parallel workers": timed(export_sql, 2),
    }
    first, rest = columns[0], columns[1:]
    for column in rest:
        formatted = copy_sql(queryset, [first, column], escape=escape, tz=tz)
        cases[f"{first.label} + {column.label}, raw"] = timed(plain_copy(first.path, column.path), 0)
        cases[f"{first.label} + {column.label}, formatted"] = timed(formatted, 0)

    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, run in cases.items():
            times[name].append(run())
    rows = queryset.count()
    report = render(times, columns=rest, first=str(first.label), repeat=args.repeat, rows=rows)
    args.output.write_text(report + "\n")
    print(report)


def render(times: dict[str, list[float]], *, columns: list[Any], first: str, repeat: int, rows: int) -> str:
    best = {name: min(values) for name, values in times.items()}
    lines = [
        f"# Where the COPY path's time goes in PostgreSQL: {rows:,} orders, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {machine()}.",
        f"`python -m bench.sql_costs --repeat {repeat}`: COPY TO STDOUT drained into /dev/null by psycopg2, seconds "
        f"(fastest and median of {repeat} interleaved runs).",
        "",
        "| statement | fastest | median |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {best[name]:.3f} | {statistics.median(values):.3f} |"
        for name, values in times.items()
        if " + " not in name
    ]
    lines += ["", "| column (beside the id) | raw | formatted | formatting costs |", "|---|---:|---:|---:|"]
    for column in columns:
        raw, formatted = best[f"{first} + {column.label}, raw"], best[f"{first} + {column.label}, formatted"]
        lines.append(f"| {column.label} | {raw:.3f} | {formatted:.3f} | {formatted - raw:+.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
