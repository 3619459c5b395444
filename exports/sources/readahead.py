"""Reading the next batches in a helper thread while the caller encodes the current one.

A server-side cursor makes PostgreSQL compute the rows of each ``FETCH`` on demand, and psycopg2 waits for them with the
GIL released: fetched in a helper thread, the database's work and the Python encoding overlap instead of taking turns
(psycopg2 holds the GIL while it builds the rows, so what overlaps is the database's share only).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import Final, TypeVar

T = TypeVar("T")

#: Batches fetched ahead: enough to keep the database busy, few enough to keep memory flat.
DEPTH: Final = 2
_POLL = 0.05


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(batches: Generator[T, None, None], depth: int = DEPTH) -> Generator[T, None, None]:
    """Yield what ``batches`` yields, fetching up to ``depth`` batches ahead in a helper thread.

    ``batches`` runs and is closed in the helper thread (its cursor is closed there), always before this generator
    returns or is closed, so a caller's transaction is still open when it does. An exception in ``batches`` is raised
    here.
    """
    ready: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: T | _End) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL)
            except queue.Full:
                continue
            return True
        return False

    def fetch() -> None:
        end = _End()
        try:
            for batch in batches:
                if not hand_over(batch):
                    break
        except BaseException as error:  # noqa: BLE001 - raised in the reading thread
            end = _End(error)
        finally:
            try:
                batches.close()
            except BaseException as error:  # noqa: BLE001
                end = _End(end.error or error)
            hand_over(end)

    thread = threading.Thread(target=fetch, name="exports-read-ahead", daemon=True)
    thread.start()
    try:
        while not isinstance(item := ready.get(), _End):
            yield item
        if item.error is not None:
            raise item.error
    finally:
        stop.set()
        thread.join()
