"""System checks (``manage.py check``): each problem is reported at start-up with its own id, not mid-download.

Every check id the library defines has a test here that asserts the id and what its message says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.contrib import admin
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from exports import Export, Filter
from exports.admin import ExportActionMixin
from orders.models import Customer, Order

if TYPE_CHECKING:
    # ModelAdmin is generic only in django-stubs.
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin


# Django 6.1 runs its database checks too (manage.py check does).
pytestmark = pytest.mark.django_db


def exports_messages() -> list[tuple[int, str, str]]:
    """(level, id, message) of what ``manage.py check`` reports for the library."""
    return [
        (message.level, message.id or "", message.msg)
        for message in checks.run_checks()
        if (message.id or "").startswith("exports.")
    ]


def test_the_demo_and_the_test_exports_pass_every_check():
    assert exports_messages() == []


# Settings -----------------------------------------------------------------------------------------------------------

#: (setting, bad value, check id, the gist of the message)
BAD_SETTINGS = [
    ("EXPORTS_CHUNK_SIZE", 0, "exports.E001", "EXPORTS_CHUNK_SIZE must be a positive integer, not 0."),
    ("EXPORTS_CHUNK_SIZE", True, "exports.E001", "EXPORTS_CHUNK_SIZE must be a positive integer, not True."),
    ("EXPORTS_BUFFER_SIZE", "64k", "exports.E001", "EXPORTS_BUFFER_SIZE must be a positive integer, not '64k'."),
    ("EXPORTS_FORMULA_ESCAPING", "no", "exports.E002", "EXPORTS_FORMULA_ESCAPING must be True or False, not 'no'."),
    ("EXPORTS_COPY", 0, "exports.E002", "EXPORTS_COPY must be True or False, not 0."),
    ("EXPORTS_AUDIT", "yes", "exports.E003", "EXPORTS_AUDIT must be True or False, not 'yes'."),
    ("EXPORTS_MAX_ROWS", 0, "exports.E004", "EXPORTS_MAX_ROWS must be a positive integer or None, not 0."),
    (
        "EXPORTS_MAX_CONCURRENT_PER_USER",
        "1",
        "exports.E004",
        "EXPORTS_MAX_CONCURRENT_PER_USER must be a positive integer or None, not '1'.",
    ),
    ("EXPORTS_STALE_AFTER", None, "exports.E005", "EXPORTS_STALE_AFTER must be a positive number of seconds"),
    ("EXPORTS_RETRY_AFTER", -1, "exports.E005", "EXPORTS_RETRY_AFTER must be a positive number of seconds, not -1."),
    *[
        ("EXPORTS_COPY_PARALLEL_WORKERS", value, "exports.E006", "must be a number of workers from 0 to 1024, or None")
        for value in [-1, True, "2", 0.0, False, 1025]
    ],
]


@pytest.mark.parametrize(
    ("setting", "value", "check_id", "gist"), BAD_SETTINGS, ids=[f"{s}={v!r}" for s, v, *_ in BAD_SETTINGS]
)
def test_a_setting_of_the_wrong_type_or_range_is_an_error(settings, setting, value, check_id, gist):
    setattr(settings, setting, value)
    [(level, found_id, message)] = exports_messages()
    assert (level, found_id) == (checks.ERROR, check_id)
    assert gist in message


@pytest.mark.parametrize("workers", [None, 0, 1, 4, 1024])
def test_parallel_workers_may_be_none_zero_or_up_to_postgresqls_limit(settings, workers):
    settings.EXPORTS_COPY_PARALLEL_WORKERS = workers
    assert exports_messages() == []


def test_manage_py_check_stops_on_an_error(settings):
    settings.EXPORTS_CHUNK_SIZE = -5
    with pytest.raises(SystemCheckError, match=r"\(exports.E001\) EXPORTS_CHUNK_SIZE must be a positive integer"):
        call_command("check")


# Declarations ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "gist"),
    [
        ({"columns": ["reference", "nope"]}, "Column 'nope': orders.Order has no field, annotation or attribute"),
        ({"filters": ["colour"]}, "Filter 'colour': orders.Order has no field 'colour'."),
        ({"columns": []}, "has no columns."),
    ],
)
def test_columns_or_filters_that_lead_nowhere_are_an_error(temporary_export, options, gist):
    temporary_export(Export(Order, name="broken", **options))
    [(level, check_id, message)] = exports_messages()
    assert (level, check_id) == (checks.ERROR, "exports.E010")
    assert message.startswith("Export 'broken'")
    assert gist in message


def test_a_filter_called_columns_is_an_error(temporary_export):
    temporary_export(Export(Order, name="clash", filters=[Filter("status", name="columns")]))
    [(level, check_id, message)] = exports_messages()
    assert (level, check_id) == (checks.ERROR, "exports.E011")
    assert message == (
        "Export 'clash': a filter may not be called 'columns'; that query parameter chooses the columns."
    )


def test_a_default_permission_the_model_does_not_declare_is_a_warning(temporary_export):
    temporary_export(Export(Customer, name="customers"))
    [(level, check_id, message)] = exports_messages()
    assert (level, check_id) == (checks.WARNING, "exports.W001")
    assert message == (
        "Export 'customers' requires the permission 'orders.export_customer', which orders.Customer.Meta.permissions "
        "does not declare: only superusers can run it."
    )


def test_an_explicit_permission_needs_no_declaration(temporary_export):
    temporary_export(Export(Customer, name="customers", permission="orders.view_customer"))
    assert exports_messages() == []


# The admin ------------------------------------------------------------------------------------------------------------


def test_an_admin_without_an_export_is_an_error():
    class CustomerExportAdmin(ExportActionMixin, ModelAdmin):
        pass

    [error] = CustomerExportAdmin(Customer, admin.site).check()
    assert (error.level, error.id) == (checks.ERROR, "exports.E020")
    assert "no export of orders.Customer is registered" in error.msg


def test_an_admin_naming_an_export_of_another_model_is_an_error(temporary_export):
    temporary_export(Export(Customer, name="customers"))

    class WrongAdmin(ExportActionMixin, ModelAdmin):
        export_name = "customers"

    [error] = WrongAdmin(Order, admin.site).check()
    assert (error.level, error.id) == (checks.ERROR, "exports.E020")
    assert "does not export orders.Order" in error.msg


def test_an_admin_naming_an_export_that_does_not_exist_is_an_error():
    class MisspeltAdmin(ExportActionMixin, ModelAdmin):
        export_name = "ordres"

    [error] = MisspeltAdmin(Order, admin.site).check()
    assert (error.level, error.id) == (checks.ERROR, "exports.E020")
    assert error.msg == "MisspeltAdmin.export_name: No export is called 'ordres'."
