r"""``python -m bench.jobs``: background exports against ``manage.py export -o`` of the same rows, on PostgreSQL.

Seeds ``--rows`` orders in the bench's own database (as ``python -m bench`` does), then, with real ``db_worker``
processes and the files in a temporary folder:

* the command's time to write the export to a file, against a job's (its worker's ``started_at`` to
  ``finished_at``: the rows read, spooled and stored), ``--repeat`` times each, interleaved; medians;
* the worker's memory: its peak RSS during the job (``VmHWM``, reset through ``/proc/<pid>/clear_refs``) minus its
  RSS before, on the largest job;
* two equal jobs (of two users, so that the per-user limit does not order them) run by one worker, then by two:
  the time from the first start to the last finish.

Writes ``bench/results/jobs.md`` (``jobs-copy-workers-N.md`` with ``--copy-parallel-workers N``). Linux only
(``/proc``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_jobs_bench python -m bench.jobs --rows 2000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import ROOT, machine, seed

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/exports_jobs_bench"


def rss(pid: int, key: str) -> int:
    """A memory figure of ``pid`` from ``/proc/<pid>/status``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise LookupError(key)


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval=0.05"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def queue(usernames: list[str]) -> list[str]:
    """Queue one export of every order for each user; their job ids."""
    from exports import jobs
    from exports.registry import registry
    from exports.runs import Surface, prepare

    export = registry.get("orders")
    from django.contrib.auth import get_user_model

    ids = []
    for username in usernames:
        user = get_user_model()._default_manager.get(username=username)
        job, _ = jobs.submit(prepare(export, surface=Surface.COMMAND, user=user))
        ids.append(str(job.pk))
    return ids


def wait(ids: list[str]) -> list[tuple[float, float]]:
    """Wait for the jobs; their (started, finished) times as timestamps."""
    from exports.job_models import ExportJob

    while True:
        found = list(ExportJob.objects.filter(pk__in=ids).values_list("state", "started_at", "finished_at"))
        if all(state == "completed" for state, _, _ in found):
            return [
                (started.timestamp(), finished.timestamp()) for _, started, finished in found if started and finished
            ]
        if any(state in {"failed", "cancelled"} for state, _, _ in found):
            raise RuntimeError(f"a job did not complete: {found}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--copy-parallel-workers",
        type=int,
        help="EXPORTS_COPY_PARALLEL_WORKERS for the command and the workers (default: the setting's own, 2)",
    )
    args = parser.parse_args()
    files = tempfile.mkdtemp(prefix="exports-jobs-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "EXPORTS_FILES_DIR": files,
    }
    if args.copy_parallel_workers is not None:
        env["BENCH_COPY_PARALLEL_WORKERS"] = str(args.copy_parallel_workers)
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # reads BENCH_COPY_PARALLEL_WORKERS
    seed(args.rows, {**env, "DJANGO_SETTINGS_MODULE": "project.settings"})
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    for username in ("bench-a", "bench-b"):
        get_user_model()._default_manager.update_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "is_active": True}
        )

    command: list[float] = []
    job: list[float] = []
    growth = 0
    worker = start_worker(env)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.repeat):
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "manage.py", "export", "orders", "-o", f"{folder}/out.csv"],
                    env=env,
                    cwd=ROOT,
                    check=True,
                )
                command.append(time.perf_counter() - started)
                Path(f"/proc/{worker.pid}/clear_refs").write_text("5")
                before = rss(worker.pid, "VmRSS")
                ((begun, ended),) = wait(queue(["bench-a"]))
                job.append(ended - begun)
                growth = max(growth, rss(worker.pid, "VmHWM") - before)
        times = wait(queue(["bench-a", "bench-b"]))
        one_worker = max(end for _, end in times) - min(start for start, _ in times)
        second = start_worker(env)
        try:
            times = wait(queue(["bench-a", "bench-b"]))
            two_workers = max(end for _, end in times) - min(start for start, _ in times)
        finally:
            second.terminate()
            second.wait()
    finally:
        worker.terminate()
        worker.wait()
    report(args, statistics.median(command), statistics.median(job), growth, one_worker, two_workers)


def report(
    args: argparse.Namespace, command: float, job: float, growth_kib: int, one_worker: float, two_workers: float
) -> None:
    rows = args.rows
    workers = args.copy_parallel_workers
    option = "" if workers is None else f" --copy-parallel-workers {workers}"
    lines = [
        "# Background jobs against the command" + ("" if workers is None else f", {workers} COPY parallel workers"),
        "",
        f"`python -m bench.jobs --rows {rows} --repeat {args.repeat}{option}` on {machine()}.",
        "PostgreSQL on the same machine, `db_worker` processes of the database backend, files in a private folder on",
        "the same disk. Medians. The command's time is its process's wall time (start-up included); a job's is its",
        "worker's, from `started_at` to `finished_at`.",
        "",
        "| case | seconds | rows/s | vs the command |",
        "|---|---:|---:|---:|",
        f"| `manage.py export orders -o FILE` | {command:.2f} | {rows / command:,.0f} | 1.00x |",
        f"| background job (worker: read, spool, store) | {job:.2f} | {rows / job:,.0f} | {command / job:.2f}x |",
        "",
        f"Worker RSS growth during a {rows:,}-row job (peak minus before): {growth_kib / 1024:.1f} MiB.",
        "",
        "| two equal jobs (two users) | seconds, first start to last finish | speed-up |",
        "|---|---:|---:|",
        f"| one worker, one after the other | {one_worker:.2f} | 1.00x |",
        f"| two workers at once | {two_workers:.2f} | {one_worker / two_workers:.2f}x |",
        "",
    ]
    target = ROOT / "bench" / "results" / ("jobs.md" if workers is None else f"jobs-copy-workers-{workers}.md")
    target.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
