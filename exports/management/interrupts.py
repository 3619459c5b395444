"""Ctrl-C and SIGTERM while a command writes an export: the same clean ending, whichever way it is asked to stop."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Generator, Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken as Ctrl-C (the audit record of the run it stops says ``Terminated``)."""


class Stopping:
    """Whether a signal may still stop the command (``armed``), and which one did."""

    def __init__(self) -> None:
        self.armed = True
        self.signal: int | None = None

    def disarm_at_end(self, chunks: Generator[bytes, None, None]) -> Generator[bytes, None, None]:
        """``chunks``, after whose last one a signal no longer stops the command.

        Every row is out by then: what remains (the file's flush and rename, the run's record) is quick, and cut short
        it would leave a complete file recorded as aborted, or reported as not written.
        """
        yield from chunks
        self.armed = False


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Stopping]:
    """While the block runs, SIGINT raises ``KeyboardInterrupt`` and SIGTERM :class:`Terminated`, both once.

    Only the first signal raises: a second must not interrupt the clean-up of the first. A signal the process ignores
    (``nohup``, a shell's background job) stays ignored, and the handlers that were there before are back after the
    block. A handler can only be set from the main thread: elsewhere the signals keep theirs.
    """
    stopping = Stopping()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping.armed and stopping.signal is None:
            stopping.signal = signum
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, stop)
    try:
        yield stopping
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
