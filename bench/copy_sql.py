"""``python -m bench.copy_sql``: print the session settings and the SELECT inside the demo export's COPY statement (its
columns named by their labels), as JSON, so that the runner (which does not import Django) can hand psql the very
query the library runs in the same session, and psql's ``CSV HEADER`` file comes out byte-identical to the
command's."""

from __future__ import annotations

import json
import os
import re

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()

    from exports.conf import app_settings
    from exports.postgres.session import session_settings
    from exports.registry import registry
    from exports.runs import Surface, prepare
    from exports.sources.copy import CopyPlan

    request = prepare(registry.get("orders"), surface=Surface.COMMAND)
    columns = request.columns
    plan = request.source()
    if not isinstance(plan, CopyPlan):
        raise SystemExit(f"the orders export does not take the COPY path: {plan}")
    match = re.fullmatch(r"COPY \((.*)\) TO STDOUT WITH \(FORMAT csv\)", plan.sql, flags=re.DOTALL)
    if match is None:  # pragma: no cover - copy_plan's statement has one shape
        raise SystemExit(f"unexpected COPY statement: {plan.sql[:200]}")
    select = match.group(1)
    for index, column in enumerate(columns):
        label = str(column.label).replace('"', '""')
        select = select.replace(f'AS "_export_{index}"', f'AS "{label}"')
    settings = session_settings(plan.tz, parallel_workers=app_settings.COPY_PARALLEL_WORKERS)
    print(json.dumps({"settings": settings, "select": select}))


if __name__ == "__main__":
    main()
