"""Real gunicorn and uvicorn processes serving the test database, and a raw-socket HTTP client.

The servers run the suite's settings against the test database (PostgreSQL, or SQLite's file), which the tests fill
under ``django_db(transaction=True)`` so that the servers see committed rows.
"""

from __future__ import annotations

import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from orders.models import Customer
from tests.conftest import database_url, other_sessions

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent

#: How long a server may take to start, and a response to arrive, before the test fails.
START_TIMEOUT = 60.0
IO_TIMEOUT = 30.0

SERVERS = {
    # Two sync workers: two processes, so the concurrency limit is shown to hold across them.
    "gunicorn": lambda: [
        str(BIN / "gunicorn"),
        "project.wsgi:application",
        "--bind=127.0.0.1:0",
        "--workers=2",
        "--worker-class=sync",
        "--timeout=120",
        "--graceful-timeout=5",
        "--log-level=info",
    ],
    "uvicorn": lambda: [
        str(BIN / "uvicorn"),
        "project.asgi:application",
        "--host=127.0.0.1",
        "--port=0",
        "--lifespan=off",
        "--log-level=info",
    ],
}
_LISTENING = re.compile(rb"(?:Listening at: |running on )http://127\.0\.0\.1:(\d+)")


#: Every test module here: real processes against the test database, committed rows.
SERVER_TESTS = [pytest.mark.servers, pytest.mark.django_db(transaction=True)]
#: Tests that watch the servers' sessions in PostgreSQL (or a real server's COPY path).
NEEDS_POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server by name, with settings from ``environ`` (see ``settings.py``); every server started is stopped
    (SIGTERM, then SIGKILL) when the test ends."""
    started: list[Server] = []

    def start(name: str, **environ: str) -> Server:
        log = tmp_path / f"{name}-{len(started)}.log"
        env = {
            **os.environ,
            **environ,
            "DATABASE_URL": database_url(),
            "DATABASE_TEST_NAME": "",
            "DJANGO_SETTINGS_MODULE": "tests.servers.settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            # Django's warnings (a stream consumed whole under ASGI) reach the log whatever the caller's filters.
            "PYTHONWARNINGS": "default",
        }
        with log.open("wb") as output:
            process = subprocess.Popen(SERVERS[name](), cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        server = Server(name, 0, process, log)
        started.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = _LISTENING.search(log.read_bytes())
            if found:
                server.port = int(found.group(1))
                if name != "gunicorn" or log.read_bytes().count(b"Booting worker") >= 2:
                    return server
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{name} did not start:\n{server.output()}")

    yield start
    for server in started:
        server.process.terminate()
    for server in started:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


@pytest.fixture
def session_cookie(client, django_user_model) -> str:
    """The session of a staff user with the export permission, committed where the servers can read it."""
    user = django_user_model.objects.create_user("exporter", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_order"))
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


#: The customer of every order ``fill_orders`` makes: a comma, quotes and non-ASCII letters, so the cell is quoted.
CUSTOMER_NAME = 'Zoë, "the" Ångström'


def fill_orders(count: int, *, failing_at: int | None = None) -> None:
    """``count`` orders in one statement (faster than the ORM for tens of thousands), the one numbered ``failing_at``
    with the reference at which ``fails-midway`` breaks."""
    customer = Customer.objects.create(name=CUSTOMER_NAME, country="SE").pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO orders_order (reference, customer_id, customer_email, total_cents, status, placed_at) "
                "SELECT CASE WHEN n = %s THEN 'BOOM' ELSE 'R-' || n END, %s, 'person' || n || '@example.com', "
                "n * 7 - 5000, 'paid', now() - n * interval '1 minute' FROM generate_series(1, %s) n",
                [failing_at or 0, customer, count],
            )
        else:
            cursor.executemany(
                "INSERT INTO orders_order (reference, customer_id, customer_email, total_cents, status, placed_at) "
                "VALUES (%s, %s, %s, %s, 'paid', '2026-01-01 00:00:00')",
                [
                    ("BOOM" if n == failing_at else f"R-{n}", customer, f"person{n}@example.com", n * 7 - 5000)
                    for n in range(1, count + 1)
                ],
            )


def request_bytes(path: str, cookie: str, *, extra: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\n{extra}Connection: close\r\n\r\n"
    ).encode()


def read_some_and_reset(port: int, request: bytes, kib: int) -> bytes:
    """Send ``request``, read about ``kib`` KiB, then drop the connection with a reset (as a killed client does)."""
    received = bytearray()
    with socket.socket() as sock:
        # A fixed, small window (set before connecting, which also stops the kernel from growing it): what the
        # server can push ahead into the socket buffers stays far below an export's size.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(IO_TIMEOUT)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        while len(received) < kib * 1024:
            data = sock.recv(65536)
            if not data:
                break
            received += data
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return bytes(received)


def read_all(port: int, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes the connection (bounded by IO_TIMEOUT of silence)."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(request)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        while selector.select(IO_TIMEOUT):
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        selector.close()
    return bytes(received)


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, body


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body, and whether it ended properly (with the zero-length last chunk)."""
    data = bytearray()
    rest = body
    while True:
        size_line, found, rest = rest.partition(b"\r\n")
        if not found:
            return bytes(data), False
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(data), rest.startswith(b"\r\n")
        if len(rest) < size + 2:
            return bytes(data + rest[:size]), False
        data += rest[:size]
        rest = rest[size + 2 :]


def busy_sessions() -> list[tuple[str, str]]:
    """The other sessions on the test database that run a query or hold a transaction open (a server's export)."""
    return [(state, query) for state, query in other_sessions() if state in ("active", "idle in transaction")]


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
