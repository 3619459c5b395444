from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exports import checks as export_checks

        checks.register(export_checks.check_settings)
        checks.register(export_checks.check_formats)
        checks.register(export_checks.check_exports)
        checks.register(export_checks.check_job_settings)
        # Each installed app declares its exports in ``exports.py``, the way it declares its admin in ``admin.py``.
        autodiscover_modules("exports")
