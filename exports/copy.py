"""The PostgreSQL fast path: the export's final queryset compiled into ``COPY (...) TO STDOUT`` and streamed as bytes.

PostgreSQL formats every cell itself, in SQL that reproduces the Python encoder byte for byte (see
:mod:`exports.encoding`): choice labels through ``CASE``, formula escaping through ``CASE``/``left()``, empty text as
``NULLIF`` (COPY quotes an empty string, Python writes nothing), datetimes through ``to_char`` in the export's time
zone, set for the statement (``set_config(..., true)``, a ``SET LOCAL``) inside the read transaction.

An export takes this path only when the result is certain to be identical; :func:`copy_plan` says why not otherwise,
and the rows are then read through the ORM. It falls back when:

* the database is not PostgreSQL, or the export (``Export(copy=False)``) or ``EXPORTS_COPY = False`` turns it off;
* the export has a single column (COPY and Python's csv write a lone empty cell differently);
* a column has a ``format`` hook, reads a model attribute, or names an annotation;
* a column's field is of a type without an exact SQL rendering here (floats, JSON, times, durations, binary, IP
  addresses, decimals with more than 6 places, custom fields with ``from_db_value``), or has choices whose values
  are not of the field's type;
* the queryset uses ``distinct()``, ``extra()`` or ``union()``, or the time zone has no name PostgreSQL knows.

Streaming: with psycopg2, ``copy_expert`` runs in a helper thread and writes through a buffered pipe, so PostgreSQL's
rows never pass through Python one by one and the pipe's size bounds the memory; the response reads the other end.
With psycopg 3, ``cursor.copy()`` is read in the request's own thread. Closing the stream early cancels the query.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import threading
import zoneinfo
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models import F, Func, TextField

from exports.columns import ResolvedColumn
from exports.encoding import FORMULA_TRIGGERS, escape_formula

#: The pipe between the COPY thread and the response, and the blocks read from it: this bounds the memory (1 MiB
#: measured +16 MB of peak RSS, 256 KiB +4.5 MB, at the same speed).
PIPE_SIZE = 256 * 1024
#: The COPY thread's write buffer: the first rows reach the response once this much is written (about 300 rows).
WRITE_BUFFER = 32 * 1024

_TEXT_FIELDS = (models.CharField, models.TextField)
_INTEGER_FIELDS = (models.IntegerField, models.AutoField)
#: The code points formula escaping prefixes (``encoding.FORMULA_TRIGGERS``; PostgreSQL text cannot hold NUL).
#: ``ascii()`` of the first character is an integer compare, far cheaper than comparing ``left(x, 1)`` as text.
_TRIGGERS_SQL = "(" + ", ".join(str(ord(c)) for c in sorted(FORMULA_TRIGGERS - {"\x00"})) + ")"


@dataclass(frozen=True)
class CopyPlan:
    """A ``COPY`` statement for an export, and the time zone to run it in (``None``: naive datetimes)."""

    sql: str
    tz: datetime.tzinfo | None
    using: str


class NotCopyable(Exception):
    """Why an export cannot take the COPY path (the message says which rule applies)."""


def copy_plan(
    queryset: models.QuerySet[Any],
    columns: Sequence[ResolvedColumn],
    *,
    escape: bool,
    tz: datetime.tzinfo | None,
) -> CopyPlan:
    """The COPY statement that writes ``columns`` of ``queryset``; raises :class:`NotCopyable` with the reason."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raise NotCopyable(f"the database is {connection.vendor}, not PostgreSQL")
    if len(columns) < 2:
        raise NotCopyable("a single-column export (COPY writes a lone empty cell differently)")
    query = queryset.query
    if query.combinator or query.distinct or query.extra or query.extra_select:
        raise NotCopyable("the queryset uses union(), distinct() or extra()")
    _zone_name(tz)  # a zone PostgreSQL cannot name is no COPY
    cells = {f"_export_{index}": sql_cell(column, escape=escape, tz=tz) for index, column in enumerate(columns)}
    select = queryset.values(**cells)
    try:
        sql, params = select.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        raise NotCopyable("the queryset selects nothing (none())") from None
    statement = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]  # PostgreSQL's ops
    return CopyPlan(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", tz, queryset.db)


def _zone_name(tz: datetime.tzinfo | None) -> str | None:
    if tz is None:
        return None
    if tz is datetime.UTC:
        return "UTC"
    if isinstance(tz, zoneinfo.ZoneInfo) and tz.key:
        return tz.key
    raise NotCopyable(f"the time zone {tz!r} has no IANA name")


class _Cell(Func):
    """A column's value formatted by PostgreSQL: ``template`` with ``{x}`` standing for the column."""

    output_field = TextField()

    def __init__(self, path: str, template: str, params: Sequence[Any] = ()) -> None:
        super().__init__(F(path))
        self.cell_template = template
        self.cell_params = list(params)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column, column_params = compiler.compile(self.source_expressions[0])
        if column_params:  # pragma: no cover - a plain column compiles without parameters
            raise NotCopyable("a column compiles with parameters")
        return self.cell_template.replace("{x}", column), list(self.cell_params)


def sql_cells(
    queryset: models.QuerySet[Any], columns: Sequence[ResolvedColumn], *, escape: bool, tz: datetime.tzinfo | None
) -> dict[int, _Cell]:
    """The columns PostgreSQL can write exactly (position -> SQL expression); the ORM source selects these instead of
    the raw values, so those cells arrive as the text to write. Empty off PostgreSQL or in a zone it cannot name."""
    if connections[queryset.db].vendor != "postgresql":
        return {}
    try:
        _zone_name(tz)
    except NotCopyable:
        return {}
    cells = {}
    for index, column in enumerate(columns):
        with contextlib.suppress(NotCopyable):
            cells[index] = sql_cell(column, escape=escape, tz=tz)
    return cells


#: The planner's cost of passing a row from a parallel worker, for a COPY that may use workers. PostgreSQL's default
#: (0.1) kept every whole-table export in one backend; with 0.01 it plans a worker for large results only, and a
#: filtered export of a few thousand rows stays serial.
PARALLEL_TUPLE_COST = 0.01


def session_settings(tz: datetime.tzinfo | None, *, parallel_workers: int | None = None) -> dict[str, str]:
    """The PostgreSQL settings an export's query runs with (see :func:`export_session`)."""
    local = {"jit": "off"}
    zone = _zone_name(tz)
    if zone is not None:
        local["TimeZone"] = zone
    if parallel_workers is not None:
        local["max_parallel_workers_per_gather"] = str(parallel_workers)
        if parallel_workers:
            local["parallel_tuple_cost"] = str(PARALLEL_TUPLE_COST)
        if parallel_workers >= 2:
            # The backend that sends every row only merges: with 2 workers and the leader free, a million orders
            # came through gunicorn in 0.95 s, against 1.06 s with 1 worker and the leader scanning too.
            local["parallel_leader_participation"] = "off"
    return local


@contextlib.contextmanager
def export_session(using: str, tz: datetime.tzinfo | None, *, parallel_workers: int | None = None) -> Iterator[None]:
    """On PostgreSQL, a savepoint with the session set for an export, rolled back at the end (a rollback undoes
    ``SET LOCAL``, which a released savepoint would leave in force for the rest of the transaction):

    * the time zone ``tz``, for ``to_char`` (``None``: left as it is);
    * no JIT: an export's query costs enough for PostgreSQL to compile it first, which delayed the first row by
      10-45 ms here and did not make the whole export measurably faster;
    * for a COPY, ``parallel_workers`` (``None``: the server's settings): the workers scan and format rows, and the
      backend merges them in order and sends them (with two workers or more, that is all it does). A cursor (the ORM
      path) never runs in parallel.
    """
    if connections[using].vendor != "postgresql":
        yield
        return
    local = session_settings(tz, parallel_workers=parallel_workers)
    with transaction.atomic(using=using):
        # set_config(..., true) is SET LOCAL, and takes parameters: one round trip for all of them.
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(local)),
                [item for pair in local.items() for item in pair],
            )
        try:
            yield
        finally:
            transaction.set_rollback(True, using=using)


