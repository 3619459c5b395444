"""How many exports one user may run at once (``EXPORTS_MAX_CONCURRENT_PER_USER``), across every process and host.

A run's slot is its own :class:`~exports.models.ExportRun` record, inserted with ``outcome=running`` and a slot number
under a unique constraint on (user, slot) for running records. Why the database and not the cache: the record is
written anyway (it is the audit trail), the INSERT is atomic across every process and host that shares the database
whatever ``CACHES`` says (a per-process ``LocMemCache``, the default, would silently allow one export per process),
and the audit record and the slot can never disagree. A slot is freed when its run ends. A process that dies mid-run
(``SIGKILL``, a crash, a lost machine) cannot end its run: :func:`release_lost_runs` marks it failed once it is known
to be lost (its process is gone from this host, or it started more than ``EXPORTS_STALE_AFTER`` seconds ago), before
every run starts, whoever starts it, and from ``manage.py exports_cleanup``.
"""

from __future__ import annotations

import datetime
import os
import socket
from typing import Final

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from exports.conf import app_settings
from exports.exceptions import ExportBusy
from exports.models import ExportRun

#: Where this process runs, stored on each record so that a later request can tell a dead process's runs.
HOST: Final = socket.gethostname()[:255]
#: The error of a run marked failed because its process is gone (killed, crashed) before it could end the run.
LOST_PROCESS: Final = "lost: its process ended"
#: The error of a run marked failed because it has been running longer than ``EXPORTS_STALE_AFTER``.
LOST_TOO_OLD: Final = "lost: still running after EXPORTS_STALE_AFTER"


def claim_slot(run: ExportRun) -> None:
    """Insert the new ``run`` holding one of its user's slots; raise :class:`ExportBusy` when every slot is taken."""
    limit = app_settings.MAX_CONCURRENT_PER_USER
    using = router.db_for_write(ExportRun)
    run.host, run.pid = HOST, os.getpid()
    # Lost runs (any user's) first: their slots are free, and no record stays "running" after its process is gone.
    release_lost_runs()
    if limit is None or run.user_id is None:
        run.slot = None
        run.save(force_insert=True, using=using)
        return
    # Try each slot number in turn: the unique constraint lets exactly one running record hold it.
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
    run.slot = None
    raise ExportBusy(
        f"You are already running {limit} export{'s' if limit != 1 else ''}, the most allowed at once. "
        f"Try again when {'they have' if limit != 1 else 'it has'} finished.",
        retry_after=app_settings.RETRY_AFTER,
    )


def release_lost_runs(*, dry_run: bool = False) -> int:
    """Mark as failed every running record that is lost, and so free its slot; how many (with ``dry_run``: would be).

    A record is lost when its process is gone from this host (the pid no longer runs; a pid taken by a new process
    keeps it until the next rule), or when it started more than ``EXPORTS_STALE_AFTER`` seconds ago, whatever its host
    (another host's processes cannot be asked). Should a run marked for its age finish after all, its own ending
    overwrites the mark. With ``EXPORTS_AUDIT`` off a lost record is deleted, as its run would have done.
    """
    now = timezone.now()
    oldest = now - datetime.timedelta(seconds=app_settings.STALE_AFTER)
    # Cheap at every start however long the audit trail: PostgreSQL and SQLite find the running records through the
    # slots' partial unique index (WHERE outcome = 'running'), which holds nothing else.
    running = ExportRun.objects.using(router.db_for_write(ExportRun)).filter(outcome=ExportRun.Outcome.RUNNING)
    lost: dict[str, list[int]] = {LOST_PROCESS: [], LOST_TOO_OLD: []}
    for pk, started_at, host, pid in running.values_list("pk", "started_at", "host", "pid"):
        if host == HOST and pid is not None and not process_alive(pid):
            lost[LOST_PROCESS].append(pk)
        elif started_at < oldest:
            lost[LOST_TOO_OLD].append(pk)
    if dry_run:
        return sum(map(len, lost.values()))
    marked = 0
    for error, pks in lost.items():
        if not pks:
            continue
        if app_settings.AUDIT:
            marked += running.filter(pk__in=pks).update(outcome=ExportRun.Outcome.FAILED, error=error, finished_at=now)
        else:
            marked += running.filter(pk__in=pks).delete()[0]
    return marked


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
