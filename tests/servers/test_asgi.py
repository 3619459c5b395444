"""The download under a real uvicorn process: an async stream, no buffering, and a disconnect stops the query."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from orders.models import Customer
from tests.conftest import database_url, read_csv

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
SYNC_WARNING = "must consume synchronous iterators"


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def uvicorn(tmp_path) -> Iterator[Callable[..., Server]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**environ: str) -> Server:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))  # a free port, inherited by the server
        listener.listen(16)
        log = tmp_path / f"uvicorn-{len(started)}.log"
        env = {
            **os.environ,
            **environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.servers.settings",
            "PYTHONWARNINGS": "default",
        }
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "project.asgi:application", "--fd", str(listener.fileno())],
                pass_fds=[listener.fileno()],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        started.append(process)
        port = listener.getsockname()[1]
        listener.close()
        server = Server(process, port, log)
        deadline = time.monotonic() + 30
        while "Application startup complete" not in server.stderr():
            assert process.poll() is None, server.stderr()
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.05)
        return server

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def session_cookie(client, exporter) -> str:
    client.force_login(exporter)
    return f"sessionid={client.cookies['sessionid'].value}"


def insert_orders(count: int) -> None:
    customer = Customer.objects.create(name='Zoë, "the" Ångström', country="SE")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO orders_order (reference, customer_id, customer_email, total_cents, status, placed_at) "
                "SELECT 'R' || n, %s, 'c' || n || '@example.com', n - 500, 'paid', now() - n * interval '1 second' "
                "FROM generate_series(1, %s) AS n",
                [customer.pk, count],
            )
        else:
            cursor.executemany(
                "INSERT INTO orders_order (reference, customer_id, customer_email, total_cents, status, placed_at) "
                "VALUES (%s, %s, %s, %s, 'paid', '2026-01-01 00:00:00')",
                [(f"R{n}", customer.pk, f"c{n}@example.com", n - 500) for n in range(count)],
            )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("copy", ["1", "0"])
def test_uvicorn_streams_the_whole_export_through_an_async_iterator(uvicorn, session_cookie, copy):
    insert_orders(3000)
    server = uvicorn(EXPORTS_COPY=copy, EXPORTS_BUFFER_SIZE="4096")
    conn = server.connect()
    conn.request("GET", "/exports/orders.csv", headers={"Cookie": session_cookie})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    rows = read_csv(response.read())
    assert len(rows) == 3001
    assert rows[1][4] == 'Zoë, "the" Ångström'
    assert SYNC_WARNING not in server.stderr()


def backends_busy() -> list[tuple[str, str]]:
    """Other sessions on the test database that are running a query or holding a transaction open."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
        )
        return [(state, query) for state, query in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL")
@pytest.mark.parametrize("copy", ["1", "0"])
def test_a_client_that_disconnects_stops_the_query(uvicorn, session_cookie, copy):
    insert_orders(300_000)  # ~30 MB: far more than the socket and pipe buffers hold
    server = uvicorn(EXPORTS_COPY=copy)
    client = socket.create_connection(("127.0.0.1", server.port))
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.sendall(f"GET /exports/orders.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {session_cookie}\r\n\r\n".encode())
    assert b"200 OK" in client.recv(4096)  # streaming has begun; now stop reading
    deadline = time.monotonic() + 20
    while not backends_busy():
        assert time.monotonic() < deadline, "the export's query never showed in pg_stat_activity"
        time.sleep(0.05)
    time.sleep(1.5)  # unthrottled, 300,000 rows take well under that: still busy means the client holds it back
    assert backends_busy(), "the server read the whole export instead of streaming it"
    client.close()
    deadline = time.monotonic() + 20
    while busy := backends_busy():
        assert time.monotonic() < deadline, f"still running after the client left: {busy}"
        time.sleep(0.1)
    assert SYNC_WARNING not in server.stderr()
    assert server.process.poll() is None
