"""Real servers: a failure mid-stream is an incomplete transfer, never a file that looks complete; the per-user
limit holds across server processes and its slot comes back; a database that dies mid-stream is a failed run."""

from __future__ import annotations

import socket
import zlib

import pytest
from django import db
from django.db import connection

from exports.models import ExportRun
from tests.conftest import other_sessions
from tests.servers.conftest import (
    IO_TIMEOUT,
    NEEDS_POSTGRES,
    SERVER_TESTS,
    dechunk,
    fill_orders,
    read_all,
    request_bytes,
    split_response,
    wait_until,
)

pytestmark = [*SERVER_TESTS, NEEDS_POSTGRES]

FAILURES = 5


def database_error_names() -> set[str]:
    """The names of every database error class, Django's and the driver's."""
    names: set[str] = set()
    pending: list[type[BaseException]] = [db.Error, connection.Database.Error]  # type: ignore[attr-defined]
    while pending:
        error = pending.pop()
        names.add(error.__name__)
        pending.extend(error.__subclasses__())
    return names


def gunzip_truncated(data: bytes) -> bytes:
    """What a cut-off gzip body holds: Django compresses an async stream as one gzip member per chunk, the last of
    which has no end (and no checksum) here."""
    text = b""
    while data:
        member = zlib.decompressobj(wbits=31)
        text += member.decompress(data)
        data = member.unused_data
    return text


@pytest.mark.parametrize("server_name", ["gunicorn", "uvicorn"])
@pytest.mark.parametrize("gzip", [False, True], ids=["identity", "gzip"])
def test_a_failure_midway_is_an_incomplete_transfer(start_server, session_cookie, server_name, gzip):
    fill_orders(30_000, failing_at=20_000)
    server = start_server(server_name)
    extra = "Accept-Encoding: gzip\r\n" if gzip else ""
    request = request_bytes("/exports/fails-midway.csv", session_cookie, extra=extra)
    for _ in range(FAILURES):
        status, headers, body = split_response(read_all(server.port, request))
        assert status == "HTTP/1.1 200 OK"
        assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
        assert headers.get("content-encoding") == ("gzip" if gzip else None)
        data, complete = dechunk(body)
        assert not complete  # no last chunk: any HTTP client reports an incomplete download
        if gzip:
            data = gunzip_truncated(data)
        assert len(data) > 100_000  # it failed after sending rows, not before
        assert wait_until(lambda: not ExportRun.objects.filter(outcome="running").exists())
    runs = list(ExportRun.objects.values_list("outcome", "error", "rows_sent"))
    assert [(outcome, error) for outcome, error, _ in runs] == [("failed", "RuntimeError")] * FAILURES
    assert all(0 < rows < 20_000 for _, _, rows in runs)
    log = server.output()
    assert log.count("Export 'fails-midway' failed after ") == FAILURES
    assert "(user exporter, url)" in log
    assert wait_until(lambda: other_sessions() == []), other_sessions()


def test_one_export_per_user_across_two_gunicorn_processes(start_server, session_cookie):
    # About 15 MB, and a small window below: far more than the socket buffers hold (4 MB at most on the server's
    # side), so the first export cannot finish while its client does not read.
    fill_orders(150_000)
    server = start_server("gunicorn")  # two worker processes
    request = request_bytes("/exports/orders.csv", session_cookie)
    with socket.socket() as first:
        first.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # before connecting: a small window
        first.settimeout(IO_TIMEOUT)
        first.connect(("127.0.0.1", server.port))
        first.sendall(request)
        assert first.recv(65536).startswith(b"HTTP/1.1 200 OK")
        # The first worker is busy streaming (a sync worker serves one request), so the other process answers.
        status, headers, body = split_response(read_all(server.port, request))
        assert status == "HTTP/1.1 429 Too Many Requests"
        assert headers["retry-after"] == "30"
        assert b"You are already running 1 export" in body
        assert ExportRun.objects.filter(outcome="running").count() == 1
    # The first client went away: its slot comes back, and the next export runs to the end.
    assert wait_until(lambda: not ExportRun.objects.filter(outcome="running").exists())
    status, _, body = split_response(read_all(server.port, request))
    assert status == "HTTP/1.1 200 OK"
    data, complete = dechunk(body)
    assert complete and data.count(b"\n") == 150_001
    assert sorted(ExportRun.objects.values_list("outcome", flat=True)) == ["aborted", "completed"]


@pytest.mark.parametrize("server_name", ["gunicorn", "uvicorn"])
def test_a_database_connection_killed_midway_is_a_failed_run(start_server, session_cookie, server_name):
    fill_orders(150_000)  # about 15 MB: more than the server's socket buffer (4 MB at most here) can take
    server = start_server(server_name)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # before connecting: a small window
        sock.settimeout(IO_TIMEOUT)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(request_bytes("/exports/orders.csv", session_cookie))
        received = bytearray(sock.recv(65536))
        # The client stops reading, so the server soon blocks mid-stream with its transaction open: kill its backend
        # (by pid, whatever its state at that instant: idle in transaction, or active on a FETCH).
        # (A COPY may also run PostgreSQL's parallel workers: only the server's own connection is killed.)
        streaming = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL AND backend_type = 'client backend'"
        )
        with connection.cursor() as cursor:
            assert wait_until(lambda: cursor.execute(streaming) or cursor.fetchall() != [])
            cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({streaming}) AS streaming")
            assert cursor.fetchall() == [(True,)]
        while data := sock.recv(1 << 20):
            received += data
    _, _, body = split_response(bytes(received))
    data, complete = dechunk(body)
    assert not complete
    assert wait_until(lambda: ExportRun.objects.filter(outcome="failed").exists()), server.output()[-3000:]
    run = ExportRun.objects.get()
    # Which database error it is depends on where the kill lands (between fetches, or mid-COPY in the driver).
    assert run.error in database_error_names()
    assert "Export 'orders' failed after" in server.output()
    assert wait_until(lambda: other_sessions() == []), other_sessions()
