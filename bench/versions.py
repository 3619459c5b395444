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
import resource
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


def cpu_seconds(pid: int) -> float:
    """The CPU time a process (all its threads) has used: less swayed than wall time by other work on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def version_of(python: Path, module: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({module!r}))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def command_time(python: Path, env: dict[str, str], folder: str) -> tuple[float, float, bytes]:
    """``manage.py export orders`` to a file: its wall time, its CPU time, and the file."""
    target = Path(folder, "command.csv")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([python, "manage.py", "export", "orders", "-o", str(target)], env=env, cwd=ROOT, check=True)
    elapsed = time.perf_counter() - started
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime, target.read_bytes()


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
    cpu: dict[tuple[str, str, str], list[float]] = {}
    commands: dict[str, list[float]] = {release: [] for release in releases}
    command_cpu: dict[str, list[float]] = {release: [] for release in releases}
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
                        before = cpu_seconds(server.worker)
                        sample = fetch(server, path)
                        cpu.setdefault((release, kind, case), []).append(cpu_seconds(server.worker) - before)
                    finally:
                        server.stop()
                    print(f"Django {release} {kind:8} {case:10} {sample.total:6.2f}s", file=sys.stderr)
                    if sample.rows != args.rows:
                        raise SystemExit(f"Django {release} {kind} {case}: {sample.rows:,} rows, not {args.rows:,}")
                    results.setdefault((release, kind, case), []).append(sample)
        with tempfile.TemporaryDirectory() as folder:
            for release in order:
                manage_env = {**env, "DJANGO_SETTINGS_MODULE": "project.settings"}
                elapsed, used, files[release] = command_time(pythons[release], manage_env, folder)
                commands[release].append(elapsed)
                command_cpu[release].append(used)
    digests = {sample.digest for samples in results.values() for sample in samples}
    same_files = len(set(files.values())) == 1
    report = render(args, releases, pythons, results, cpu, (commands, command_cpu), len(digests) == 1 and same_files)
    args.output.write_text(report)
    print(report)
    if len(digests) != 1 or not same_files:
        raise SystemExit("the releases (or the paths) wrote different bytes")


def render(
    args: argparse.Namespace,
    releases: list[str],
    pythons: dict[str, Path],
    results: dict[tuple[str, str, str], list[Sample]],
    cpu: dict[tuple[str, str, str], list[float]],
    command: tuple[dict[str, list[float]], dict[str, list[float]]],
    identical: bool,
) -> str:
    base, new = releases[0], releases[-1]
    exact = {release: version_of(pythons[release], "django") for release in releases}
    psycopg2 = version_of(pythons[base], "psycopg2-binary")

    def median(values: list[float]) -> float:
        return float(statistics.median(values))

    def paired(old: list[float], new: list[float]) -> str:
        """The median of the round-by-round ratios (each pair ran back to back), and their range: the noise."""
        ratios = sorted(n / o for o, n in zip(old, new, strict=True))
        return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"

    lines = [
        f"# Django {exact[new]} against {exact[base]}: {args.rows:,} orders, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}; Python {args.python} for both, "
        f"psycopg2 {psycopg2}; each release in the matrix's environment for it (`noxfile.py`).",
        f"`python -m bench.versions --rows {args.rows} --repeat {args.repeat}`: medians of {args.repeat} runs, the "
        "releases interleaved request by request (the order flipping every round), each request on a fresh worker "
        "after one empty export, as `python -m bench` measures. Wall: the client's time for the whole download. CPU: "
        "what the worker process (all its threads) used for the request, or the command's process: less swayed than "
        "wall time by other work on the machine (PostgreSQL's own work is in neither). Each ratio is "
        f"{new} over {base} (above 1.00x: slower): the median of the ratios of the two runs of each round, which ran "
        "back to back, and their range, which shows the noise.",
        "",
        f"| server | path | wall {base} | wall {new} | wall {new}/{base} (range) | CPU {base} | CPU {new} "
        f"| CPU {new}/{base} (range) | first row {base} / {new} | RSS growth {base} / {new} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in SERVERS:
        for case in CASES:
            walls = [[sample.total for sample in results[(release, kind, case)]] for release in (base, new)]
            cpus = [cpu[(release, kind, case)] for release in (base, new)]
            first = [median([s.first_row * 1000 for s in results[(release, kind, case)]]) for release in (base, new)]
            growth = [max(s.rss_growth_mb for s in results[(release, kind, case)]) for release in (base, new)]
            lines.append(
                f"| {kind} | {case} | {median(walls[0]):.3f} s | {median(walls[1]):.3f} s | {paired(*walls)} "
                f"| {median(cpus[0]):.3f} s | {median(cpus[1]):.3f} s | {paired(*cpus)} "
                f"| {first[0]:.0f} / {first[1]:.0f} ms | {growth[0]:+.1f} / {growth[1]:+.1f} MB |"
            )
    walls = [command[0][release] for release in (base, new)]
    cpus = [command[1][release] for release in (base, new)]
    lines += [
        f"| command | `manage.py export orders -o file` (COPY) | {median(walls[0]):.3f} s | {median(walls[1]):.3f} s "
        f"| {paired(*walls)} | {median(cpus[0]):.3f} s | {median(cpus[1]):.3f} s | {paired(*cpus)} | - | - |",
        "",
        f"Every download and file byte-identical across both releases and both paths: {'yes' if identical else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
