"""Real worker processes for the job tests: ``manage.py db_worker``, RQ's ``rq worker`` and a Celery worker, run
against the PostgreSQL test database with the test's own folder of job files (and Redis database and queues)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import database_url
from tests.servers.conftest import ROOT

BIN = Path(sys.executable).parent
REDIS_DB = 7
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def needs_redis() -> None:
    if not redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
        pytest.skip("needs Redis on 127.0.0.1:6379 (redis-server)")


def command(kind: str, queue: str) -> list[str]:
    if kind == "db":
        return [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval=0.1"]
    if kind == "rq":
        return [str(BIN / "rq"), "worker", "--url", REDIS_URL, "--with-scheduler", queue]
    if kind == "celery":
        app = "tests.jobs.celery_app"
        return [str(BIN / "celery"), "-A", app, "worker", "--pool=solo", "-Q", queue, "--without-mingle", "-l", "INFO"]
    raise ValueError(kind)


@pytest.fixture
def queue_name() -> str:
    """A queue of this test's own on the shared Redis server."""
    return f"exports-jobs-{os.getpid()}-{os.urandom(4).hex()}"


@pytest.fixture
def start_worker(tmp_path: Path, job_files: Path, queue_name: str) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a worker process of ``kind``; every one started is stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    engines = {
        "db": "exports.tasks.enqueue",
        "rq": "exports.engines.rq.enqueue",
        "celery": "tests.jobs.celery_app.enqueue",
    }

    def start(kind: str = "db", **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            **extra,
            "DATABASE_URL": database_url(),
            "DATABASE_TEST_NAME": "",
            "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "EXPORTS_FILES_DIR": str(job_files),
            "EXPORTS_JOB_ENQUEUE": engines[kind],
            "EXPORTS_RQ_URL": REDIS_URL,
            "EXPORTS_RQ_QUEUE": queue_name,
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue_name,
        }
        log = (tmp_path / f"{kind}-worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(command(kind, queue_name), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    if started and redis_up():
        # The keys of this test's queues (RQ's jobs and registries, Celery's lists) go with it.
        from redis import Redis

        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"*{queue_name}*"))
        if keys:
            redis.delete(*keys)


def logs(tmp_path: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(tmp_path.glob("*-worker-*.log")))
