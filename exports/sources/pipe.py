"""Reading a ``COPY ... TO STDOUT`` from the database driver as blocks of bytes, with bounded memory.

With psycopg2, ``copy_expert`` runs in a helper thread and writes into a pipe whose other end this thread reads, so
the rows go from the socket to the pipe in C and the pipe's size bounds the memory. With psycopg 3, ``cursor.copy()``
is read in the caller's own thread. Either way, closing the generator early cancels the statement.

The pipe is tuned where the platform allows: a larger pipe buffer (Linux's ``F_SETPIPE_SZ``) and reads into one
reused buffer (``os.readv``, which allocates nothing per read; Windows lacks it). Elsewhere the same bytes come
through plain ``os.read``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any, Final

#: The pipe between the COPY thread and the reader, and the most read at once: this bounds the memory.
PIPE_SIZE: Final = 256 * 1024
#: The COPY thread's write buffer: the first rows reach the reader once this much is written.
WRITE_BUFFER: Final = 32 * 1024


def copy_blocks(raw: Any, sql: str) -> Generator[bytes, None, None]:
    """The output of the COPY statement ``sql`` on the driver connection ``raw``, in blocks."""
    if type(raw).__module__.startswith("psycopg2"):
        return _psycopg2_blocks(raw, sql)
    return _psycopg3_blocks(raw, sql)


def _psycopg2_blocks(raw: Any, sql: str) -> Generator[bytes, None, None]:
    read_fd, write_fd = os.pipe()
    _grow_pipe(write_fd)
    # copy_expert writes a row at a time: a small buffer keeps that cheap without holding back the first rows.
    writer = open(write_fd, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115 - closed by the thread, which owns it
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(sql, writer)
            writer.flush()
        except BaseException as error:  # noqa: BLE001 - handed to the reading thread
            outcome["error"] = error
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    thread = threading.Thread(target=run, name="exports-copy", daemon=True)
    thread.start()
    try:
        yield from _reader()(read_fd)
    finally:
        if thread.is_alive():
            # Stopped early: cancel the COPY and drain the pipe, so the thread finishes and the connection is usable.
            raw.cancel()
            while os.read(read_fd, PIPE_SIZE):
                pass
        thread.join()
        os.close(read_fd)
    if "error" in outcome:
        raise outcome["error"]


def _grow_pipe(fd: int) -> None:
    """Give the pipe :data:`PIPE_SIZE` bytes of buffer where the platform can (Linux); elsewhere keep its own."""
    if sys.platform != "win32":  # Windows has no fcntl
        import fcntl

        set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
        if set_size is not None:
            with contextlib.suppress(OSError):  # beyond /proc/sys/fs/pipe-max-size for an unprivileged user
                fcntl.fcntl(fd, set_size, PIPE_SIZE)


def _reader() -> Callable[[int], Generator[bytes, None, None]]:
    """How to read the pipe: into one reused buffer where ``os.readv`` exists, else with ``os.read``.

    ``os.read`` allocates a block of the largest size per call and shrinks it to what came; where blocks are freed
    in another thread than the one that allocated them (an ASGI server), that churn fragments the heap.
    """
    readv = None if sys.platform == "win32" else getattr(os, "readv", None)
    if readv is None:
        return _read_blocks

    def read_reused(fd: int) -> Generator[bytes, None, None]:
        buffer = bytearray(PIPE_SIZE)
        view = memoryview(buffer)
        while size := readv(fd, [buffer]):
            yield bytes(view[:size])

    return read_reused


def _read_blocks(fd: int) -> Generator[bytes, None, None]:
    while block := os.read(fd, PIPE_SIZE):
        yield block


def _psycopg3_blocks(raw: Any, sql: str) -> Generator[bytes, None, None]:
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        while block := copy.read():
            yield bytes(block)
