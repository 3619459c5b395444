"""Deterministic fake customers and orders for the demo and the benchmarks.

Everything here is pure: the same seed gives the same rows on every machine. The first rows are awkward on purpose
(accents, emoji, separators, quotes, line breaks, spreadsheet formula prefixes, padding) so that even a tiny seed
exercises the CSV encoder.
"""

from __future__ import annotations

import bisect
import random
import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from orders.models import Order

# A fixed end, not now(): the same seed must give the same timestamps next year too.
PLACED_BEFORE = datetime(2026, 11, 1, tzinfo=UTC)
PLACED_SPAN = timedelta(days=730)
_PLACED_FROM = PLACED_BEFORE - PLACED_SPAN
_SPAN_MICROSECONDS = PLACED_SPAN // timedelta(microseconds=1)

REFERENCE_FORMAT = "ORD-{:07d}"


class CustomerRow(NamedTuple):
    name: str
    country: str


class OrderRow(NamedTuple):
    # The names are the Order attnames and also its column names, which COPY lists.
    id: int
    reference: str
    customer_id: int
    customer_email: str
    total_cents: int
    status: str
    placed_at: datetime


# (customer name, country, email used on that customer's orders)
AWKWARD_CUSTOMERS: tuple[tuple[str, str, str], ...] = (
    ("Zoë Ångström", "SE", "zoë.ångström@example.com"),
    ("🎉 Party Planners", "GB", "party.planners+🎉@example.com"),
    ("Smith, Jones & Partners", "GB", "smith.jones+invoices@example.com"),
    ('Dwayne "The Rock" Johnson', "US", '"dwayne,the rock"@example.com'),
    ("Acme Corp\nAccounts Dept", "US", "accounts+acme@example.com"),
    ('=HYPERLINK("https://example.com","click me")', "US", "=1+1@example.com"),
    ("-Minus Traders", "DE", "-minus@example.com"),
    ("@handle Media", "FR", "handle@example.com"),
    ("+Plus Partners", "NL", "+plus@example.com"),
    ("'Quoted Start Ltd", "IE", "o'leary@example.com"),
    ("  Padded Name  ", "DK", "padded.name@example.com"),
    ("\tTabbed Trading", "NO", "tabbed@example.com"),
    ("Carriage\r\nReturn Ltd", "PL", "crlf@example.com"),
    ("Müller; Söhne GmbH", "DE", "mueller.soehne@example.com"),
    ("東京商事株式会社", "JP", "tokyo.shoji@example.com"),
    ("شركة القاهرة", "EG", "cairo@example.com"),
)
_AWKWARD_EMAILS = {name: email for name, _, email in AWKWARD_CUSTOMERS}
# (total_cents, status) of the first orders: zero, a cent either side, a large refund, more than 2**31 cents.
AWKWARD_TOTALS: tuple[tuple[int, str], ...] = (
    (0, Order.Status.CANCELLED.value),
    (-1, Order.Status.REFUNDED.value),
    (1, Order.Status.PAID.value),
    (-123_456, Order.Status.REFUNDED.value),
    (98_765_432_101, Order.Status.SHIPPED.value),
)

FIRST_NAMES = (
    "Zoë", "Ana", "André", "Björn", "Chloé", "Dmitri", "Élodie", "Fatima", "Gérard", "Håkon", "Inès", "Jürgen",
    "Kateřina", "Łukasz", "Maëlle", "Nuño", "Oskar", "Paweł", "Renée", "Søren", "Thérèse", "Ulrich", "Wojciech",
    "Xavier", "Yasmin", "Zoltán", "José", "François", "Siobhán", "Ines", "Mårten", "Aoife",
)  # fmt: skip
LAST_NAMES = (
    "Ångström", "Müller", "García", "Dvořák", "Nowak", "O'Brien", "Lefèvre", "Jørgensen", "Schröder", "Kowalczyk",
    "Núñez", "Østergaard", "Hernández", "Smith", "Ivanović", "Kühn", "Żuławski", "Brontë", "Ó Súilleabháin", "Peña",
    "Nakamura", "da Silva", "van der Berg", "Lindqvist",
)  # fmt: skip
COUNTRIES = ("SE", "DE", "FR", "GB", "US", "ES", "PL", "NO", "DK", "IE", "NL", "CZ", "BR", "JP")

