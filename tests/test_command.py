"""``manage.py export``: to stdout, to a file whole or not at all, and clear errors."""

from __future__ import annotations

import gzip
import io
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exports import Column, Export
from orders.models import Order
from tests.conftest import body, database_url, read_csv
from tests.testapp.exports import ROWS_BEFORE_STALL

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_to_stdout(make_orders):
    make_orders(3, status="paid")
    rows = read_csv(export("orders"))
    assert len(rows) == 4
    assert rows[1][3] == "Paid"


def test_the_same_bytes_as_the_download_url(client, exporter, make_orders):
    make_orders(20)
    client.force_login(exporter)
    assert export("orders", "--filter", "status__in=paid,shipped").encode() == body(
        client.get("/exports/orders.csv", {"status__in": "paid,shipped"})
    )


def test_filters_and_columns(make_orders):
    make_orders(2, status="paid", total_cents=-250)
    make_orders(1, status="shipped")
    rows = read_csv(export("orders", "-f", "status=paid", "--columns", "total"))
    assert len(rows) == 3
    assert rows[0][-1] == "Total" and "Email" not in rows[0]
    assert rows[1][-1] == "-2.50"


def test_to_a_file(tmp_path, make_orders):
    make_orders(5)
    target = tmp_path / "orders.csv"
    assert export("orders", "-o", str(target)) == ""
    assert len(read_csv(target.read_bytes())) == 6
    assert os.listdir(tmp_path) == ["orders.csv"]


def test_to_a_gzip_file(tmp_path, make_orders):
    make_orders(5)
    target = tmp_path / "orders.csv.gz"
    export("orders", "-o", str(target))
    assert len(read_csv(gzip.decompress(target.read_bytes()))) == 6


def test_a_failure_midway_leaves_no_file(tmp_path, make_orders, temporary_export):
    make_orders(50)
    seen = []

    def explode(reference):
        seen.append(reference)
        if len(seen) > 30:
            raise RuntimeError("disk on fire")
        return reference

    temporary_export(Export(Order, name="fragile", columns=[Column("reference", format=explode)], chunk_size=10))
    target = tmp_path / "fragile.csv"
    target_gz = tmp_path / "fragile.csv.gz"
    for path in (target, target_gz):
        seen.clear()
        with pytest.raises(RuntimeError, match="disk on fire"):
            export("fragile", "-o", str(path))
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_kept_until_the_new_one_is_complete(tmp_path, make_orders, temporary_export):
    make_orders(20)
    temporary_export(Export(Order, name="broken", columns=[Column("reference", format=lambda value: 1 / 0)]))
    target = tmp_path / "orders.csv"
    target.write_text("yesterday's export\n")
    with pytest.raises(ZeroDivisionError):
        export("broken", "-o", str(target))
    assert target.read_text() == "yesterday's export\n"
    assert os.listdir(tmp_path) == ["orders.csv"]


def test_verbosity_2_says_what_was_written(tmp_path, make_orders):
    make_orders(3)
    err = io.StringIO()
    target = tmp_path / "orders.csv"
    call_command("export", "orders", "-o", str(target), verbosity=2, stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == f"Wrote 3 rows ({target.stat().st_size:,} bytes).\n"


def test_a_user_without_the_permission_or_no_longer_active_may_not_run_it(django_user_model, exporter):
    django_user_model.objects.create_user("nobody", is_staff=True)
    with pytest.raises(CommandError, match="The user 'nobody' may not run the export 'orders'."):
        export("orders", "--user", "nobody")
    exporter.is_active = False
    exporter.save()
    with pytest.raises(CommandError, match="The user 'exporter' may not run the export 'orders'."):
        export("orders", "--user", "exporter")


def test_list():
    assert "orders\tOrders" in export("--list")


# Real processes: pipes, exit codes and terminals -----------------------------------------------------------------


def manage(*args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "project.settings"}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, timeout=120, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_to_the_standard_output_of_a_shell(make_orders):
    make_orders(3000)
    result = manage("export", "orders", capture_output=True)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == export("orders").encode()
    assert len(read_csv(result.stdout)) == 3001


@pytest.mark.django_db(transaction=True)
def test_piped_into_head_it_stops_quietly(make_orders):
    make_orders(20_000)
    command = f"{sys.executable} manage.py export orders --chunk-size 100 | head -n 3; exit ${{PIPESTATUS[0]}}"
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "project.settings"}
    result = subprocess.run(["bash", "-c", command], env=env, cwd=ROOT, capture_output=True, timeout=120)
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr == b""
    assert result.returncode == 141


@pytest.mark.django_db(transaction=True)
def test_progress_on_a_terminal_and_silence_otherwise(tmp_path, make_orders):
    # Large enough that the COPY is still running after its first chunk: the progress count must not use the
    # connection then (psycopg2 refuses a query while a COPY runs).
    make_orders(20_000)
    leader, follower = pty.openpty()
    result = manage("export", "orders", "--chunk-size", "2000", "-o", str(tmp_path / "a.csv"), stderr=follower)
    os.close(follower)
    progress = os.read(leader, 100_000).decode()
    os.close(leader)
    assert result.returncode == 0
    assert "20,000 / 20,000 rows (100%)" in progress
    assert "rows/s" in progress
    quiet = manage("export", "orders", "-o", str(tmp_path / "b.csv"), capture_output=True)
    assert quiet.returncode == 0 and quiet.stderr == b""
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_leaves_no_file(tmp_path, make_orders):
    make_orders(ROWS_BEFORE_STALL + 500)
    marker, folder = tmp_path / "stalled", tmp_path / "out"
    folder.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "EXPORTS_TESTS_STALL_MARKER": str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "export", "stalls-midway", "--chunk-size", "100", "-o", str(folder / "o.csv")],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():  # the run is under way, some rows written: now interrupt it
        assert process.poll() is None, "the export ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines() == ["CommandError: Interrupted; nothing was written."]
    assert list(folder.iterdir()) == []
