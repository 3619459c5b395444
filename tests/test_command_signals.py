"""``manage.py export -o FILE`` ended by a signal midway: nothing left in the folder, and no run left ``running``.

The command runs in a real process against the test database; the export ``stalls-midway`` (tests/testapp/exports.py)
writes a few chunks, then stops at the row ``STALL`` and creates a marker file: the test's cue that the file is being
written, so that the signal always lands midway (no sleep, no race with the end of the export).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from model_bakery import baker

from exports import files, slots
from exports.models import ExportRun
from orders.models import Customer, Order
from tests.conftest import database_url
from tests.testapp.exports import STALL_MARKER, STALLING_REFERENCE

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.name != "posix", reason="signals and process ids as POSIX has them"),
]


@pytest.fixture
def stalling_orders(make_orders):
    customer = baker.make(Customer, country="SE")
    make_orders(5000, customer=customer)  # about 200 KB: several chunks are in the file when the export stops
    baker.make(Order, customer=customer, reference=STALLING_REFERENCE)
    make_orders(10, customer=customer)


def start_export(folder: Path, marker: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        STALL_MARKER: str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "export", "stalls-midway", "-o", str(folder / "x.csv"), *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120  # a bound against a hang only: the loop waits for the marker, not for time
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the export never reached its stalling row"
        time.sleep(0.01)
    return process


def unnamed_bytes_written(pid: int, folder: Path) -> int:
    """On Linux, the size of the unnamed file the process writes in ``folder`` (0 if it holds none)."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
        if link.startswith(f"{folder}/") and link.endswith("(deleted)"):
            return os.stat(f"/proc/{pid}/fd/{fd}").st_size
    return 0


@pytest.fixture
def folder(tmp_path):
    (folder := tmp_path / "out").mkdir()
    (folder / "x.csv").write_text("yesterday's export\n")
    (folder / "notes.txt").write_text("kept\n")
    return folder


def folder_is_as_it_was(folder: Path) -> bool:
    return (
        sorted(os.listdir(folder)) == ["notes.txt", "x.csv"]
        and (folder / "x.csv").read_text() == "yesterday's export\n"
    )


@pytest.mark.parametrize(
    ("signum", "status", "message", "error"),
    [
        (signal.SIGINT, 130, "Interrupted; nothing was written.", "KeyboardInterrupt"),
        (signal.SIGTERM, 143, "Terminated; nothing was written.", "Terminated"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_sigterm_is_like_ctrl_c(stalling_orders, folder, tmp_path, signum, status, message, error):
    process = start_export(folder, tmp_path / "stalled")
    if sys.platform == "linux":
        assert unnamed_bytes_written(process.pid, folder) > 64 * 1024  # midway indeed
    assert folder_is_as_it_was(folder)  # nothing visible while it writes either
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status
    assert stdout == b""
    assert stderr.decode().splitlines() == [f"CommandError: {message}"]
    assert folder_is_as_it_was(folder)
    run = ExportRun.objects.get()
    assert (run.outcome, run.error) == (ExportRun.Outcome.ABORTED, error)
    assert 0 < run.rows_sent < 5011  # what was in the file when it stopped


def test_sigkill_leaves_nothing_and_the_run_is_marked_lost(stalling_orders, folder, tmp_path):
    process = start_export(folder, tmp_path / "stalled")
    process.kill()
    process.communicate(timeout=60)  # reaped: its pid is gone
    assert process.returncode == -signal.SIGKILL
    assert folder_is_as_it_was(folder)
    run = ExportRun.objects.get()
    assert run.outcome == ExportRun.Outcome.RUNNING  # a killed process cannot end its run

    out = io.StringIO()
    call_command("exports_cleanup", "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[0] == "Would mark 1 lost run as failed."
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.RUNNING
    call_command("exports_cleanup", stdout=out)
    assert out.getvalue().splitlines()[-2] == "Marked 1 lost run as failed."
    run.refresh_from_db()
    assert (run.outcome, run.error) == (ExportRun.Outcome.FAILED, slots.LOST_PROCESS)
    assert run.finished_at is not None


def test_a_later_run_marks_a_killed_run_lost_whoever_starts_it(stalling_orders, folder, tmp_path):
    process = start_export(folder, tmp_path / "stalled")
    process.kill()
    process.communicate(timeout=60)
    call_command("export", "orders", "-f", "status=paid", stdout=io.StringIO(), stderr=io.StringIO())
    lost, later = ExportRun.objects.order_by("pk")
    assert (lost.outcome, lost.error) == (ExportRun.Outcome.FAILED, slots.LOST_PROCESS)
    assert later.outcome == ExportRun.Outcome.COMPLETED


def test_a_killed_writer_without_unnamed_files_is_swept_by_the_next_write(folder, monkeypatch):
    # Where O_TMPFILE is missing (macOS) a killed writer leaves its named temporary: the next write into the folder
    # removes it when its process is gone from this host, and nothing that belongs to a live process or another host.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead_pid = int(dead.stdout)
    host = files._HOST
    stale = folder / f".x.csv~{host}~{dead_pid}~0a1b2c3d{files.SUFFIX}"
    live = folder / f".x.csv~{host}~{os.getppid()}~0a1b2c3d{files.SUFFIX}"
    elsewhere = folder / f".x.csv~another-host~{dead_pid}~0a1b2c3d{files.SUFFIX}"
    for path in (stale, live, elsewhere):
        path.write_bytes(b"partial")
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    files.write_atomically(folder / "y.csv", [b"a,b\r\n"])
    assert sorted(os.listdir(folder)) == sorted(["notes.txt", "x.csv", "y.csv", live.name, elsewhere.name])
    assert (folder / "y.csv").read_bytes() == b"a,b\r\n"