_STATUSES = (
    Order.Status.PAID,
    Order.Status.SHIPPED,
    Order.Status.PENDING,
    Order.Status.CANCELLED,
    Order.Status.REFUNDED,
)
_STATUS_WEIGHTS = (45, 34, 10, 7, 4)
_CUMULATIVE_WEIGHTS = [sum(_STATUS_WEIGHTS[: i + 1]) for i in range(len(_STATUS_WEIGHTS))]
_STATUS_VALUES = [str(status.value) for status in _STATUSES]
_REFUNDED = str(Order.Status.REFUNDED.value)

# Letters that NFKD does not decompose into an ASCII base.
_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d"})


def generate_customers(count: int, seed: int) -> list[CustomerRow]:
    """``count`` customers: the awkward ones first, then random names with accents."""
    rng = random.Random(f"customers:{seed}")
    rows = [CustomerRow(name, country) for name, country, _ in AWKWARD_CUSTOMERS[:count]]
    while len(rows) < count:
        rows.append(CustomerRow(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", rng.choice(COUNTRIES)))
    return rows


def customer_email(name: str, number: int) -> str:
    """The email on a customer's orders: ``firstname.lastname{number}@example.com`` in ASCII."""
    if name in _AWKWARD_EMAILS:
        return _AWKWARD_EMAILS[name]
    ascii_name = unicodedata.normalize("NFKD", name.translate(_ASCII_FOLD)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower().replace("'", ""))
    local = f"{words[0]}.{words[-1]}" if len(words) > 1 else "".join(words) or "customer"
    return f"{local}{number}@example.com"


def generate_orders(
    first_number: int, count: int, customers: Sequence[tuple[int, str]], seed: int
) -> Iterator[OrderRow]:
    """Orders numbered from ``first_number``; ``customers`` are ``(id, email)`` pairs to draw from.

    Order N has id N and reference ORD-000000N; placed_at rises with N across the two years before PLACED_BEFORE.
    Orders 1..k go to the first k customers (the awkward ones when this module created them), so a seed of 20 rows
    already shows every awkward string.
    """
    # Seeded by the first number too, so an appended batch is not a copy of the first one.
    rng = random.Random(f"orders:{seed}:{first_number}")
    random_float = rng.random
    customer_count = len(customers)
    slice_microseconds = _SPAN_MICROSECONDS / max(count, 1)
    total_weight = _CUMULATIVE_WEIGHTS[-1]
    for number in range(first_number, first_number + count):
        if number <= len(AWKWARD_CUSTOMERS) and number <= customer_count:
            customer_id, email = customers[number - 1]
        else:
            customer_id, email = customers[int(random_float() * customer_count)]
        status = _STATUS_VALUES[bisect.bisect_right(_CUMULATIVE_WEIGHTS, random_float() * total_weight)]
        # Skewed towards small baskets: mostly 1-50 EUR, a long tail up to 2,500.
        total_cents = 100 + int(random_float() ** 3 * 249_900)
        if number <= len(AWKWARD_TOTALS):
            total_cents, status = AWKWARD_TOTALS[number - 1]
        elif status == _REFUNDED:
            total_cents = -total_cents
        # One random instant per equal slice of the span: placed_at rises with the id, as in a real orders table
        # (and PostgreSQL appends to the placed_at index instead of inserting at random pages, twice as fast).
        offset = int((number - first_number + random_float()) * slice_microseconds)
        placed_at = _PLACED_FROM + timedelta(microseconds=offset)
        yield OrderRow(number, REFERENCE_FORMAT.format(number), customer_id, email, total_cents, status, placed_at)
