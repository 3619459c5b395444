from __future__ import annotations

import time
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from orders import bulk_load
from orders.seed_data import generate_orders


def _unstyled(text: str) -> str:
    # stderr output is red on a terminal by default; progress is not an error.
    return text


class Command(BaseCommand):
    help = (
        "Insert N deterministic fake orders (COPY on PostgreSQL), appending after the highest existing order id. "
        "The same --seed gives the same rows."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many orders to insert.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: 42).")
        parser.add_argument(
            "--customers",
            type=int,
            default=1000,
            help="How many customers to create when there are none yet; existing customers are reused (default: 1000).",
        )
        parser.add_argument(
            "--truncate", action="store_true", help="Delete all orders and customers first (ids restart at 1)."
        )

    def handle(
        self,
        *args: object,
        count: int,
        seed: int,
        customers: int,
        truncate: bool,
        verbosity: int,
        **options: object,
    ) -> None:
        if count < 0:
            raise CommandError(f"--count must be 0 or more, not {count}.")
        if customers < 1:
            raise CommandError(f"--customers must be 1 or more, not {customers}.")

        started = time.perf_counter()
        show_progress = verbosity > 0 and self.stderr.isatty()

        def report_progress(inserted: int) -> None:
            if show_progress:
                rate = inserted / max(time.perf_counter() - started, 1e-9)
                line = f"\rseeded {inserted:,} / {count:,} orders ({rate:,.0f}/s)"
                self.stderr.write(line, style_func=_unstyled, ending="")
                self.stderr.flush()

        try:
            with transaction.atomic():
                if truncate:
                    bulk_load.delete_orders_and_customers()
                customer_emails, created = bulk_load.ensure_customers(customers, seed)
                rows = generate_orders(bulk_load.next_order_number(), count, customer_emails, seed)
                bulk_load.insert_orders(rows, report_progress)
                bulk_load.reset_sequences()
        except IntegrityError as error:
            raise CommandError(f"Could not insert the orders ({error}); try again with --truncate.") from error
        finally:
            if show_progress and count:
                self.stderr.write("", style_func=_unstyled)  # end the \r line
        bulk_load.analyze()

        if verbosity > 1 and created:
            self.stdout.write(f"Created {created:,} customers")
        if verbosity > 0:
            self.stdout.write(f"Seeded {count:,} orders in {time.perf_counter() - started:.1f}s")
