"""SIGTERM taken as Ctrl-C while a command runs: the same clean ending, whichever way it is asked to stop."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken as Ctrl-C (the audit record of the run it stops says ``Terminated``)."""


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated`: Ctrl-C's clean ending, not the default sudden death.

    Only the first SIGTERM raises (a second must not interrupt the clean-up of the first); the handler that was there
    before is back after the block. A signal handler can only be set from the main thread: elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
