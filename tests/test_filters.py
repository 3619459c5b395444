"""Filters a caller may apply, and the reasons given for the ones they may not."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from model_bakery import baker

from exports import Export, Filter
from exports.exceptions import InvalidFilters
from exports.runs import prepare
from orders.models import Customer, Order
from tests.conftest import read_csv
from tests.testapp.models import Sample

pytestmark = pytest.mark.django_db

EXPORT = Export(
    Order,
    name="filtered-orders",
    columns=["reference"],
    filters=[
        "status",
        "status__in",
        Filter("placed_at__gte", name="placed_after"),
        "placed_at__date",
        "customer__country",
        "total_cents__gte",
        "customer__isnull",
        "reference__icontains",
        "total_cents__range",
        "placed_at__date__range",
        "status__icontains",
        Filter("customer", name="customer_of", form_field=forms.ModelChoiceField(Customer.objects.all())),
    ],
)


def references(**filters: str | list[str]) -> list[str]:
    data = {key: value if isinstance(value, list) else [value] for key, value in filters.items()}
    job = prepare(EXPORT, surface="url", filters=data)
    return [row[0] for row in read_csv(b"".join(job.start().stream()))[1:]]


@pytest.fixture
def orders():
    se, fr = baker.make(Customer, country="SE"), baker.make(Customer, country="FR")
    day = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    baker.make(Order, reference="A", status="paid", customer=se, total_cents=100, placed_at=day)
    baker.make(Order, reference="B", status="shipped", customer=fr, total_cents=-50, placed_at=day.replace(day=2))
    baker.make(Order, reference="C", status="pending", customer=se, total_cents=900, placed_at=day.replace(day=3))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["A", "B", "C"]),
        ({"status": "paid"}, ["A"]),
        ({"status__in": "paid,shipped"}, ["A", "B"]),
        ({"status__in": ["paid", "pending"]}, ["A", "C"]),
        ({"placed_after": "2026-03-02"}, ["B", "C"]),
        ({"placed_after": "2026-03-02T10:00:00+00:00"}, ["B", "C"]),
        ({"placed_at__date": "2026-03-03"}, ["C"]),
        ({"customer__country": "SE"}, ["A", "C"]),
        ({"total_cents__gte": "-50", "customer__country": "FR"}, ["B"]),
        ({"customer__isnull": "false"}, ["A", "B", "C"]),
        ({"reference__icontains": "b"}, ["B"]),
        # A choice by its label too (what the file and the admin show), in any case.
        ({"status": "Paid"}, ["A"]),
        ({"status": "PAID"}, ["A"]),
        ({"status__in": "Paid,SHIPPED"}, ["A", "B"]),
        ({"status__in": ["pending", "Paid"]}, ["A", "C"]),
        ({"total_cents__range": "-50,100"}, ["A", "B"]),  # both ends included
        ({"total_cents__range": " 0 , 1000 "}, ["A", "C"]),
        ({"total_cents__range": "100,-50"}, []),
        ({"placed_at__date__range": "2026-03-02,2026-03-03"}, ["B", "C"]),
        ({"status__icontains": "PAI"}, ["A"]),  # a part of a stored value, not of a label
        ({"status__icontains": "Paid"}, ["A"]),
    ],
)
def test_valid_filters_select_the_matching_rows(orders, filters, expected):
    assert references(**filters) == expected


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        ({"colour": "red"}, "Unknown filter 'colour'. Allowed filters: status, status__in, placed_after"),
        ({"status": "lost"}, "Filter 'status': Select a valid choice. lost is not one of the available choices."),
        ({"status__in": "paid,lost"}, "Filter 'status__in': Select a valid choice."),
        ({"status__in": ","}, "Filter 'status__in': give one or more values"),
        ({"placed_after": "yesterday"}, "Filter 'placed_after': Enter a valid date/time."),
        ({"placed_at__date": "2026-02-30"}, "Filter 'placed_at__date': Enter a valid date."),
        ({"total_cents__gte": "ten"}, "Filter 'total_cents__gte': Enter a whole number."),
        ({"total_cents__gte": "9" * 40}, "Filter 'total_cents__gte': Ensure this value is less than or equal to"),
        ({"total_cents__gte": "1; DROP TABLE orders_order"}, "Enter a whole number."),
        ({"customer__isnull": "maybe"}, "Filter 'customer__isnull': must be true or false"),
        ({"status": ""}, "Filter 'status': is empty; give a value"),
        ({"reference__icontains": "a\x00b"}, "contains a NUL character"),
        ({"status": ["paid", "shipped"]}, "Filter 'status': given more than once"),
        ({"total_cents__range": "5"}, "Filter 'total_cents__range': give two values separated by a comma: start,end"),
        ({"total_cents__range": "1,2,3"}, "Filter 'total_cents__range': give two values separated by a comma"),
        ({"total_cents__range": "1,"}, "Filter 'total_cents__range': is empty; give a value"),
        ({"total_cents__range": "1,ten"}, "Filter 'total_cents__range': Enter a whole number."),
        ({"placed_at__date__range": "2026-03-01,2026-02-30"}, "Filter 'placed_at__date__range': Enter a valid date."),
        ({"reference__icontains": "   "}, "Filter 'reference__icontains': This field is required."),
        ({"reference__icontains": "x" * 33}, "Ensure this value has at most 32 characters (it has 33)."),
        ({"customer_of": "0"}, "Filter 'customer_of': Select a valid choice."),
    ],
)
def test_invalid_filters_are_refused_with_the_reason(orders, filters, reason):
    with pytest.raises(InvalidFilters) as caught:
        references(**filters)
    assert reason in " ".join(caught.value.messages)


def test_a_bad_choice_lists_the_valid_values(orders):
    with pytest.raises(InvalidFilters) as caught:
        references(status__in="paid,lost")
    assert caught.value.messages == [
        "Filter 'status__in': Select a valid choice. lost is not one of the available choices. "
        "Valid values: pending, paid, shipped, refunded, cancelled."
    ]


def test_a_label_that_differs_from_its_value_names_the_choice_and_is_listed(temporary_export):
    from tests.testapp.models import Sample

    export = temporary_export(Export(Sample, name="samples", columns=["kind"], filters=["kind"], permission=None))
    baker.make(Sample, kind="r")
    baker.make(Sample, kind="b")
    for given in ("b", "Blue", "blue", "B"):
        rows = read_csv(b"".join(prepare(export, surface="url", filters={"kind": [given]}).start().stream()))
        assert rows == [["Kind"], ["Blue"]], given
    with pytest.raises(InvalidFilters) as caught:
        prepare(export, surface="url", filters={"kind": ["green"]})
    assert caught.value.messages[0].endswith("Valid values: r (Red), b (Blue).")


def test_a_filter_on_text_of_any_length_takes_values_of_at_most_1000_characters():
    baker.make(Sample, note="x" * 5000)
    export = Export(Sample, columns=["id"], filters=["note__icontains"])
    assert (
        len(
            read_csv(
                b"".join(prepare(export, surface="url", filters={"note__icontains": ["x" * 1000]}).start().stream())
            )
        )
        == 2
    )
    with pytest.raises(InvalidFilters, match=r"Ensure this value has at most 1000 characters \(it has 1001\)."):
        prepare(export, surface="url", filters={"note__icontains": ["x" * 1001]})


def test_a_filter_may_bring_its_own_form_field(orders):
    customer = Customer.objects.get(country="FR")
    assert references(customer_of=str(customer.pk)) == ["B"]


def test_a_foreign_key_or_the_primary_key_can_be_filtered_on(orders):
    export = Export(Order, name="by-key", columns=["reference"], filters=["customer", "id__in"])
    customer = Customer.objects.get(country="SE")
    first, *_, last = Order.objects.order_by("pk")
    for filters, expected in [
        ({"customer": [str(customer.pk)]}, ["A", "C"]),
        ({"id__in": [f"{first.pk},{last.pk}"]}, ["A", "C"]),
    ]:
        job = prepare(export, surface="url", filters=filters)
        assert [row[0] for row in read_csv(b"".join(job.start().stream()))[1:]] == expected


def test_every_problem_is_reported_at_once(orders):
    with pytest.raises(InvalidFilters) as caught:
        references(colour="red", status="lost")
    assert len(caught.value.messages) == 2


@pytest.mark.parametrize(
    ("path", "reason"),
    [("nope", "has no field 'nope'"), ("status__regex", "not a supported lookup"), ("customer__orders", "to-many")],
)
def test_a_filter_that_cannot_work_is_a_configuration_error(path, reason):
    with pytest.raises(ImproperlyConfigured, match=reason):
        Export(Order, name="bad", filters=[path]).bound_filters  # noqa: B018
