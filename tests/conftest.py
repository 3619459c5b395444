from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections
from django.http import StreamingHttpResponse
from model_bakery import baker
from model_bakery.utils import seq

from exports.registry import registry

POSTGRES = connection.vendor == "postgresql"


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("EXPORTS_TESTS_REQUIRE_POSTGRES") == "1" and not POSTGRES:
        raise pytest.UsageError(
            "EXPORTS_TESTS_REQUIRE_POSTGRES=1 but the tests run on "
            f"{connection.vendor}: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME"
        )


def pytest_report_header() -> str:
    driver = f"{connection.Database.__name__} {getattr(connection.Database, '__version__', '')}".strip()  # type: ignore[attr-defined]
    source = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "default SQLite"
    return f"database: {connection.vendor} through {driver} ({source})"


def database_url() -> str:
    """A ``DATABASE_URL`` for the test database, for the subprocesses (commands, servers) a test starts."""
    settings = connection.settings_dict
    if POSTGRES:
        host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"
    return f"sqlite:///{settings['NAME']}"


def other_sessions() -> list[tuple[str, str]]:
    """(state, query) of every other client session on the test database (PostgreSQL).

    Only this database and only client backends other than the test's own: other suites sharing the server (their
    COPY exports), autovacuum and parallel workers never count, so what another client does cannot fail a test.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(state, ''), query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return list(cursor.fetchall())


def read_csv(data: bytes | str) -> list[list[str]]:
    """Parse an export back into rows of cells."""
    text = data.decode() if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def body(response: StreamingHttpResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def close_response(response: Any) -> None:
    """Close a test client's response the way a server does when its client goes away.

    Django's ``request_finished`` handler would close the connection that holds the test's transaction (the test
    client itself avoids it the same way for the responses it closes).
    """
    with mock.patch.object(connections["default"], "close_if_unusable_or_obsolete"):
        response.close()


@pytest.fixture
def exporter(django_user_model):
    """A staff user with the demo's export permission (and nothing else)."""
    user = django_user_model.objects.create_user("exporter", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_order"))
    return user


@pytest.fixture
def temporary_export() -> Iterator[Callable[..., Any]]:
    """Register exports for one test only."""
    names: list[str] = []

    def add(export):
        names.append(export.name)
        return registry.register(export)

    yield add
    for name in names:
        registry.unregister(name)


@pytest.fixture
def make_orders() -> Callable[..., Any]:
    def make(count: int, **fields):
        from orders.models import Customer, Order

        customer = fields.pop("customer", None) or baker.make(Customer, name='Zoë, "the" Ångström', country="SE")
        return baker.make(Order, customer=customer, _quantity=count, _bulk_create=True, **fields)

    return make


# Per-user scoping (tests/test_scoping.py, tests/postgres/test_scoping_copy.py) ------------------------------------


@pytest.fixture
def company_orders(temporary_export):
    from tests.testapp.scoping import CompanyOrders

    return temporary_export(CompanyOrders())


@pytest.fixture
def companies(make_orders):
    """Acme has 3 orders (2 paid), Globex 2; Alice works for Acme, Bob for Globex, Carol for nobody yet."""
    from orders.models import Customer

    acme = baker.make(Customer, name="Acme", country="SE")
    globex = baker.make(Customer, name="Globex", country="JP")
    make_orders(2, customer=acme, status="paid", reference=seq("acme-paid-"))
    make_orders(1, customer=acme, status="pending", reference=seq("acme-pending-"))
    make_orders(2, customer=globex, status="paid", reference=seq("globex-"))
    return acme, globex


@pytest.fixture
def make_employee(django_user_model):
    def make(username: str, *company: str, codenames: tuple[str, ...] = ("export_order",)):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in company))
        return user

    return make
