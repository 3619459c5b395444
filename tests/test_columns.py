"""How each kind of column is written: the cells a user sees in the file."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Upper
from django.utils import timezone
from model_bakery import baker

from exports import Column, Export
from exports.runs import prepare
from tests.conftest import read_csv
from tests.testapp.models import Parent, Rating, Sample

pytestmark = pytest.mark.django_db


def rows_of(export: Export, **kwargs) -> list[list[str]]:
    job = prepare(export, surface="command", **kwargs)
    return read_csv(b"".join(job.start().stream()))


def test_header_uses_labels_and_verbose_names():
    export = Export(Sample, columns=["text", Column("count", "How many")])
    assert rows_of(export) == [["Text", "How many"]]


def test_default_columns_are_every_concrete_field():
    export = Export(Parent)
    assert [c.path for c in export.resolved_columns] == ["id", "name"]


def test_datetime_is_iso_8601_with_offset_in_the_current_time_zone():
    moment = datetime.datetime(2026, 1, 15, 12, 30, 5, 123456, tzinfo=datetime.UTC)
    baker.make(Sample, moment=moment)
    baker.make(Sample, moment=moment.replace(month=7, microsecond=0))
    export = Export(Sample, columns=["moment"])
    with timezone.override(zoneinfo.ZoneInfo("Europe/Stockholm")):
        assert rows_of(export)[1:] == [["2026-01-15T13:30:05.123456+01:00"], ["2026-07-15T14:30:05+02:00"]]
    with timezone.override(datetime.UTC):
        assert rows_of(export)[1] == ["2026-01-15T12:30:05.123456+00:00"]


def test_choice_field_shows_its_label_unless_asked_for_the_value():
    baker.make(Sample, kind=Sample.Kind.BLUE)
    export = Export(Sample, columns=["kind", Column("kind", "Code", choice_labels=False, name="code")])
    assert rows_of(export)[1] == ["Blue", "b"]


def test_an_integer_field_with_choices_shows_its_labels():
    Rating.objects.bulk_create([Rating(stars=5), Rating(stars=None), Rating(stars=3)])
    rows = rows_of(Export(Rating, columns=["stars", Column("stars", "Code", choice_labels=False, name="code")]))
    assert rows == [["Stars", "Code"], ["Five stars", "5"], ["Unrated", ""], ["3", "3"]]


def test_foreign_key_traversal_the_key_itself_and_an_attribute_through_it():
    parent = baker.make(Parent, name="Åsa")
    baker.make(Sample, parent=parent)
    baker.make(Sample, parent=None)
    export = Export(Sample, columns=["parent", "parent__name", "parent__shout"])
    assert rows_of(export)[1:] == [[str(parent.pk), "Åsa", "ÅSA"], ["", "", ""]]


def test_none_is_an_empty_cell_for_every_type():
    baker.make(
        Sample, text=None, flag=None, count=None, amount=None, ratio=None, day=None, moment=None, at=None, uid=None
    )
    columns = ["text", "flag", "count", "amount", "ratio", "day", "moment", "at", "uid", "data"]
    assert rows_of(Export(Sample, columns=columns))[1] == [""] * len(columns)


def test_values_of_every_type():
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    baker.make(
        Sample,
        flag=True,
        count=-500,
        amount=Decimal("-12.50"),
        ratio=0.1,
        day=datetime.date(2026, 2, 3),
        at=datetime.time(4, 5, 6),
        uid=uid,
        data={"b": [1, "é"], "a": None},
    )
    baker.make(Sample, flag=False)
    export = Export(Sample, columns=["flag", "count", "amount", "ratio", "day", "at", "uid", "data"])
    rows = rows_of(export)
    assert rows[1] == [
        "true",
        "-500",
        "-12.50",
        "0.1",
        "2026-02-03",
        "04:05:06",
        "12345678-1234-5678-1234-567812345678",
        '{"a": null, "b": [1, "é"]}',
    ]
    assert rows[2][0] == "false"


def test_format_hook_computes_the_cell_and_its_result_is_written_by_type():
    baker.make(Sample, count=1250, text="x")
    export = Export(
        Sample,
        columns=[
            Column("count", "Euros", format=lambda cents: Decimal(-cents).scaleb(-2)),
            Column("text", "Formula", format=lambda text: f"=HYPERLINK({text})", name="formula"),
        ],
    )
    assert rows_of(export)[1] == ["-12.50", "'=HYPERLINK(x)"]


def test_annotation_column():
    baker.make(Sample, text="abc", count=2)
    queryset = Sample.objects.annotate(loud=Upper("text"), twice=F("count") * 2, tagged=Concat("text", Value("!")))
    export = Export(queryset, columns=["loud", "twice", "tagged"])
    assert rows_of(export) == [["Loud", "Twice", "Tagged"], ["ABC", "4", "abc!"]]


def test_property_column_reads_instances_with_the_related_rows_joined(django_assert_max_num_queries):
    parents = baker.make(Parent, _quantity=3)
    for parent in parents:
        baker.make(Sample, text="hi", parent=parent, _quantity=4)
    export = Export(Sample, columns=["shout", "parent__name"])
    # one query, and the audit record's insert and update; on PostgreSQL the snapshot's SET TRANSACTION and a savepoint
    # around the query (SAVEPOINT, the settings, ROLLBACK TO, RELEASE)
    with django_assert_max_num_queries(8):
        rows = rows_of(export, chunk_size=5)
    assert rows[1:] == [["HI", parent.name] for parent in parents for _ in range(4)]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("nope", "has no field, annotation or attribute 'nope'"),
        ("text__name", "'text' is not a foreign key"),
        ("sample", "reverse relation"),
        ("tags__name", "'tags' is a to-many relation"),
    ],
)
def test_a_column_that_leads_nowhere_is_a_configuration_error(path, reason):
    model = Parent if path == "sample" else Sample
    with pytest.raises(ImproperlyConfigured, match=reason):
        Export(model, columns=[path]).resolved_columns  # noqa: B018


def test_same_path_twice_needs_a_name():
    with pytest.raises(ImproperlyConfigured, match="appear twice"):
        Export(Sample, columns=["count", "count"]).resolved_columns  # noqa: B018


def test_a_format_hook_may_return_any_type_and_its_cell_is_written_as_a_field_of_that_type():
    moment = datetime.datetime(2026, 1, 15, 12, 30, 5, tzinfo=datetime.UTC)
    baker.make(Sample, count=3, moment=moment, text="=x")
    baker.make(Sample, count=4, moment=None, text=None)
    export = Export(
        Sample,
        columns=[
            Column("count", "Odd", format=lambda count: count % 2 == 1, name="odd"),
            Column("moment", "Due", format=lambda at: at and at + datetime.timedelta(days=1), name="due"),
            Column("moment", "Day", format=lambda at: at and at.date(), name="day"),
            Column("moment", "Time", format=lambda at: at and at.time(), name="time"),
            Column("text", "Tags", format=lambda text: {"text": text, "n": [1, 2]}, name="tags"),
            Column("count", "Range", format=lambda count: list(range(count)), name="range"),
            Column("text", "Text", format=lambda text: text, name="formula"),
        ],
    )
    with timezone.override(zoneinfo.ZoneInfo("Europe/Stockholm")):
        rows = rows_of(export)
    assert rows[1:] == [
        [
            "true",
            "2026-01-16T13:30:05+01:00",  # a datetime in the current time zone, with its offset
            "2026-01-15",
            "12:30:05",
            '{"n": [1, 2], "text": "=x"}',  # JSON, keys sorted; it starts with a brace, so it is not escaped
            "[0, 1, 2]",
            "'=x",
        ],
        ["false", "", "", "", '{"n": [1, 2], "text": null}', "[0, 1, 2, 3]", ""],
    ]


def test_an_annotation_of_unknown_type_is_written_by_the_type_of_each_value():
    baker.make(Sample, text="plain")
    baker.make(Sample, text="=1+2")
    # Raw SQL without an output field: Django cannot say its type, so each value is written by its Python type.
    queryset = Sample.objects.annotate(copied=RawSQL("text", []))
    rows = rows_of(Export(queryset, columns=["id", "copied"], ordering=["id"]))
    assert [row[1] for row in rows] == ["Copied", "plain", "'=1+2"]


def test_without_use_tz_datetimes_are_written_as_they_are_stored(settings):
    settings.USE_TZ = False
    baker.make(Sample, moment=datetime.datetime(2026, 1, 15, 12, 30, 5, 123456))
    export = Export(
        Sample,
        columns=["moment", Column("moment", "Later", format=lambda at: at + datetime.timedelta(hours=1), name="later")],
    )
    assert rows_of(export)[1] == ["2026-01-15T12:30:05.123456", "2026-01-15T13:30:05.123456"]
