"""System checks: settings of the wrong type and exports that cannot run are reported at start-up, not mid-download."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from exports.conf import app_settings
from exports.declarations import DEFAULT_PERMISSION
from exports.filters import COLUMNS_PARAMETER, DIALECT_PARAMETER
from exports.formats.registry import format_paths, load
from exports.registry import registry


def _raw(setting: str) -> object:
    """A setting as the project wrote it, of whatever type (the accessors promise the type this checks)."""
    value: object = getattr(app_settings, setting)
    return value


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for setting in ("CHUNK_SIZE", "BUFFER_SIZE"):
        value = getattr(app_settings, setting)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(
                checks.Error(f"EXPORTS_{setting} must be a positive integer, not {value!r}.", id="exports.E001")
            )
    if not isinstance(escaping := _raw("FORMULA_ESCAPING"), bool):
        errors.append(
            checks.Error(f"EXPORTS_FORMULA_ESCAPING must be True or False, not {escaping!r}.", id="exports.E002")
        )
    if not isinstance(audit := _raw("AUDIT"), bool):
        errors.append(checks.Error(f"EXPORTS_AUDIT must be True or False, not {audit!r}.", id="exports.E003"))
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
    if not isinstance(copy := _raw("COPY"), bool):
        errors.append(checks.Error(f"EXPORTS_COPY must be True or False, not {copy!r}.", id="exports.E002"))
    workers = _raw("COPY_PARALLEL_WORKERS")
    # PostgreSQL refuses more than 1024 for max_parallel_workers_per_gather: an error here, not in every export.
    if workers is not None and not (type(workers) is int and 0 <= workers <= 1024):
        errors.append(
            checks.Error(
                f"EXPORTS_COPY_PARALLEL_WORKERS must be a number of workers from 0 to 1024, or None, not {workers!r}.",
                id="exports.E006",
            )
        )
    return errors


def check_formats(**kwargs: Any) -> list[checks.CheckMessage]:
    """``EXPORTS_FORMATS``: a dict of names to dotted paths of ``Format`` subclasses (or ``None``), each importable,
    named as its key, with an extension no other format has."""
    setting = _raw("FORMATS")
    if not isinstance(setting, dict) or not all(
        isinstance(name, str) and (path is None or isinstance(path, str)) for name, path in setting.items()
    ):
        return [
            checks.Error(
                f"EXPORTS_FORMATS must be a dict of format names to dotted paths (or None), not {setting!r}.",
                id="exports.E007",
            )
        ]
    errors: list[checks.CheckMessage] = []
    extensions: dict[str, str] = {}
    for name, path in format_paths().items():
        try:
            found = load(path)
        except (ImportError, TypeError) as error:
            errors.append(checks.Error(f"EXPORTS_FORMATS[{name!r}]: {error}.", id="exports.E007"))
            continue
        if found.name != name or not found.extension or found.extension in extensions:
            errors.append(
                checks.Error(
                    f"EXPORTS_FORMATS[{name!r}]: {path} must be named {name!r} (not {found.name!r}) and have an "
                    f"extension of its own (not {found.extension!r}, which {extensions.get(found.extension)} has).",
                    id="exports.E007",
                )
            )
        extensions[found.extension] = name
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
        reserved_parameters = {COLUMNS_PARAMETER: "the columns", DIALECT_PARAMETER: "the CSV dialect"}
        for reserved in sorted(reserved_parameters.keys() & set(filters)):
            messages.append(
                checks.Error(
                    f"Export {export.name!r}: a filter may not be called {reserved!r}; "
                    f"that query parameter chooses {reserved_parameters[reserved]}.",
                    hint="Give the filter another name with Filter(path, name=...).",
                    obj=export,
                    id="exports.E011",
                )
            )
        missing = [name for name in export.formats or () if name not in format_paths()]
        if missing:
            messages.append(
                checks.Error(
                    f"Export {export.name!r} is offered as {', '.join(missing)}, which no format is called now.",
                    hint="Register the format in EXPORTS_FORMATS, or leave it out of the export's formats.",
                    obj=export,
                    id="exports.E014",
                )
            )
        permission = export.required_permission
        if isinstance(export.permission, str) and permission is not None and not _declared(permission):
            messages.append(
                checks.Error(
                    f"Export {export.name!r} requires the permission {permission!r}, which no installed app "
                    "declares: nobody but superusers could run it.",
                    hint="Name a permission as 'app_label.codename', declared in a model's Meta.permissions or one "
                    "of Django's default ones (add, change, delete, view).",
                    obj=export,
                    id="exports.E013",
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


def _declared(permission: str) -> bool:
    """Whether ``"app_label.codename"`` names a permission an installed model declares, or Django makes for it."""
    app_label, _, codename = permission.partition(".")
    try:
        app_config = apps.get_app_config(app_label)
    except LookupError:
        return False
    for model in app_config.get_models():
        opts = model._meta
        if codename in {name for name, _ in opts.permissions}:
            return True
        if codename in {f"{action}_{opts.model_name}" for action in opts.default_permissions}:
            return True
    return False


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def check_job_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """The settings of background exports (docs/jobs.md)."""
    errors: list[checks.CheckMessage] = []
    for setting, error_id in (("JOB_EXPIRES_AFTER", "exports.E030"), ("JOB_STALE_AFTER", "exports.E031")):
        value = _raw(setting)
        if not _positive_int(value):
            errors.append(
                checks.Error(f"EXPORTS_{setting} must be a positive number of seconds, not {value!r}.", id=error_id)
            )
    threshold = _raw("BACKGROUND_THRESHOLD")
    if threshold is not None and not _positive_int(threshold):
        errors.append(
            checks.Error(
                f"EXPORTS_BACKGROUND_THRESHOLD must be a positive number of rows or None, not {threshold!r}.",
                id="exports.E032",
            )
        )
    if not isinstance(gzip := _raw("JOB_GZIP"), bool):
        errors.append(checks.Error(f"EXPORTS_JOB_GZIP must be True or False, not {gzip!r}.", id="exports.E033"))
    path = app_settings.JOB_ENQUEUE
    try:
        enqueue = import_string(path)
    except ImportError as error:
        errors.append(checks.Error(f"EXPORTS_JOB_ENQUEUE {path!r} cannot be imported: {error}.", id="exports.E034"))
        return errors
    url = app_settings.RQ_URL
    if path == "exports.engines.rq.enqueue" and not (isinstance(url, str) and url.startswith(REDIS_SCHEMES)):
        errors.append(checks.Error(f"EXPORTS_RQ_URL must be a redis:// URL, not {url!r}.", id="exports.E036"))
    if not callable(enqueue):
        errors.append(checks.Error(f"EXPORTS_JOB_ENQUEUE {path!r} is not a function.", id="exports.E034"))
    elif path == "exports.tasks.enqueue" and app_settings.JOB_TASK_BACKEND not in getattr(settings, "TASKS", {}):
        errors.append(
            checks.Error(
                f"Background exports are queued on the task backend {app_settings.JOB_TASK_BACKEND!r}, which "
                "TASKS does not declare.",
                hint='Declare it, e.g. TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, or set '
                "EXPORTS_JOB_TASK_BACKEND to a backend that TASKS declares (docs/jobs.md).",
                id="exports.E035",
            )
        )
    return errors
