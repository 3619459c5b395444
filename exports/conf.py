"""The library's settings, read in one place.

Every setting is optional and prefixed ``EXPORTS_``; docs/settings.md documents each one and
``exports.checks`` validates them at start-up.
"""

from __future__ import annotations

from django.conf import settings


class Settings:
    """Read-through accessors: each property reads ``django.conf.settings`` on access, so tests can override them."""

    @property
    def CHUNK_SIZE(self) -> int:
        """Rows fetched from the database per round trip.

        A few fetched batches are alive at once (the one being written and those read ahead), so this bounds the
        worker's memory; larger batches add memory without adding speed (see docs/performance.md).
        """
        return getattr(settings, "EXPORTS_CHUNK_SIZE", 1000)

    @property
    def BUFFER_SIZE(self) -> int:
        """Bytes gathered before a chunk is handed to the client, file or stdout."""
        return getattr(settings, "EXPORTS_BUFFER_SIZE", 64 * 1024)

    @property
    def FORMULA_ESCAPING(self) -> bool:
        """Prefix text cells that a spreadsheet would run as a formula with ``'`` (OWASP CSV injection)."""
        return getattr(settings, "EXPORTS_FORMULA_ESCAPING", True)

    @property
    def AUDIT(self) -> bool:
        """Keep an ``ExportRun`` record of every run (without it, a run's record lives only while it holds a slot)."""
        return getattr(settings, "EXPORTS_AUDIT", True)

    @property
    def MAX_ROWS(self) -> int | None:
        """The most rows an export may write, unless it sets ``max_rows``; ``None``: no limit."""
        return getattr(settings, "EXPORTS_MAX_ROWS", None)

    @property
    def MAX_CONCURRENT_PER_USER(self) -> int | None:
        """How many exports one user may run at once, across every process; ``None``: no limit."""
        return getattr(settings, "EXPORTS_MAX_CONCURRENT_PER_USER", 1)

    @property
    def STALE_AFTER(self) -> int:
        """Seconds after which a run still marked running no longer holds its user's slot (its process died)."""
        return getattr(settings, "EXPORTS_STALE_AFTER", 3600)

    @property
    def RETRY_AFTER(self) -> int:
        """The ``Retry-After`` (seconds) of the 429 answer to a user who is already running exports."""
        return getattr(settings, "EXPORTS_RETRY_AFTER", 30)

    @property
    def COPY(self) -> bool:
        """Let exports whose columns PostgreSQL can format exactly stream through ``COPY ... TO STDOUT``."""
        return getattr(settings, "EXPORTS_COPY", True)

    @property
    def COPY_PARALLEL_WORKERS(self) -> int | None:
        """PostgreSQL parallel workers a COPY export may ask for, to read and format its rows while its own backend
        merges and sends them; 0 keeps it in one backend, ``None`` leaves the server's settings alone (the measured
        effect of each is in docs/performance.md)."""
        return getattr(settings, "EXPORTS_COPY_PARALLEL_WORKERS", 2)

    @property
    def FORMATS(self) -> dict[str, str | None]:
        """Formats a project adds (name -> dotted path of a ``Format`` subclass), or removes (name -> ``None``)."""
        return getattr(settings, "EXPORTS_FORMATS", {})

    # Background jobs ----------------------------------------------------------------------------------------------

    @property
    def JOB_EXPIRES_AFTER(self) -> int:
        """Seconds a background export's file can be downloaded after it is complete; then it is deleted."""
        return getattr(settings, "EXPORTS_JOB_EXPIRES_AFTER", 24 * 3600)

    @property
    def JOB_STALE_AFTER(self) -> int:
        """Seconds without a heartbeat after which a running job is taken for dead (its worker was killed): failed."""
        return getattr(settings, "EXPORTS_JOB_STALE_AFTER", 60)

    @property
    def BACKGROUND_THRESHOLD(self) -> int | None:
        """Above this many rows the admin's "Export all matching" prepares the file in the background; ``None``:
        never by default."""
        return getattr(settings, "EXPORTS_BACKGROUND_THRESHOLD", 100_000)

    @property
    def JOB_ENQUEUE(self) -> str:
        """The dotted path of the function that hands a job's id to a worker (Django's Tasks API by default)."""
        return getattr(settings, "EXPORTS_JOB_ENQUEUE", "exports.tasks.enqueue")

    @property
    def JOB_TASK_BACKEND(self) -> str:
        """The ``TASKS`` alias background exports are enqueued on."""
        return getattr(settings, "EXPORTS_JOB_TASK_BACKEND", "default")

    @property
    def JOB_QUEUE(self) -> str:
        """The queue name background exports are enqueued on."""
        return getattr(settings, "EXPORTS_JOB_QUEUE", "default")

    @property
    def JOB_GZIP(self) -> bool:
        """Store the files of text formats gzip-compressed (downloaded as ``.gz``)."""
        return getattr(settings, "EXPORTS_JOB_GZIP", False)

    @property
    def JOB_FILES_DIR(self) -> str | None:
        """Where the default storage of job files keeps them when ``STORAGES`` has no ``"exports"`` alias
        (``None``: a private folder in the system's temporary directory)."""
        return getattr(settings, "EXPORTS_JOB_FILES_DIR", None)

    @property
    def RQ_URL(self) -> str:
        """The Redis URL of RQ's queue, when ``EXPORTS_JOB_ENQUEUE = "exports.engines.rq.enqueue"``."""
        return getattr(settings, "EXPORTS_RQ_URL", "redis://127.0.0.1:6379/0")

    @property
    def RQ_QUEUE(self) -> str:
        """The RQ queue background exports are enqueued on."""
        return getattr(settings, "EXPORTS_RQ_QUEUE", "exports")


app_settings = Settings()
