"""Clients that go away mid-stream, 50 times per server: nothing is left behind in PostgreSQL or in the slots."""

from __future__ import annotations

import pytest

from exports.models import ExportRun
from tests.conftest import other_sessions
from tests.servers.conftest import (
    NEEDS_POSTGRES,
    SERVER_TESTS,
    fill_orders,
    read_all,
    read_some_and_reset,
    request_bytes,
    split_response,
    wait_until,
)

pytestmark = [*SERVER_TESTS, NEEDS_POSTGRES]

DISCONNECTS = 50
URL = "/exports/orders.csv?columns=customer_email"


@pytest.mark.parametrize("server_name", ["gunicorn", "uvicorn"])
def test_clients_that_disconnect_leave_no_backend_cursor_or_slot(start_server, session_cookie, server_name):
    fill_orders(60_000)  # about 5 MB: far more than the socket buffers hold, so every client leaves mid-stream
    server = start_server(server_name)
    request = request_bytes(URL, session_cookie)
    for attempt in range(DISCONNECTS):
        status, headers, body = split_response(read_some_and_reset(server.port, request, kib=64))
        assert status == "HTTP/1.1 200 OK", (attempt, status, server.output()[-2000:])
        assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
        assert body  # some rows arrived before the client left
        # The server notices, closes the stream and finishes the run; only then may the user start another.
        assert wait_until(lambda: not ExportRun.objects.filter(outcome="running").exists()), server.output()[-2000:]
        assert not [s for s in other_sessions() if s[0].startswith("idle in transaction")]

    runs = list(ExportRun.objects.values_list("outcome", flat=True))
    assert runs == ["aborted"] * DISCONNECTS
    assert all(0 < rows < 60_000 for rows in ExportRun.objects.values_list("rows_sent", flat=True))
    # Every connection the server opened was returned (closed at the end of its request): none idle in a
    # transaction, none holding a cursor (a cursor outside WITH HOLD lives only inside a transaction).
    assert wait_until(lambda: other_sessions() == []), other_sessions()
    # The server still serves whole exports, and the user's slot is free.
    status, headers, body = split_response(read_all(server.port, request_bytes("/exports/orders.csv", session_cookie)))
    assert status == "HTTP/1.1 200 OK"
    assert body.endswith(b"0\r\n\r\n")
    assert ExportRun.objects.filter(outcome="completed").count() == 1
    assert "Traceback" not in server.output()