def sql_cell(column: ResolvedColumn, *, escape: bool, tz: datetime.tzinfo | None) -> _Cell:
    """SQL that writes ``column``'s cell as the Python encoder does; raises :class:`NotCopyable` when none can."""
    if column.column.format is not None:
        raise NotCopyable(f"column {column.key!r} has a format hook")
    if column.kind != "field" or column.field is None:
        raise NotCopyable(f"column {column.key!r} is an {column.kind}, not a field")
    field = column.field
    if column.column.choice_labels and field.choices:
        return _choices_cell(column, field, escape=escape, tz=tz)
    template = _field_template(field, column.key, escape=escape, tz=tz)
    return _Cell(column.path, template)


def _choices_cell(
    column: ResolvedColumn, field: models.Field[Any, Any], *, escape: bool, tz: datetime.tzinfo | None
) -> _Cell:
    if field.is_relation:
        raise NotCopyable(f"column {column.key!r} is a foreign key with choices")
    value_type = str if isinstance(field, _TEXT_FIELDS) else int if isinstance(field, _INTEGER_FIELDS) else None
    if value_type is None:
        raise NotCopyable(f"column {column.key!r}: choices on a {type(field).__name__}")
    labels = {value: str(label) for value, label in field.flatchoices}
    whens: list[str] = []
    params: list[Any] = []
    null_label: list[Any] = []
    for value, label in labels.items():
        label_cell = (escape_formula(label) if escape else label) or None
        if value is None:
            null_label.append(label_cell)
        elif type(value) is not value_type:
            raise NotCopyable(f"column {column.key!r}: the choice {value!r} is not a {value_type.__name__}")
        else:
            whens.append("WHEN %s THEN %s")
            params.extend([value, label_cell])
    otherwise = _field_template(field, column.key, escape=escape, tz=tz)
    # The simple CASE form evaluates the column once, where WHEN x = ... evaluates it per branch.
    template = f"CASE {{x}} {' '.join(whens)} ELSE {otherwise} END" if whens else otherwise
    if null_label:
        template = f"CASE WHEN {{x}} IS NULL THEN %s ELSE {template} END"
        params = null_label + params
    return _Cell(column.path, template, params)


