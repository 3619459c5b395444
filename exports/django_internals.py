"""Django's private query-compiler API, used in this one module only.

Reading rows batch by batch with a server-side cursor, without building model instances or ``values_list`` tuples
row by row in Python, needs the compiler below ``QuerySet.iterator()``. This module relies on, in Django 5.2 to 6.1:

* ``SQLCompiler.setup_query()``, then ``.select`` and ``.col_count``;
* ``SQLCompiler.has_composite_fields(fields)``;
* ``SQLCompiler.execute_sql(CURSOR, chunked_fetch=True)``, which returns the cursor (``None`` when the query selects
  nothing), and ``execute_sql(MULTI, chunked_fetch=True, chunk_size=n)`` with ``results_iter(results,
  tuple_expected=True)``;
* ``SQLCompiler.get_converters(fields)`` and ``apply_converters(rows, converters)``;
* ``DatabaseOperations.compose_sql(sql, params)`` on PostgreSQL (the statement with its parameters bound).

:func:`verify` checks each of them; ``tests/test_django_internals.py`` runs it on every supported Django, so a release
that changes one fails the suite instead of writing a wrong file.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator, Sequence
from itertools import islice
from typing import Any

from django.db import connections, models
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.constants import CURSOR, MULTI

Batch = list[Sequence[Any]]

#: Each name, and the parameters it must accept.
_RELIED_ON: dict[str, tuple[str, ...]] = {
    "setup_query": (),
    "has_composite_fields": ("expressions",),
    "execute_sql": ("result_type", "chunked_fetch", "chunk_size"),
    "results_iter": ("results", "tuple_expected"),
    "get_converters": ("expressions",),
    "apply_converters": ("rows", "converters"),
}


def fetch_batches(values: models.QuerySet[Any], *, first: int, size: int) -> Generator[Batch, None, None]:
    """Run ``values`` (a ``values_list`` queryset) now and return its rows: ``first`` rows, then ``size`` at a time.

    The query runs in the caller's thread, connection and transaction; only fetching is left to the generator, which
    may run in another thread (Django's connections belong to the thread that opens them).
    """
    compiler = values.query.get_compiler(using=values.db)
    compiler.setup_query()
    fields = [select[0] for select in compiler.select[: compiler.col_count]]
    if compiler.has_composite_fields(fields):  # Django's own iterator knows how to rebuild composite keys
        results = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=size)
        return in_batches(compiler.results_iter(results, tuple_expected=True), size)
    return _fetch(compiler, compiler.execute_sql(CURSOR, chunked_fetch=True), fields, first, size)


def _fetch(compiler: Any, cursor: Any, fields: list[Any], first: int, size: int) -> Generator[Batch, None, None]:
    if cursor is None:  # the query selects nothing (an empty __in, none())
        return
    converters = compiler.get_converters(fields)
    try:
        count = min(first, size)
        while rows := cursor.fetchmany(count):
            yield list(compiler.apply_converters(rows, converters)) if converters else rows
            count = size
    finally:
        cursor.close()


def in_batches(rows: Any, size: int) -> Generator[Batch, None, None]:
    """Lists of ``size`` rows from an iterator of rows (closed at the end, so its cursor is)."""
    try:
        while batch := list(islice(rows, size)):
            yield batch
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def compose_sql(using: str, sql: str, params: Sequence[Any]) -> str:
    """``sql`` with ``params`` bound, as PostgreSQL's backend would send it (for a ``COPY (...)`` statement, which
    takes no parameters)."""
    ops: Any = connections[using].ops
    return str(ops.compose_sql(sql, params))


def verify() -> list[str]:
    """What this module relies on and the running Django lacks (empty when everything is there)."""
    problems = []
    for name, parameters in _RELIED_ON.items():
        method = getattr(SQLCompiler, name, None)
        if method is None:
            problems.append(f"SQLCompiler.{name} is gone")
            continue
        accepted = inspect.signature(method).parameters
        problems += [f"SQLCompiler.{name} takes no {p!r}" for p in parameters if p not in accepted]
    for name in ("select", "col_count"):
        if name not in inspect.getsource(SQLCompiler.setup_query):
            problems.append(f"SQLCompiler.setup_query no longer sets {name}")
    return problems
