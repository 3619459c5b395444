"""An export's options are checked when it is declared: a wrong type or value is an error naming the option."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from exports import Column, Export
from orders.models import Order


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"formula_escaping": "no"}, "formula_escaping must be True, False or None, not 'no'"),
        ({"copy": "off"}, "copy must be True, False or None, not 'off'"),
        ({"chunk_size": -1}, "chunk_size must be a positive integer or None, not -1"),
        ({"chunk_size": True}, "chunk_size must be a positive integer or None, not True"),
        ({"max_rows": 0}, "max_rows must be a positive integer or None, not 0"),
        ({"filename": 5}, "filename must be a pattern string or a callable, not 5"),
        ({"filename": "{name}-{when}.csv"}, "is not a pattern of {name}, {date} and {now} (KeyError: 'when')"),
        ({"permission": "export_order"}, "permission must be 'app_label.codename', None or DEFAULT_PERMISSION"),
        ({"columns": "reference"}, "columns must be a list of paths or Column objects, or None"),
        ({"filters": ["status", 3]}, "filters must be a list of lookup paths or Filter objects"),
        ({"ordering": "-pk"}, "ordering must be a list of field names, or None"),
        ({"name": "a/b"}, "name must be a non-empty string without '/'"),
        ({"label": 7}, "label must be a string, not 7"),
    ],
)
def test_a_wrong_option_is_an_error_naming_it(options, message):
    with pytest.raises(ImproperlyConfigured, match="Export '.*': ") as raised:
        Export(Order, **options)
    assert message in str(raised.value)


def test_a_subclass_declares_options_as_class_attributes_and_they_are_checked_too():
    class Orders(Export):
        model = Order
        columns = ["reference", Column("status", "State")]
        chunk_size = 10

    export = Orders(name="orders-by-class")
    assert (export.name, export.chunk_size, [c.label for c in export.resolved_columns]) == (
        "orders-by-class",
        10,
        ["Reference", "State"],
    )

    class Broken(Export):
        model = Order
        formula_escaping = "yes"  # type: ignore[assignment]  # mypy catches it too

    with pytest.raises(ImproperlyConfigured, match="formula_escaping must be True, False or None, not 'yes'"):
        Broken()


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        Export(Order, ["reference"])  # type: ignore[arg-type, call-arg]


@pytest.mark.parametrize(
    ("permission", "declared"),
    [
        ("orders.export_order", True),  # in Order's Meta.permissions
        ("orders.view_order", True),  # one of Django's default permissions
        ("orders.export_orders", False),
        ("shop.export_order", False),  # no such app
    ],
)
def test_an_explicit_permission_no_app_declares_is_a_check_error(temporary_export, permission, declared):
    from exports.checks import check_exports

    temporary_export(Export(Order, name="checked", columns=["reference"], permission=permission))
    errors = [message for message in check_exports() if message.obj.name == "checked"]
    if declared:
        assert errors == []
    else:
        assert [error.id for error in errors] == ["exports.E013"]
        assert f"requires the permission {permission!r}, which no installed app declares" in errors[0].msg
