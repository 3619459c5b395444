"""``manage.py export``: to stdout, to a file whole or not at all, and clear errors."""

from __future__ import annotations

import gzip
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exports import Column, Export, Filter
from exports.models import ExportRun
from orders.models import Order
from tests.conftest import body, database_url, read_csv

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


def test_a_choice_by_the_label_the_file_shows(make_orders):
    make_orders(2, status="paid")
    make_orders(1, status="shipped")
    rows = read_csv(export("orders", "-f", "status=Paid"))
    assert [row[3] for row in rows[1:]] == ["Paid", "Paid"]
    assert read_csv(export("orders", "-f", "status__in=paid,Shipped")) == read_csv(export("orders"))


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
    lines = export("--list").splitlines()
    orders = lines.index("orders\tOrders")
    assert lines[orders + 1 : orders + 3] == [
        "  filters: status (pending, paid, shipped, refunded, cancelled), "
        "status__in (pending, paid, shipped, refunded, cancelled), placed_after, placed_before, customer__country, "
        "total_cents__gte, total_cents__lte, reference",
        "  optional columns: customer_email, total (off by default)",
    ]


def test_list_as_json_for_scripts(temporary_export):
    from tests.testapp.models import Sample

    temporary_export(
        Export(
            Sample,
            name="samples",
            label="Some samples",
            columns=["text", Column("kind", optional=True, default=False)],
            filters=["kind", Filter("day__gte", name="since"), "text__icontains"],
            permission=None,
        )
    )
    listed = {item["name"]: item for item in json.loads(export("--list", "--json"))}
    assert listed["samples"] == {
        "name": "samples",
        "label": "Some samples",
        "filters": [
            {
                "name": "kind",
                "lookup": "kind__exact",
                "choices": [{"value": "r", "label": "Red"}, {"value": "b", "label": "Blue"}],
            },
            {"name": "since", "lookup": "day__gte"},
            {"name": "text__icontains", "lookup": "text__icontains"},
        ],
        "columns": [
            {"key": "text", "label": "Text", "optional": False, "default": True},
            {"key": "kind", "label": "Kind", "optional": True, "default": False},
        ],
    }
    assert [column["key"] for column in listed["orders"]["columns"] if column["optional"]] == [
        "customer_email",
        "total",
    ]
    assert "samples\tSome samples" in export("--list").splitlines()


def test_json_without_list_is_a_command_error():
    with pytest.raises(CommandError, match="--json goes with --list."):
        export("orders", "--json")


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
    assert ExportRun.objects.get().outcome == ExportRun.Outcome.ABORTED  # the reader stopped it; it did not fail


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
def test_errors_exit_non_zero_with_one_line_on_stderr():
    result = manage("export", "orders", "--filter", "status=lost", capture_output=True)
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert lines == [
        "CommandError: Filter 'status': Select a valid choice. lost is not one of the available choices. "
        "Valid values: pending, paid, shipped, refunded, cancelled."
    ]
