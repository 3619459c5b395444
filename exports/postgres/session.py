"""The PostgreSQL session an export's query runs in: its time zone, no JIT, and for COPY, parallel workers.

Everything is set with ``set_config(..., true)`` (``SET LOCAL``) in one round trip, inside a savepoint that is
rolled back at the end: a rollback undoes ``SET LOCAL``, which a released savepoint would leave in force for the rest
of the caller's transaction.
"""

from __future__ import annotations

import contextlib
import datetime
import zoneinfo
from collections.abc import Iterator
from typing import Final

from django.db import connections, transaction

#: The planner's cost of passing a row from a parallel worker, for a COPY that may use workers. PostgreSQL's default
#: (0.1) never plans a worker for a whole-table export; at 0.01 it plans them for large results only, so a filtered
#: export of a few thousand rows stays serial.
PARALLEL_TUPLE_COST: Final = 0.01


class NoZoneName(Exception):
    """The time zone has no IANA name, so PostgreSQL cannot be set to it."""


def zone_name(tz: datetime.tzinfo | None) -> str | None:
    """The name PostgreSQL knows ``tz`` by (``None`` for naive datetimes); raises :class:`NoZoneName`."""
    if tz is None:
        return None
    if tz is datetime.UTC:
        return "UTC"
    if isinstance(tz, zoneinfo.ZoneInfo) and tz.key:
        return tz.key
    raise NoZoneName(f"the time zone {tz!r} has no IANA name")


def session_settings(tz: datetime.tzinfo | None, *, parallel_workers: int | None = None) -> dict[str, str]:
    """The settings an export's query runs with:

    * ``TimeZone``: the export's, for ``to_char`` (``None``: left as it is);
    * ``jit = off``: PostgreSQL judges an export's query costly enough to compile it first, which delays the first
      row and does not make the whole export faster;
    * for a COPY, ``parallel_workers`` (``None``: the server's settings): the workers scan and format rows, and the
      backend merges them in order and sends them; with two workers or more, that is all it does. A cursor (the ORM
      path) never runs in parallel.
    """
    local = {"jit": "off"}
    zone = zone_name(tz)
    if zone is not None:
        local["TimeZone"] = zone
    if parallel_workers is not None:
        local["max_parallel_workers_per_gather"] = str(parallel_workers)
        if parallel_workers:
            local["parallel_tuple_cost"] = str(PARALLEL_TUPLE_COST)
        if parallel_workers >= 2:
            local["parallel_leader_participation"] = "off"
    return local


@contextlib.contextmanager
def export_session(using: str, tz: datetime.tzinfo | None, *, parallel_workers: int | None = None) -> Iterator[None]:
    """On PostgreSQL, a savepoint with :func:`session_settings` in force, rolled back at the end; elsewhere nothing."""
    if connections[using].vendor != "postgresql":
        yield
        return
    local = session_settings(tz, parallel_workers=parallel_workers)
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(local)),
                [item for pair in local.items() for item in pair],
            )
        try:
            yield
        finally:
            transaction.set_rollback(True, using=using)


@contextlib.contextmanager
def read_snapshot(using: str) -> Iterator[None]:
    """On PostgreSQL, a ``REPEATABLE READ, READ ONLY`` transaction: every query of a run (a count for progress, the
    rows) sees the database as of its first query, whatever other connections write meanwhile.

    Inside a caller's transaction the caller's isolation applies. Elsewhere nothing: SQLite reads in one statement.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
