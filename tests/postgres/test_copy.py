"""The COPY fast path: the same bytes as the ORM path, when it is chosen, and how it stops."""

from __future__ import annotations

import datetime
import decimal
import uuid
import zoneinfo
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from exports import Column, Export
from exports.postgres.session import export_session
from exports.runs import ExportRequest, prepare
from exports.sources.copy import CopyPlan, RowCounter
from orders.models import Customer, Order
from tests.conftest import other_sessions, read_csv
from tests.testapp.models import Parent, Rating, Sample


def fallback_reason(request: ExportRequest) -> str:
    """Why ``request`` reads through the ORM (fails when it would take the COPY path)."""
    reason = request.source()
    assert isinstance(reason, str), reason
    return reason


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL"),
]

AWKWARD_TEXT = [
    None,
    "",
    "plain",
    "Zoë Ångström 🎉",
    "comma, here",
    'a "quoted" word',
    '"',
    "line\nbreak",
    "crlf\r\nbreak",
    "lone\rcarriage",
    "\rleading carriage",
    "=1+2",
    "+46 70",
    "-500",
    "@SUM(A1)",
    "'quoted",
    "\ttab",
    "\nnewline first",
    " =not first",
    "  spaces  ",
    "back\\slash \\.",
    "\\.",
]
MOMENTS = [
    None,
    datetime.datetime(2026, 11, 24, 17, 28, 22, 123456, tzinfo=datetime.UTC),
    datetime.datetime(2026, 11, 24, 17, 28, 22, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 29, 1, 0, 0, 100, tzinfo=datetime.UTC),  # DST starts in Europe
    datetime.datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(1850, 1, 1, 12, 0, tzinfo=datetime.UTC),  # local mean time: offsets with seconds
    datetime.datetime(1, 1, 2, 0, 0, tzinfo=datetime.UTC),
]
COPYABLE = ["id", "text", "note", "kind", "flag", "count", "amount", "day", "moment", "uid", "parent", "parent__name"]


@pytest.fixture
def awkward_samples(db):
    parents = [Parent.objects.create(name=name) for name in ["=parent", 'Pärent, "one"', ""]]
    rows = []
    for index, text in enumerate(AWKWARD_TEXT):
        rows.append(
            Sample(
                text=text,
                note=AWKWARD_TEXT[-index] or "",
                kind=["r", "b", "x", ""][index % 4],  # "x" and "" are not choices: written as they are
                flag=[True, False, None][index % 3],
                count=[0, -500, 2**62, None][index % 4],
                amount=[decimal.Decimal("-12.50"), decimal.Decimal("0.00"), decimal.Decimal("1234567890.10"), None][
                    index % 4
                ],
                day=[datetime.date(2026, 2, 28), datetime.date(5, 1, 1), None][index % 3],
                moment=MOMENTS[index % len(MOMENTS)],
                uid=uuid.UUID(int=index * 7919) if index % 5 else None,
                parent=parents[index % 3] if index % 4 else None,
            )
        )
    Sample.objects.bulk_create(rows)


def both_paths(export: Export, **options) -> tuple[bytes, bytes]:
    """The export through COPY (asserting it is chosen) and through the ORM.

    The ORM path formats in SQL what COPY would (the same expressions); it is also run with every cell formatted in
    Python, which must give the same bytes again.
    """
    export.copy = True
    job = prepare(export, surface="url", **options)
    assert isinstance(job.source(), CopyPlan), job.source()
    copied = b"".join(job.start().stream())
    export.copy = False
    orm = b"".join(prepare(export, surface="url", **options).start().stream())
    with mock.patch("exports.pipeline.sql_cells", return_value={}):
        in_python = b"".join(prepare(export, surface="url", **options).start().stream())
    assert in_python == orm, "the cells formatted in Python differ from those formatted by PostgreSQL"
    return copied, orm


