"""System checks: settings of the wrong type and exports that cannot run are reported at start-up, not mid-download."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from exports.conf import app_settings
from exports.declarations import DEFAULT_PERMISSION
from exports.registry import registry
from exports.views import COLUMNS_PARAMETER


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for setting in ("CHUNK_SIZE", "BUFFER_SIZE"):
        value = getattr(app_settings, setting)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(
                checks.Error(f"EXPORTS_{setting} must be a positive integer, not {value!r}.", id="exports.E001")
            )
    if not isinstance(app_settings.FORMULA_ESCAPING, bool):
        errors.append(
            checks.Error(
                f"EXPORTS_FORMULA_ESCAPING must be True or False, not {app_settings.FORMULA_ESCAPING!r}.",
                id="exports.E002",
            )
        )
    if not isinstance(app_settings.AUDIT, bool):
        errors.append(
            checks.Error(f"EXPORTS_AUDIT must be True or False, not {app_settings.AUDIT!r}.", id="exports.E003")
        )
    for setting in ("MAX_ROWS", "MAX_CONCURRENT_PER_USER"):
        value = getattr(app_settings, setting)
        if value is not None and not _positive_int(value):
            errors.append(
                checks.Error(f"EXPORTS_{setting} must be a positive integer or None, not {value!r}.", id="exports.E004")
            )
    for setting in ("STALE_AFTER", "RETRY_AFTER"):
        value = getattr(app_settings, setting)
        if not _positive_int(value):
            errors.append(
                checks.Error(
                    f"EXPORTS_{setting} must be a positive number of seconds, not {value!r}.", id="exports.E005"
                )
            )
    if not isinstance(app_settings.COPY, bool):
        errors.append(
            checks.Error(f"EXPORTS_COPY must be True or False, not {app_settings.COPY!r}.", id="exports.E002")
        )
    workers = app_settings.COPY_PARALLEL_WORKERS
    # PostgreSQL refuses more than 1024 for max_parallel_workers_per_gather: an error here, not in every export.
    if workers is not None and not (type(workers) is int and 0 <= workers <= 1024):
        errors.append(
            checks.Error(
                f"EXPORTS_COPY_PARALLEL_WORKERS must be a number of workers from 0 to 1024, or None, not {workers!r}.",
                id="exports.E006",
            )
        )
    return errors


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_exports(**kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for export in registry:
        try:
            export.resolved_columns  # noqa: B018 - resolving is the check
            filters = export.bound_filters
        except ImproperlyConfigured as error:
            messages.append(checks.Error(f"Export {export.name!r}: {error}", obj=export, id="exports.E010"))
            continue
        if export.max_rows is not None and not _positive_int(export.max_rows):
            messages.append(
                checks.Error(
                    f"Export {export.name!r}: max_rows must be a positive integer or None, not {export.max_rows!r}.",
                    obj=export,
                    id="exports.E012",
                )
            )
        if COLUMNS_PARAMETER in filters:
            messages.append(
                checks.Error(
                    f"Export {export.name!r}: a filter may not be called {COLUMNS_PARAMETER!r}; "
                    "that query parameter chooses columns.",
                    hint="Give the filter another name with Filter(path, name=...).",
                    obj=export,
                    id="exports.E011",
                )
            )
        if export.permission is DEFAULT_PERMISSION:
            opts = export.model_class._meta
            codename = f"export_{opts.model_name}"
            if codename not in {name for name, _ in opts.permissions}:
                messages.append(
                    checks.Warning(
                        f"Export {export.name!r} requires the permission {export.required_permission!r}, "
                        f"which {opts.label}.Meta.permissions does not declare: only superusers can run it.",
                        hint=f'Add ("{codename}", "Can export {opts.verbose_name_plural}") to Meta.permissions, '
                        "or pass permission= to the export.",
                        obj=export,
                        id="exports.W001",
                    )
                )
    return messages
