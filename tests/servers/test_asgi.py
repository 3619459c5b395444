"""The download under a real uvicorn process: an async stream, no buffering, and a disconnect stops the query."""

from __future__ import annotations

import socket

import pytest

from exports.models import ExportRun
from tests.conftest import read_csv
from tests.servers.conftest import (
    CUSTOMER_NAME,
    IO_TIMEOUT,
    NEEDS_POSTGRES,
    SERVER_TESTS,
    busy_sessions,
    dechunk,
    fill_orders,
    read_all,
    request_bytes,
    split_response,
    wait_until,
)

pytestmark = SERVER_TESTS

URL = "/exports/orders.csv"
#: What Django warns when an ASGI server is handed a synchronous iterator (which it then reads whole).
SYNC_WARNING = "must consume synchronous iterators"


@pytest.mark.parametrize("copy", ["1", "0"])
def test_uvicorn_streams_the_whole_export_through_an_async_iterator(start_server, session_cookie, copy):
    fill_orders(3000)
    server = start_server("uvicorn", EXPORTS_COPY=copy, EXPORTS_BUFFER_SIZE="4096")
    status, headers, body = split_response(read_all(server.port, request_bytes(URL, session_cookie)))
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == "chunked"
    data, complete = dechunk(body)
    assert complete
    rows = read_csv(data)
    assert len(rows) == 3001
    assert rows[1][4] == CUSTOMER_NAME
    assert SYNC_WARNING not in server.output()


@NEEDS_POSTGRES
@pytest.mark.parametrize("copy", ["1", "0"])
def test_a_client_that_disconnects_stops_the_query(start_server, session_cookie, copy):
    fill_orders(300_000)  # ~30 MB: far more than the socket and pipe buffers hold
    server = start_server("uvicorn", EXPORTS_COPY=copy)
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
        client.settimeout(IO_TIMEOUT)
        client.connect(("127.0.0.1", server.port))
        client.sendall(request_bytes(URL, session_cookie))
        assert b"200 OK" in client.recv(4096)  # streaming has begun; now stop reading
        assert wait_until(lambda: busy_sessions() != []), "the export's query never showed in pg_stat_activity"
    # The client has gone (its unread data makes the close a reset). A server that had read the whole export before
    # sending it would have completed the run; one that streams is held back by the client and stops with it.
    assert wait_until(lambda: not ExportRun.objects.filter(outcome="running").exists()), server.output()[-2000:]
    run = ExportRun.objects.get()
    assert run.outcome == ExportRun.Outcome.ABORTED
    assert 0 < run.rows_sent < 300_000
    assert wait_until(lambda: busy_sessions() == []), f"still running after the client left: {busy_sessions()}"
    assert SYNC_WARNING not in server.output()
    assert server.process.poll() is None