def _field_template(field: models.Field[Any, Any], key: str, *, escape: bool, tz: datetime.tzinfo | None) -> str:
    """SQL writing a value of ``field`` ({x}) as the Python encoder does."""
    if field.is_relation:
        target = getattr(field, "target_field", None)
        if target is None:  # pragma: no cover - a concrete foreign key always has a target
            raise NotCopyable(f"column {key!r} has no target field")
        return _field_template(target, key, escape=escape, tz=tz)
    if hasattr(field, "from_db_value"):
        raise NotCopyable(f"column {key!r}: {type(field).__name__} converts its values in Python")
    if isinstance(field, models.BooleanField):
        return "CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END"
    if isinstance(field, models.DateTimeField):
        return _datetime_template(tz)
    if isinstance(field, models.DateField):
        return "to_char({x}, 'YYYY-MM-DD')"
    if isinstance(field, _INTEGER_FIELDS):
        return "{x}"
    if isinstance(field, models.DecimalField):
        # str(Decimal) switches to exponents below 1E-6 (and for 0 with more than 6 places); numeric never does.
        if field.decimal_places is None or field.decimal_places > 6:
            raise NotCopyable(f"column {key!r}: a decimal with more than 6 places")
        return "{x}"
    if isinstance(field, models.UUIDField):
        return "{x}"
    if isinstance(field, _TEXT_FIELDS) and not isinstance(field, models.GenericIPAddressField):
        if escape:
            # Every trigger sorts below "A" in the "C" collation (byte order): one byte compare settles most cells,
            # and only the others pay for ascii() (measured in psql: 2.0 s -> 1.2 s for a million demo orders).
            return (
                f"CASE WHEN {{x}} COLLATE \"C\" >= 'A' THEN {{x}} "
                f"WHEN ascii({{x}}) IN {_TRIGGERS_SQL} THEN '''' || {{x}} ELSE NULLIF({{x}}, '') END"
            )
        return "NULLIF({x}, '')"
    raise NotCopyable(f"column {key!r}: no exact SQL rendering of a {type(field).__name__}")


