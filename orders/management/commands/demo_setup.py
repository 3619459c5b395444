from __future__ import annotations

from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from orders.models import Order

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
DEMO_PERMISSIONS = ("export_order", "view_order", "view_customer")
BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Prepare the demo: seed orders if there are none and create (or reset) the staff user demo/demo "
        "who may view and export orders. Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--count", type=int, default=2000, help="Orders to seed when the table is empty (default: 2000)."
        )

    def handle(self, *args: object, count: int, verbosity: int, **options: object) -> None:
        if not Order.objects.exists():
            call_command("seed_orders", count=count, verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)

        permissions = list(Permission.objects.filter(content_type__app_label="orders", codename__in=DEMO_PERMISSIONS))
        if len(permissions) != len(DEMO_PERMISSIONS):
            raise CommandError("The orders permissions are missing: run `manage.py migrate` first.")

        user, _ = get_user_model()._default_manager.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.is_superuser = False
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.user_permissions.set(permissions)

        if verbosity > 0:
            self.stdout.write(
                f"Log in as {DEMO_USERNAME} / {DEMO_PASSWORD} (staff; may view and export orders).\n"
                f"Home:   {BASE_URL}/\n"
                f"Admin:  {BASE_URL}/admin/\n"
                f"Export: {BASE_URL}/exports/orders.csv"
            )
