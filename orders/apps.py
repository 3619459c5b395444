from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exports.signals import export_finished, export_started
        from orders import signals

        export_started.connect(signals.log_start, dispatch_uid="orders.log_start")
        export_finished.connect(signals.log_end, dispatch_uid="orders.log_end")
