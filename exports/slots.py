"""How many exports one user may run at once (``EXPORTS_MAX_CONCURRENT_PER_USER``), across every process and host.

A run's slot is its own :class:`~exports.models.ExportRun` record, inserted with ``outcome=running`` and a slot number
under a unique constraint on (user, slot) for running records. Why the database and not the cache: the record is
written anyway (it is the audit trail), the INSERT is atomic across every process and host that shares the database
whatever ``CACHES`` says (a per-process ``LocMemCache``, the default, would silently allow one export per process),
and the audit record and the slot can never disagree. A slot is freed when its run ends. A process that dies mid-run
cannot free it; its slot is taken back when the same user next asks and the record is stale: its process is gone
(same host, pid no longer alive) or it started more than ``EXPORTS_STALE_AFTER`` seconds ago.
"""

from __future__ import annotations

import datetime
import os
import socket
from typing import Any, Final

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from exports.conf import app_settings
from exports.exceptions import ExportBusy
from exports.models import ExportRun

#: Where this process runs, stored on each record so that a later request can tell a dead process's runs.
HOST: Final = socket.gethostname()[:255]


def claim_slot(run: ExportRun) -> None:
    """Insert the new ``run`` holding one of its user's slots; raise :class:`ExportBusy` when every slot is taken."""
    limit = app_settings.MAX_CONCURRENT_PER_USER
    using = router.db_for_write(ExportRun)
    run.host, run.pid = HOST, os.getpid()
    if limit is None or run.user_id is None:
        run.slot = None
        run.save(force_insert=True, using=using)
        return
    # Try each slot number in turn: the unique constraint lets exactly one running record hold it. If all are held,
    # free the slots of runs whose process is gone, and go round once more.
    for attempt in range(2):
        for slot in range(limit):
            run.slot = slot
            try:
                with transaction.atomic(using=using):
                    run.save(force_insert=True, using=using)
            except IntegrityError:
                # Whatever the refused INSERT left on the instance, the next attempt inserts a row with a new key.
                run.pk = None
                continue
            return
        if attempt == 0 and not release_stale_slots(run.user_id):
            break
    run.slot = None
    raise ExportBusy(
        f"You are already running {limit} export{'s' if limit != 1 else ''}, the most allowed at once. "
        f"Try again when {'they have' if limit != 1 else 'it has'} finished.",
        retry_after=app_settings.RETRY_AFTER,
    )


def release_stale_slots(user_id: Any) -> int:
    """Mark as failed the running records of ``user_id`` whose process is gone or that are too old; how many."""
    now = timezone.now()
    oldest = now - datetime.timedelta(seconds=app_settings.STALE_AFTER)
    running = ExportRun.objects.filter(user_id=user_id, outcome=ExportRun.Outcome.RUNNING)
    stale = [
        pk
        for pk, started_at, host, pid in running.values_list("pk", "started_at", "host", "pid")
        if started_at < oldest or (host == HOST and pid is not None and not process_alive(pid))
    ]
    if not stale:
        return 0
    return running.filter(pk__in=stale).update(
        outcome=ExportRun.Outcome.FAILED, error="Stale: its process ended or it ran too long", finished_at=now
    )


def process_alive(pid: int) -> bool:
    """Whether the process ``pid`` on this host still runs."""
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
