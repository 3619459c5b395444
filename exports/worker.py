"""Running an export job on a worker, whatever engine handed it over: claim it, check it again, stream it into a
stored file, and end it exactly once (completed, failed, cancelled, or back in the queue while its user's slot is
taken).

The function never raises for the export's own failure: the job records the reason, and the worker goes on to its
next job even when the failure broke its database connection.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Generator
from typing import Any

from django.db import DatabaseError, connections, router
from django.db.models import F
from django.utils import timezone, translation

from exports import jobs, storage
from exports.conf import app_settings
from exports.exceptions import ExportBusy, ExportError
from exports.job_models import ExportJob
from exports.job_requests import rebuild
from exports.runs import Run

logger = logging.getLogger("exports")

State = ExportJob.State
#: Seconds between two writes of a running job's progress (and heartbeat, and look for a cancel).
BEAT_INTERVAL = 1.0


class JobCancelled(Exception):
    """The job's owner cancelled it while it ran."""


def execute(job_id: str) -> str:
    """Run the job ``job_id`` if it is still queued; the state it ends in (or is in, when another worker has it)."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, state=State.QUEUED).update(
        state=State.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, error=""
    )
    if not claimed:
        # Taken by another worker, cancelled, or handed over twice by an at-least-once queue: nothing to do.
        state = ExportJob.objects.filter(pk=job_id).values_list("state", flat=True).first()
        logger.info("Export job %s not run: it is %s", job_id, state or "gone")
        return state or "missing"
    job = ExportJob.objects.get(pk=job_id)
    try:
        # In the language of the user who asked for it: the file's headers and labels are theirs.
        with translation.override(job.language or translation.get_language()):
            return _run(job)
    except BaseException as error:
        logger.exception("Export job %s failed", job.pk)
        _reset_connection()
        _finish(job, State.FAILED, error=_reason(error))
        if not isinstance(error, Exception):
            raise  # the worker is being stopped
        return State.FAILED
    finally:
        _reset_connection()


def _run(job: ExportJob) -> str:
    try:
        request = rebuild(job)
        run = request.start()
    except ExportBusy as error:
        return _wait_for_slot(job, error)
    except ExportError as error:
        return _finish(job, State.FAILED, error=" ".join(error.messages))
    beat = Heartbeat(str(job.pk), run)
    beat.start()
    # Only text formats gain from gzip; an XLSX file is a zip already.
    compress = app_settings.JOB_GZIP and request.format.text
    try:
        with run:
            if run.record is not None:
                ExportJob.objects.filter(pk=job.pk).update(run=run.record)
            try:
                name, size = storage.store(
                    _watch(run.stream(on_progress=beat.counted), beat),
                    extension=f".{request.format.extension}",
                    compress=compress,
                )
            except JobCancelled:
                logger.info("Export job %s cancelled after %d rows", job.pk, run.rows_sent)
                return State.CANCELLED
    finally:
        beat.stop()
    filename = request.filename() + (".gz" if compress else "")
    now = timezone.now()
    expires = now + datetime.timedelta(seconds=app_settings.JOB_EXPIRES_AFTER)
    completed = ExportJob.objects.filter(pk=job.pk, state=State.RUNNING).update(
        state=State.COMPLETED,
        file=name,
        filename=filename,
        rows_done=run.rows_sent,
        rows_total=run.rows_sent,
        bytes_written=size,
        finished_at=now,
        heartbeat_at=now,
        expires_at=expires,
    )
    if not completed:  # cancelled (or failed as stale) while its file was being stored
        storage.delete(name)
        return ExportJob.objects.filter(pk=job.pk).values_list("state", flat=True).first() or "missing"
    logger.info("Export job %s completed: %d rows, %d bytes", job.pk, run.rows_sent, size)
    return State.COMPLETED


def _watch(chunks: Generator[bytes, None, None], beat: Heartbeat) -> Generator[bytes, None, None]:
    """Pass ``chunks`` through until the job is cancelled; then close them (the run ends, aborted) and stop."""
    try:
        for chunk in chunks:
            if beat.cancelled.is_set():
                raise JobCancelled
            yield chunk
        if beat.cancelled.is_set():
            raise JobCancelled
    finally:
        chunks.close()


def _wait_for_slot(job: ExportJob, error: ExportBusy) -> str:
    """Every slot of the user is taken: the job goes back to the queue, to be tried again in ``retry_after``."""
    ExportJob.objects.filter(pk=job.pk, state=State.RUNNING).update(state=State.QUEUED, heartbeat_at=None)
    if jobs.enqueue(str(job.pk), delay=error.retry_after):
        logger.info("Export job %s waits for its user's slot (again in %d s)", job.pk, error.retry_after)
        return State.QUEUED
    # The engine cannot defer a task: fail the job rather than run it again and again at once.
    ExportJob.objects.filter(pk=job.pk, state=State.QUEUED).update(state=State.RUNNING)
    return _finish(job, State.FAILED, error=" ".join(error.messages))


def _finish(job: ExportJob, state: str, *, error: str = "") -> str:
    ExportJob.objects.filter(pk=job.pk, state=State.RUNNING).update(
        state=state, error=error[:500], finished_at=timezone.now()
    )
    return state


def _reason(error: BaseException) -> str:
    """Why the job failed, in words fit for its owner: never an exception's message, which could quote the data."""
    if isinstance(error, OSError):
        return f"The file could not be written or stored: {error.strerror or type(error).__name__}."
    if isinstance(error, DatabaseError):
        return "The database connection failed while the file was being prepared."
    if not isinstance(error, Exception):
        return "The worker was stopped while it prepared the file."
    return f"The export failed ({type(error).__name__})."


def _reset_connection() -> None:
    """Close the job's database connection if the failure broke it, so that the worker's next query reconnects
    (unless a caller's transaction holds it)."""
    connection = connections[router.db_for_write(ExportJob)]
    if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
        connection.close()


class Heartbeat(threading.Thread):
    """Writes a running job's progress and heartbeat about once a second from its own thread (so its own database
    connection: the export's is busy reading rows, or streaming a COPY), and notices a cancel."""

    def __init__(self, job_id: str, export_run: Run) -> None:
        super().__init__(name=f"exports-job-{job_id}", daemon=True)
        self.job_id = job_id
        self.export_run = export_run
        self.total: int | None = None
        self.cancelled = threading.Event()
        self._done = threading.Event()

    def counted(self, run: Run) -> None:
        """The run's progress hook: counts the rows once, before the first, inside the run's snapshot."""
        if self.total is None:
            self.total = run.request.count()

    def run(self) -> None:
        try:
            while not self._done.wait(BEAT_INTERVAL):
                self.beat()
        finally:
            connections.close_all()  # this thread's own

    def beat(self) -> None:
        fields: dict[str, Any] = {
            "rows_done": self.export_run.rows_sent,
            "bytes_written": self.export_run.bytes_sent,
            "heartbeat_at": timezone.now(),
        }
        if self.total is not None:
            fields["rows_total"] = self.total
        try:
            updated = ExportJob.objects.filter(pk=self.job_id, state=State.RUNNING).update(**fields)
        except DatabaseError:
            logger.warning("Could not write the progress of export job %s", self.job_id, exc_info=True)
            connections[router.db_for_write(ExportJob)].close()
            return
        if not updated:
            self.cancelled.set()

    def stop(self) -> None:
        self._done.set()
        self.join()
