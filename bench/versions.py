"""``python -m bench.versions``: the library's ORM and COPY paths on two Django releases, in one run, on the same data.

Each release runs in the test matrix's own environment for it (``nox --install-only`` makes or updates them, pinned
in ``noxfile.py``), on the same Python, so only Django differs. The database is seeded once, as ``python -m bench``
does. Then, round by round, every case runs on every release, interleaved, each request on a fresh gunicorn (one sync
worker) or uvicorn worker, measured as ``python -m bench`` measures; last, ``manage.py export`` to a file on each
release. It checks that both releases write the same bytes, and writes the medians to
``bench/results/django-versions.md``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_bench python -m bench.versions --rows 200000 --repeat 7
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import DEFAULT_DATABASE_URL, RESULTS, ROOT, Sample, Server, fetch, seed

#: The cases compared: the library's download on each of its two paths.
CASES = {"ORM path": "/exports/orders-orm.csv", "COPY path": "/exports/orders.csv"}
SERVERS = ("gunicorn", "uvicorn")


def environment(django: str, python: str) -> Path:
    """The interpreter of the matrix's ``tests`` session for this pair, installed (or updated) now."""
    session = f"tests(django='{django}', python='{python}')"
    subprocess.run([sys.executable, "-m", "nox", "-s", session, "--install-only"], cwd=ROOT, check=True)
    interpreter = ROOT / ".nox" / f"tests-django-{django.replace('.', '-')}-python-{python.replace('.', '-')}" / "bin"
    if not (interpreter / "python").exists():
        raise SystemExit(f"nox made no environment for {session} at {interpreter.parent}")
    return interpreter / "python"


def version_of(python: Path, module: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({module!r}))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def command_time(python: Path, env: dict[str, str], folder: str) -> tuple[float, bytes]:
    target = Path(folder, "command.csv")
    started = time.perf_counter()
    subprocess.run([python, "manage.py", "export", "orders", "-o", str(target)], env=env, cwd=ROOT, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, target.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.versions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--python", default="3.13", help="the Python both releases run on")
    parser.add_argument("--django", action="append", help="a release of the matrix (default: 5.2 and 6.1)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--output", type=Path, default=RESULTS / "django-versions.md")
    args = parser.parse_args()
    releases: list[str] = args.django or ["5.2", "6.1"]
    pythons = {release: environment(release, args.python) for release in releases}
    env = {**os.environ, "DATABASE_URL": args.database_url}
    os.environ["DATABASE_URL"] = args.database_url
    seed(args.rows, {**env, "DJANGO_SETTINGS_MODULE": "project.settings"})
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}

    results: dict[tuple[str, str, str], list[Sample]] = {}
    commands: dict[str, list[float]] = {release: [] for release in releases}
    files: dict[str, bytes] = {}
    # The releases alternate within each case, and the order flips every round, so neither always runs first.
    for round_ in range(args.repeat):
        order = releases if round_ % 2 == 0 else releases[::-1]
        for kind in SERVERS:
            for case, path in CASES.items():
                for release in order:
                    server = Server(kind, server_env, python=str(pythons[release]))
                    try:
                        fetch(server, "/exports/orders.csv?reference=warm-up")
                        sample = fetch(server, path)
                    finally:
                        server.stop()
                    print(f"Django {release} {kind:8} {case:10} {sample.total:6.2f}s", file=sys.stderr)
                    if sample.rows != args.rows:
                        raise SystemExit(f"Django {release} {kind} {case}: {sample.rows:,} rows, not {args.rows:,}")
                    results.setdefault((release, kind, case), []).append(sample)
        with tempfile.TemporaryDirectory() as folder:
            for release in order:
                elapsed, files[release] = command_time(
                    pythons[release], {**env, "DJANGO_SETTINGS_MODULE": "project.settings"}, folder
                )
                commands[release].append(elapsed)
    digests = {sample.digest for samples in results.values() for sample in samples}
    same_files = len(set(files.values())) == 1
    report = render(args, releases, pythons, results, commands, len(digests) == 1 and same_files)
    args.output.write_text(report)
    print(report)
    if len(digests) != 1 or not same_files:
        raise SystemExit("the releases (or the paths) wrote different bytes")


def render(
    args: argparse.Namespace,
    releases: list[str],
    pythons: dict[str, Path],
    results: dict[tuple[str, str, str], list[Sample]],
    commands: dict[str, list[float]],
    identical: bool,
) -> str:
    base, new = releases[0], releases[-1]
    exact = {release: version_of(pythons[release], "django") for release in releases}
    psycopg2 = version_of(pythons[base], "psycopg2-binary")

    def total(release: str, kind: str, case: str) -> float:
        return statistics.median(sample.total for sample in results[(release, kind, case)])

    def first_row(release: str, kind: str, case: str) -> float:
        return statistics.median(sample.first_row for sample in results[(release, kind, case)]) * 1000

    def growth(release: str, kind: str, case: str) -> float:
        return max(sample.rss_growth_mb for sample in results[(release, kind, case)])

    lines = [
        f"# Django {exact[new]} against {exact[base]}: {args.rows:,} orders, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}; Python {args.python} for both, "
        f"psycopg2 {psycopg2}; each release in the matrix's environment for it (`noxfile.py`).",
        f"`python -m bench.versions --rows {args.rows} --repeat {args.repeat}`: medians of {args.repeat} runs, the "
        "releases interleaved request by request (the order flipping every round), each request on a fresh worker "
        "after one empty export, as `python -m bench` measures. Time ratio: the newer release's median time over the "
        "older's (above 1.00x: slower).",
        "",
        f"| server | path | total {base} | total {new} | time {new}/{base} | rows/s {base} | rows/s {new} "
        f"| first row {base} | first row {new} | RSS growth {base} | RSS growth {new} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in SERVERS:
        for case in CASES:
            old_total, new_total = total(base, kind, case), total(new, kind, case)
            lines.append(
                f"| {kind} | {case} | {old_total:.3f} s | {new_total:.3f} s | {new_total / old_total:.2f}x "
                f"| {args.rows / old_total:,.0f} | {args.rows / new_total:,.0f} "
                f"| {first_row(base, kind, case):.0f} ms | {first_row(new, kind, case):.0f} ms "
                f"| {growth(base, kind, case):+.1f} MB | {growth(new, kind, case):+.1f} MB |"
            )
    old_command, new_command = statistics.median(commands[base]), statistics.median(commands[new])
    lines += [
        f"| command | `manage.py export orders -o file` (COPY) | {old_command:.3f} s | {new_command:.3f} s "
        f"| {new_command / old_command:.2f}x | {args.rows / old_command:,.0f} | {args.rows / new_command:,.0f} "
        "| - | - | - | - |",
        "",
        f"Every download and file byte-identical across both releases and both paths: {'yes' if identical else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