@pytest.mark.parametrize("zone", ["UTC", "Europe/Stockholm", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"])
@pytest.mark.parametrize("escaping", [True, False])
def test_copy_writes_the_same_bytes_as_the_orm_on_awkward_data(awkward_samples, zone, escaping):
    export = Export(Sample, columns=COPYABLE, formula_escaping=escaping)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        copied, orm = both_paths(export)
    assert copied == orm
    assert len(read_csv(copied)) == len(AWKWARD_TEXT) + 1


def test_copy_without_use_tz_writes_naive_datetimes(awkward_samples, settings):
    settings.USE_TZ = False
    copied, orm = both_paths(Export(Sample, columns=["id", "moment", "text"]))
    assert copied == orm


def test_choice_labels_escaping_and_fk_traversal_in_the_demo_export(make_orders, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    customer = Customer.objects.create(name='=cmd|" /C calc"!A0', country="SE")
    make_orders(5, status="paid", customer=customer)
    make_orders(5, status="refunded", total_cents=-500)
    export = Export(
        Order,
        columns=["id", "reference", "placed_at", "status", "customer", "customer__name", "customer_email"],
        filters=["status"],
        ordering=["-placed_at"],
    )
    copied, orm = both_paths(export, filters={"status": ["paid"]})
    assert copied == orm
    rows = read_csv(copied)
    assert len(rows) == 6
    assert {row[3] for row in rows[1:]} == {"Paid"}
    assert {row[5] for row in rows[1:]} == {"'" + customer.name}


def test_an_admin_selection_and_an_empty_result(make_orders):
    orders = make_orders(6)
    export = Export(Order, columns=["id", "reference", "status"])
    selection = Order.objects.filter(pk__in=[orders[1].pk, orders[4].pk])
    copied, orm = both_paths(export, queryset=selection)
    assert copied == orm
    assert len(read_csv(copied)) == 3
    export.copy = True
    job = prepare(export, surface="url", queryset=Order.objects.none())
    assert "selects nothing" in fallback_reason(job)
    assert b"".join(job.start().stream()) == b"Id,Reference,Status\n"


def test_rows_sent_counts_rows_not_line_feeds(awkward_samples):
    request = prepare(Export(Sample, columns=["id", "text", "note"]), surface="url")
    assert isinstance(request.source(), CopyPlan)
    run = request.start()
    data = b"".join(run.stream())
    assert run.rows_sent == len(AWKWARD_TEXT) == len(read_csv(data)) - 1
    assert data.count(b"\n") > len(AWKWARD_TEXT) + 1  # line feeds inside quoted cells
    body = data.split(b"\n", 1)[1]
    for cut in range(len(body) + 1):  # wherever a chunk ends, even inside a quoted cell or a doubled quote
        counter = RowCounter()
        assert counter.count(body[:cut]) + counter.count(body[cut:]) == len(AWKWARD_TEXT)


def test_copy_runs_a_fixed_number_of_queries(make_orders, django_assert_max_num_queries):
    make_orders(300)
    job = prepare(Export(Order, columns=["id", "reference", "status"]), surface="url", chunk_size=10)
    assert isinstance(job.source(), CopyPlan)
    with CaptureQueriesContext(connection) as queries:
        data = b"".join(job.start().stream())
    assert len(read_csv(data)) == 301
    statements = [query["sql"] for query in queries.captured_queries if "exports_exportrun" not in query["sql"]]
    assert sum(sql.startswith("COPY (") for sql in statements) == 1
    # (beside the audit record) savepoint, the session's settings (one set_config query), COPY, rollback, release
    assert len(statements) == 5


def test_the_time_zone_set_for_copy_does_not_outlive_it(make_orders, settings):
    make_orders(2)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        b"".join(prepare(Export(Order, columns=["id", "placed_at"]), surface="url").start().stream())
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"


@pytest.mark.parametrize(
    ("columns", "options", "reason"),
    [
        (["id", Column("text", format=lambda text: (text or "").upper())], {}, "format hook"),
        (["id", "shout"], {}, "attribute"),
        (["id", "ratio"], {}, "FloatField"),
        (["id", "data"], {}, "JSONField"),
        (["id", "at"], {}, "TimeField"),
        (["text"], {}, "single-column"),
        (["id", "text"], {"copy": False}, "turned off"),
    ],
)
def test_what_copy_cannot_match_falls_back_to_the_orm(awkward_samples, columns, options, reason):
    export = Export(Sample, columns=columns, **options)
    job = prepare(export, surface="url")
    source = job.source()
    assert isinstance(source, str)
    assert reason in source
    assert len(read_csv(b"".join(job.start().stream()))) == len(AWKWARD_TEXT) + 1


@pytest.fixture
def ratings(db):
    Rating.objects.bulk_create(
        [
            Rating(stars=None, recommended=True, score=decimal.Decimal("12.34567891")),
            Rating(stars=1, recommended=False, score=decimal.Decimal("-0.50000000")),
            Rating(stars=5, recommended=None, score=None),
            Rating(stars=3, recommended=True, score=decimal.Decimal("7")),  # 3 is not a choice: written as it is
        ]
    )


def test_integer_choices_and_a_label_for_null_are_written_by_copy_as_by_the_orm(ratings):
    copied, orm = both_paths(Export(Rating, columns=["id", "stars"]))
    assert copied == orm
    assert [row[1] for row in read_csv(copied)] == ["Stars", "Unrated", "'=1 star", "Five stars", "3"]


def test_choices_on_a_boolean_and_a_decimal_finer_than_copy_writes_take_the_orm(ratings):
    export = Export(Rating, columns=["id", "recommended", "score"])
    rows = read_csv(b"".join(prepare(export, surface="url").start().stream()))
    assert [row[1:] for row in rows] == [
        ["Recommended", "Score"],
        ["Yes", "12.34567891"],
        ["No", "-0.50000000"],
        ["", ""],
        ["Yes", "7.00000000"],
    ]


def test_a_distinct_queryset_takes_the_orm(awkward_samples):
    export = Export(Sample.objects.filter(text__isnull=False).distinct(), columns=["id", "text"])
    rows = read_csv(b"".join(prepare(export, surface="url").start().stream()))
    assert len(rows) == len(AWKWARD_TEXT)  # the header, and every row but the one whose text is NULL


def test_a_time_zone_without_a_name_is_written_by_python(awkward_samples):
    zone = datetime.timezone(datetime.timedelta(hours=5, minutes=45))
    with timezone.override(zone):
        rows = read_csv(b"".join(prepare(Export(Sample, columns=["id", "moment"]), surface="url").start().stream()))
    expected = {str(pk): moment for pk, moment in Sample.objects.values_list("id", "moment")}
    assert {row[0]: row[1] for row in rows[1:]} == {
        pk: moment.astimezone(zone).isoformat() if moment else "" for pk, moment in expected.items()
    }
    assert "+05:45" in rows[2][1]


def test_the_setting_turns_copy_off(awkward_samples, settings):
    settings.EXPORTS_COPY = False
    assert "turned off" in fallback_reason(prepare(Export(Sample, columns=["id", "text"]), surface="url"))
    assert isinstance(prepare(Export(Sample, columns=["id", "text"], copy=True), surface="url").source(), CopyPlan)


@pytest.mark.django_db(transaction=True)
def test_closing_the_stream_early_cancels_the_copy_and_leaves_the_connection_usable(settings):
    settings.EXPORTS_BUFFER_SIZE = 1024
    customer = Customer.objects.create(name="x", country="SE")
    baker.make(Order, customer=customer, _quantity=20_000, _bulk_create=True)
    job = prepare(Export(Order, columns=["id", "reference", "customer_email"]), surface="url")
    assert isinstance(job.source(), CopyPlan)
    stream = job.start().stream()
    next(stream)
    next(stream)
    stream.close()
    assert connection.in_atomic_block is False
    assert Order.objects.count() == 20_000  # the connection answers: not stuck in COPY OUT, no open transaction
    # Nor was the COPY left running on a connection of its own.
    assert [query for state, query in other_sessions() if state == "active" and query.startswith("COPY (")] == []


@pytest.fixture
def planner_sees_a_large_table():
    """Tell the planner that parallel workers start for free and any table is worth splitting, as it concludes on its
    own for a large export; reset afterwards (the test database's connection is reused)."""
    knobs = ["parallel_setup_cost", "min_parallel_table_scan_size", "min_parallel_index_scan_size"]
    with connection.cursor() as cursor:
        for knob in knobs:
            cursor.execute(f"SET {knob} = 0")
    yield
    with connection.cursor() as cursor:
        for knob in knobs:
            cursor.execute(f"RESET {knob}")


def copy_select_plan(plan: CopyPlan, *, parallel_workers: int | None) -> str:
    """PostgreSQL's plan for the SELECT inside ``plan``'s COPY, in the session the COPY path runs it in."""
    select = plan.sql.removeprefix("COPY (").removesuffix(") TO STDOUT WITH (FORMAT csv)")
    with export_session(plan.using, plan.tz, parallel_workers=parallel_workers), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {select}")
        return "\n".join(line for (line,) in cursor.fetchall())


def test_a_copy_formats_rows_in_parallel_workers_and_writes_the_same_bytes(
    make_orders, planner_sees_a_large_table, settings
):
    settings.TIME_ZONE = "Asia/Kolkata"
    customer = Customer.objects.create(name='=cmd|" /C calc"!A0', country="SE")
    make_orders(2000, customer=customer)
    make_orders(2000, status="refunded")
    export = Export(
        Order,
        columns=["id", "reference", "placed_at", "status", "customer__name", "customer_email", "total_cents"],
        ordering=["-placed_at"],
    )
    plan = prepare(export, surface="url").source()
    assert isinstance(plan, CopyPlan)
    assert "Gather Merge" in copy_select_plan(plan, parallel_workers=1)
    assert "Gather Merge" in copy_select_plan(plan, parallel_workers=2)
    assert "Gather" not in copy_select_plan(plan, parallel_workers=0)

    settings.EXPORTS_COPY_PARALLEL_WORKERS = 2
    copied, orm = both_paths(export)
    assert copied == orm  # the workers' rows merged back in the export's order
    assert len(read_csv(copied)) == 4001


def test_a_small_filtered_copy_stays_in_one_backend(make_orders):
    make_orders(50)
    export = Export(Order, columns=["id", "reference", "placed_at"], filters=["status"])
    plan = prepare(export, surface="url", filters={"status": ["paid"]}).source()
    assert isinstance(plan, CopyPlan)
    assert "Gather" not in copy_select_plan(plan, parallel_workers=1)


def test_when_no_parallel_worker_is_free_the_backend_reads_the_rows_itself(make_orders, planner_sees_a_large_table):
    make_orders(3000)
    export = Export(Order, columns=["id", "reference", "placed_at", "status"])
    plan = prepare(export, surface="url").source()
    assert isinstance(plan, CopyPlan)
    assert "Gather Merge" in copy_select_plan(plan, parallel_workers=2)  # planned with workers, the leader not scanning
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers = 0")  # every worker taken: none is launched
    try:
        copied, orm = both_paths(export)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers")
    assert copied == orm
    assert len(read_csv(copied)) == 3001


def test_without_linux_pipe_calls_copy_writes_the_same_bytes(awkward_samples, monkeypatch):
    """macOS has no F_SETPIPE_SZ, Windows no os.readv: the pipe keeps its own size and is read with os.read."""
    import fcntl
    import os

    export = Export(Sample, columns=["id", "text", "note"])
    expected = b"".join(prepare(export, surface="url").start().stream())
    monkeypatch.delattr(fcntl, "F_SETPIPE_SZ", raising=False)
    monkeypatch.delattr(os, "readv")
    request = prepare(export, surface="url")
    assert isinstance(request.source(), CopyPlan)
    assert b"".join(request.start().stream()) == expected
