r"""``python -m bench``: the library's download against the usual alternatives, on one machine, in one run.

Seeds PostgreSQL to ``--rows`` orders (``manage.py seed_orders``), starts gunicorn (one sync worker) and uvicorn (one
worker) on free ports of 127.0.0.1 with ``bench.settings``, a fresh one for every request, fetches every case
``--repeat`` times, round by round, and writes the medians as a Markdown table to ``bench/results/latest.md``, the
same figures as JSON beside it (``latest.json``), and their chart to ``docs/performance.png`` (``bench.chart``). It
checks every output's row count, and that the library's ORM and COPY outputs are byte-identical. Memory is the
worker's peak RSS (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` before each request) minus its RSS before the
request, the most of the runs. Last, it times ``manage.py export`` to a file against psql's ``\copy``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_bench python -m bench --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench import chart
from bench.queries import RAW_SQL

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/exports_bench"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    servers: tuple[str, ...] = ("gunicorn", "uvicorn")
    #: Environment for this case's server (bench.settings reads it).
    env: tuple[tuple[str, str], ...] = ()


CASES = [
    Case("exports, ORM path", "/exports/orders-orm.csv"),
    Case("exports, COPY path", "/exports/orders.csv"),
    Case("exports, COPY path, 1 parallel worker", "/exports/orders.csv", env=(("BENCH_COPY_PARALLEL_WORKERS", "1"),)),
    Case("exports, COPY path, no parallel workers", "/exports/orders.csv", env=(("BENCH_COPY_PARALLEL_WORKERS", "0"),)),
    Case("docs recipe (Echo, a yield per row)", "/bench/docs.csv"),
    Case("values_list in a transaction, 64 KiB chunks", "/bench/values.csv"),
    Case("naive HttpResponse", "/bench/naive.csv", ("gunicorn",)),
    Case("django-import-export export()", "/bench/import-export.csv", ("gunicorn",)),
    Case("raw psycopg2 COPY, no formatting", "/bench/copy.csv"),
]
#: The formats, on both of the library's paths: compared with the CSV case of the same path (``--only "path, "``).
FORMATS = [
    ("CSV excel", ".csv?dialect=excel"),
    ("CSV excel-semicolon", ".csv?dialect=excel-semicolon"),
    ("TSV", ".tsv"),
    ("JSON Lines", ".jsonl"),
]
CASES += [
    Case(f"exports, {path} path, {label}", f"/exports/{name}{suffix}")
    for path, name in (("ORM", "orders-orm"), ("COPY", "orders"))
    for label, suffix in FORMATS
]


@dataclass
class Sample:
    first_byte: float
    first_row: float
    total: float
    size: int
    rows: int
    rss_growth_mb: float
    digest: str


class Server:
    def __init__(self, kind: str, env: dict[str, str], python: str = sys.executable) -> None:
        """A ``kind`` server with ``env``, run by the interpreter ``python`` (another virtual environment's)."""
        self.kind = kind
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        fd = listener.fileno()
        if kind == "gunicorn":
            command = ["-m", "gunicorn", "project.wsgi:application", "--workers", "1", "--worker-class", "sync"]
            command += ["--bind", f"fd://{fd}", "--timeout", "600"]
        else:
            command = ["-m", "uvicorn", "project.asgi:application", "--fd", str(fd), "--log-level", "warning"]
        self.process = subprocess.Popen([python, *command], pass_fds=[fd], env=env, cwd=ROOT)
        listener.close()
        self.worker = self._worker_pid()

    def _worker_pid(self) -> int:
        if self.kind == "uvicorn":
            return self.process.pid
        deadline = time.monotonic() + 30
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        while time.monotonic() < deadline:
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
            time.sleep(0.05)
        raise RuntimeError("gunicorn started no worker")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    raise KeyError(key)


def fetch(server: Server, path: str) -> Sample:
    Path(f"/proc/{server.worker}/clear_refs").write_text("5")  # reset the worker's peak RSS
    before = _status(server.worker, "VmRSS")
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    connection.request("GET", path)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {response.read()[:500]!r}")
    # The client keeps the bytes and reads them after the clock stops, as curl writing a file would: checking them as
    # they arrive took a quarter of a core from the server on this 2-core machine.
    received: list[bytes] = []
    first_byte = first_row = 0.0
    while data := response.read1(1 << 20):
        now = time.perf_counter() - started
        if not first_byte:
            first_byte = now
        received.append(data)
        if not first_row and _rows(b"".join(received), path) >= 2:
            first_row = now
    total = time.perf_counter() - started
    connection.close()
    growth = (_status(server.worker, "VmHWM") - before) / 1024
    body = b"".join(received)
    del received
    digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return Sample(first_byte, first_row, total, len(body), _rows(body, path) - _header(path), growth, digest)


def _rows(data: bytes, path: str = ".csv") -> int:
    """The rows in ``data``: line feeds outside quoted cells for CSV; TSV and JSON Lines break no line in a row."""
    if ".tsv" in path or ".jsonl" in path:
        return data.count(b"\n")
    return b"".join(data.split(b'"')[0::2]).count(b"\n")


def _header(path: str) -> int:
    return 0 if ".jsonl" in path else 1


def _variant(path: str) -> str | None:
    """The format and dialect of one of the library's URLs (``.tsv``, ``.csv?dialect=excel``), else ``None``."""
    if not path.startswith("/exports/orders"):
        return None
    return path.split(".", 1)[1]


def seed(rows: int, env: dict[str, str]) -> None:
    import psycopg2

    manage = [sys.executable, "manage.py"]
    name = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    server = psycopg2.connect(env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres")
    server.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with server.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                print(f"creating the database {name}", file=sys.stderr)
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        server.close()
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        existing = cursor.fetchone()[0]
    if existing != rows:
        print(f"seeding {rows:,} orders (found {existing:,})", file=sys.stderr)
        subprocess.run([*manage, "seed_orders", "--count", str(rows), "--truncate"], env=env, cwd=ROOT, check=True)
    subprocess.run(["psql", env["DATABASE_URL"], "-qc", "VACUUM ANALYZE"], check=True)


@dataclass(frozen=True)
class CommandTimes:
    """``manage.py export`` to a file, and psql's ``\\copy`` of the same rows two ways (medians, seconds)."""

    command: float
    psql_plain: float
    psql_same: float
    same_output: bool


def command_vs_psql(repeat: int, env: dict[str, str]) -> CommandTimes:
    """The command against psql twice: the plain SELECT of the columns (PostgreSQL's own formats: no labels, no
    escaping, ``2024-11-01 00:00:13.151206+00``), and the very SELECT the command runs, which writes the same file
    byte for byte; interleaved run by run. Both psql runs get the command's session settings (time zone, JIT off,
    parallel workers), so the plain SELECT plans the same parallel scan; against psql's defaults (a serial scan, JIT
    on) it took as long within the noise (nine interleaved pairs at 1M rows: 1.19-1.51 s against 1.28-1.72 s)."""
    statement = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.copy_sql"],
            env={**env, "DJANGO_SETTINGS_MODULE": "project.settings"},
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    same_sql = statement["select"]
    session = [
        argument
        for name, value in statement["settings"].items()
        for argument in ("-c", f"SELECT set_config('{name}', '{value}', false)")
    ]
    ours: list[float] = []
    plain: list[float] = []
    same: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "manage.py", "export", "orders", "-o", f"{folder}/ours.csv"],
                env=env,
                cwd=ROOT,
                check=True,
            )
            ours.append(time.perf_counter() - started)
            for sql, target, times in ((RAW_SQL, "plain.csv", plain), (same_sql, "same.csv", same)):
                started = time.perf_counter()
                copy = rf"\copy ({sql}) TO '{folder}/{target}' CSV HEADER"
                subprocess.run(
                    ["psql", env["DATABASE_URL"], "-q", *session, "-c", copy], check=True, stdout=subprocess.DEVNULL
                )
                times.append(time.perf_counter() - started)
        identical = Path(folder, "ours.csv").read_bytes() == Path(folder, "same.csv").read_bytes()
    return CommandTimes(statistics.median(ours), statistics.median(plain), statistics.median(same), identical)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    import django
    import psycopg2

    pg = subprocess.run(
        ["psql", os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), "-Atc", "SHOW server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; PostgreSQL {pg}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, psycopg2 {psycopg2.__version__.split()[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--only", action="append", help="run only the cases whose name contains this (repeatable)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.md")
    parser.add_argument(
        "--chart",
        type=Path,
        help="where to draw the chart (needs matplotlib, in the bench extra); default: docs/performance.png for the "
        "default --output, else the output with .png; '' for none",
    )
    args = parser.parse_args()
    if args.chart is None:
        args.chart = ROOT / "docs" / "performance.png" if args.output == RESULTS / "latest.md" else None
    env = {**os.environ, "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    os.environ["DATABASE_URL"] = args.database_url
    seed(args.rows, {**env, "DJANGO_SETTINGS_MODULE": "project.settings"})

    results: dict[tuple[str, str], list[Sample]] = {}
    # Round after round of every case on both servers (not one case's repeats back to back): a machine that slows
    # down or speeds up during the run then weighs on every case alike. Each sample gets a fresh worker, warmed up by
    # one empty export: what a case leaves behind (the naive view's freed but kept 600 MB, say) cannot hide the next
    # case's growth, and the growth reported is that of a worker's first export, the worst case.
    for _ in range(args.repeat):
        for kind in ("gunicorn", "uvicorn"):
            for case in CASES:
                if kind not in case.servers or (args.only and not any(o in case.name for o in args.only)):
                    continue
                server = Server(kind, {**env, **dict(case.env)})
                try:
                    fetch(server, "/exports/orders.csv?reference=warm-up")
                    sample = fetch(server, case.path)
                finally:
                    server.stop()
                print(f"{kind:8} {case.name:45} {sample.total:7.2f}s {sample.rss_growth_mb:+7.1f} MB", file=sys.stderr)
                if sample.rows != args.rows:
                    raise SystemExit(f"{kind} {case.name}: {sample.rows:,} rows, expected {args.rows:,}")
                results.setdefault((kind, case.name), []).append(sample)
    # Per format and dialect, every output of the library (ORM or COPY path, either server) is the same file.
    paths = {case.name: case.path for case in CASES}
    outputs: dict[str, set[str]] = {}
    for (_kind, name), samples in results.items():
        variant = _variant(paths[name])
        if variant is not None:
            outputs.setdefault(variant.split("&")[0], set()).add(samples[0].digest)
    identical = all(len(digests) == 1 for digests in outputs.values())
    command = command_vs_psql(args.repeat, env)
    report = render(results, args, identical, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)
    figures = summary(results, args)
    args.output.with_suffix(".json").write_text(chart.to_json(figures))
    if args.chart != Path(""):
        try:
            chart.draw(figures, args.chart or args.output.with_suffix(".png"))
        except ImportError:
            print("No chart: matplotlib is missing (pip install -e '.[bench]').", file=sys.stderr)
    if not identical:
        raise SystemExit("the ORM and COPY outputs differ")
    if not command.same_output:
        raise SystemExit("the command's file and psql's file of the same SELECT differ")


def summary(results: dict[tuple[str, str], list[Sample]], args: argparse.Namespace) -> chart.Results:
    """The figures of the Markdown table, for ``bench.chart``."""

    def median(samples: list[Sample], attribute: str) -> float:
        return float(statistics.median(getattr(sample, attribute) for sample in samples))

    cases = []
    for (kind, name), samples in results.items():
        total = median(samples, "total")
        cases.append(
            chart.CaseResult(
                server=kind,
                case=name,
                first_byte_ms=round(median(samples, "first_byte") * 1000, 1),
                first_row_ms=round(median(samples, "first_row") * 1000, 1),
                total_s=round(total, 3),
                rows_per_s=round(args.rows / total),
                mb_per_s=round(median(samples, "size") / total / 1e6, 1),
                rss_growth_mb=round(max(sample.rss_growth_mb for sample in samples), 1),
            )
        )
    command = f"python -m bench --rows {args.rows} --repeat {args.repeat}"
    return chart.Results(args.rows, datetime.date.today().isoformat(), machine(), command, cases)


def render(
    results: dict[tuple[str, str], list[Sample]], args: argparse.Namespace, identical: bool, command: CommandTimes
) -> str:
    def median(samples: list[Sample], attribute: str) -> float:
        return float(statistics.median(getattr(sample, attribute) for sample in samples))

    totals = {key: median(samples, "total") for key, samples in results.items()}
    baselines = {
        "docs": ("gunicorn", "docs recipe (Echo, a yield per row)"),
        "values": ("gunicorn", "values_list in a transaction, 64 KiB chunks"),
        "raw COPY": ("gunicorn", "raw psycopg2 COPY, no formatting"),
    }
    lines = [
        f"# Benchmark: {args.rows:,} orders, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {machine()}.",
        f"`python -m bench --rows {args.rows} --repeat {args.repeat}`: medians of {args.repeat} runs; one gunicorn "
        "sync worker or one uvicorn worker, fresh for every request (after one empty export), the runs interleaved; "
        "the client reads on loopback. Memory: the worker's peak RSS minus its RSS before the request, the most of "
        "the runs. Ratios: rows/s against the named case under gunicorn (higher is faster).",
        "",
        "| server | case | first byte | first row | total | rows/s | MB/s | RSS growth "
        "| vs docs | vs values | vs raw COPY |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (kind, name), samples in results.items():
        total = totals[(kind, name)]
        ratios = [f"{totals[base] / total:.2f}x" if base in totals else "-" for base in baselines.values()]
        size = median(samples, "size")
        first_byte, first_row = median(samples, "first_byte") * 1000, median(samples, "first_row") * 1000
        growth = max(sample.rss_growth_mb for sample in samples)
        lines.append(
            f"| {kind} | {name} | {first_byte:.0f} ms | {first_row:.0f} ms | {total:.2f} s | {args.rows / total:,.0f}"
            f" | {size / total / 1e6:.0f} | {growth:+.1f} MB | {' | '.join(ratios)} |"
        )
    lines += [
        "",
        f"ORM and COPY outputs byte-identical per format and dialect (both servers): {'yes' if identical else 'NO'}.",
        *format_ratios(totals),
        f"`manage.py export orders -o file`: {command.command:.2f} s. `psql -c '\\copy (SELECT ...) TO file CSV "
        f"HEADER'` of the plain columns: {command.psql_plain:.2f} s ({command.psql_plain / command.command:.2f}x); "
        f"of the command's own SELECT: {command.psql_same:.2f} s ({command.psql_same / command.command:.2f}x), "
        f"the same file byte for byte: {'yes' if command.same_output else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


def format_ratios(totals: dict[tuple[str, str], float]) -> list[str]:
    """Each format's rows/s against the default CSV's on the same path and server (the issue's targets: TSV and JSON
    Lines at least 0.8x, every CSV dialect within 5%)."""
    lines = []
    for (kind, name), total in totals.items():
        path, _, label = name.removeprefix("exports, ").partition(" path, ")
        base = (kind, f"exports, {path} path")
        if label and base in totals and any(label == known for known, _ in FORMATS):
            lines.append(f"| {kind} | {path} | {label} | {totals[base] / total:.2f}x |")
    if not lines:
        return []
    header = ["", "Formats against the default CSV (unix) on the same path and server, rows/s:", ""]
    return [*header, "| server | path | format | vs CSV |", "|---|---|---|---:|", *lines]


if __name__ == "__main__":
    main()