def _datetime_template(tz: datetime.tzinfo | None) -> str:
    # datetime.isoformat(): the fraction only when there are microseconds, the offset as +HH:MM (+HH:MM:SS for the
    # local mean time of old dates). The session time zone is the export's (SET LOCAL TIME ZONE). One to_char() and a
    # replace() of a zero fraction cost half of a CASE over date_trunc() with two to_char().
    if tz is None:
        return "rtrim(replace(to_char({x}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"~\"'), '.000000~', ''), '~')"
    if _zone_name(tz) == "UTC":
        return "replace(to_char({x}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
    seconds = "mod(abs(extract(timezone FROM {x})::integer), 60)"
    return (
        "replace(replace(to_char({x}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000+', '+'), '.000000-', '-')"
        f" || CASE WHEN {seconds} = 0 THEN '' ELSE ':' || lpad({seconds}::text, 2, '0') END"
    )


# Streaming ---------------------------------------------------------------------------------------------------------


def copy_chunks(plan: CopyPlan, *, header: bytes, buffer_size: int) -> Generator[tuple[bytes, int], None, None]:
    """Run ``plan`` and yield ``(data, rows)``: ``header`` and the first block as soon as it arrives (the first rows
    leave in milliseconds), then CSV bytes in chunks of at least ``buffer_size``, with the rows in each.

    Call it inside :func:`export_session` for the plan's zone.
    """
    connection = connections[plan.using]
    if connection.queries_logged:
        connection.queries_log.append({"sql": plan.sql, "time": "0.000"})
    connection.ensure_connection()
    raw = connection.connection
    if type(raw).__module__.startswith("psycopg2"):
        data = _psycopg2_blocks(raw, plan.sql)
    else:
        data = _psycopg3_blocks(raw, plan.sql)
    counter = _RowCounter()
    pending: list[bytes] = []
    size = 0
    try:
        first = next(data, b"")
        yield header + first, counter.count(first)
        for block in data:
            pending.append(block)
            size += len(block)
            if size >= buffer_size:
                chunk = b"".join(pending)
                pending.clear()
                size = 0
                yield chunk, counter.count(chunk)
        if pending:
            chunk = b"".join(pending)
            yield chunk, counter.count(chunk)
    finally:
        data.close()


class _RowCounter:
    """Counts the rows in COPY's CSV: line feeds outside quoted cells (a doubled quote toggles twice).

    Every line feed, less those between an opening and a closing quote: a few quoted cells per block cost a few
    ``find()`` calls, where splitting the block on quotes copied all of it.
    """

    def __init__(self) -> None:
        self.quoted = False

    def count(self, data: bytes) -> int:
        rows = data.count(b"\n")
        quoted = self.quoted
        start = 0  # where the current quoted run began
        quote = data.find(b'"')
        while quote >= 0:
            if quoted:
                rows -= data.count(b"\n", start, quote)
            else:
                start = quote + 1
            quoted = not quoted
            quote = data.find(b'"', quote + 1)
        if quoted:
            rows -= data.count(b"\n", start)
        self.quoted = quoted
        return rows


def _psycopg2_blocks(raw: Any, sql: str) -> Generator[bytes, None, None]:
    """``copy_expert`` in a thread writing to a pipe (C all the way); this generator reads the other end."""
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
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
        # One buffer read into again and again, and each block copied out at its size. os.read() allocated 256 KiB
        # and shrank it to what came: under uvicorn, where blocks are freed in another thread, glibc's heap then
        # grew by 1-6 MB a second (+33 MB once in a 5M-row export); with this it stays at +2 MB.
        buffer = bytearray(PIPE_SIZE)
        view = memoryview(buffer)
        while size := os.readv(read_fd, [buffer]):
            yield bytes(view[:size])
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


def _psycopg3_blocks(raw: Any, sql: str) -> Generator[bytes, None, None]:
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        while block := copy.read():
            yield bytes(block)
