"""Running queued jobs: claim the fairest one, run it through its kind's handler, record how
it ended. The same loop serves the embedded pool and every Celery worker."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import metrics
from core.errors import AtelierError
from core.generation.records import UNEXPECTED_FAILURE, GenerationCancelled, GenerationFailed
from core.generation.status import Status
from core.jobs.model import Job, JobKind
from core.jobs.progress import ProgressReports
from core.jobs.store import JobStore

log = logging.getLogger(__name__)

# A step shows once it has lasted this long (core/jobs/progress.py).
_PROGRESS_SETTLE_SECONDS = 0.3


@dataclass
class JobControl:
    """What a handler may do while it runs: say how far it is, ask whether to stop."""

    _reports: ProgressReports
    job: Job
    cancelled: Callable[[], bool]
    # The last summary reported: the job's end writes it, whatever step was still unwritten.
    summary: dict[str, Any] | None = field(default=None, init=False)

    def report(self, fraction: float, message: str, summary: dict[str, Any] | None = None) -> None:
        if summary is not None:
            self.summary = summary
        self._reports.report(self.job, fraction, message, summary)


class StoppedKeeping(AtelierError):
    """Cancelled by its owner, keeping what it had already made (an import's downloads)."""

    def __init__(self, message: str, made: Sequence[uuid.UUID]) -> None:
        self.made = tuple(made)
        super().__init__(message)


# Runs one job and returns the generations it made; raises to fail (or cancel) it.
JobHandler = Callable[[Job, JobControl], Sequence[uuid.UUID]]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        handlers: Mapping[JobKind, JobHandler],
        *,
        worker_id: str,
        queues: Sequence[str],
        now: Callable[[], datetime],
        on_finished: Callable[[Job], None] = lambda _job: None,
    ) -> None:
        self._store = store
        self._now = now
        self._handlers = handlers
        self.worker_id = worker_id
        self.queues = tuple(queues)
        # Given the job as it ended: this process's waiters take it instead of reading it.
        self._on_finished = on_finished
        self._reports = ProgressReports(store, worker_id, settle_seconds=_PROGRESS_SETTLE_SECONDS)

    def close(self) -> None:
        self._reports.close()

    def drain(self) -> int:
        """Run jobs until none can be claimed; how many ran. A worker finishing a job looks
        for the next one itself, so a job skipped for its owner's cap is never stranded."""
        ran = 0
        # Called because a job was announced: the first claim need not look first.
        job = self._store.claim(self.queues, self.worker_id, look_first=False)
        while job is not None:
            self.run(job)
            ran += 1
            job = self._store.claim(self.queues, self.worker_id)
        return ran

    def run(self, job: Job) -> None:
        if job.attempts == 1:
            # Queued-to-started; a re-queued attempt's wait is counted in the retries instead.
            metrics.record_job_start(job.queue, (self._now() - job.created_at).total_seconds())
        started = time.perf_counter()
        state = Status.FAILED
        try:
            state = self._run(job)
        finally:
            metrics.record_job_end(job.kind.value, state.value, time.perf_counter() - started)

    def _run(self, job: Job) -> Status:
        context = {"job_id": str(job.id), "kind": job.kind.value, "attempt": job.attempts}
        log.info("job started", extra=context)
        control = JobControl(
            self._reports, job, cancelled=lambda: self._store.cancel_requested(job.id)
        )
        try:
            made = self._handlers[job.kind](job, control)
        except GenerationCancelled as cancelled:
            return self._end(control, Status.CANCELLED, str(cancelled))
        except StoppedKeeping as stopped:
            return self._end(control, Status.CANCELLED, str(stopped), made=stopped.made)
        except GenerationFailed as failed:
            return self._end(
                control, Status.FAILED, "Failed.", error=str(failed), made=[failed.record.id]
            )
        except AtelierError as refused:
            return self._end(control, Status.FAILED, "Failed.", error=str(refused))
        except Exception:
            log.exception("job crashed", extra=context)
            return self._end(control, Status.FAILED, "Failed.", error=UNEXPECTED_FAILURE)
        return self._end(control, Status.COMPLETED, "Done.", made=made)

    def _end(
        self,
        control: JobControl,
        state: Status,
        message: str,
        *,
        error: str | None = None,
        made: Sequence[uuid.UUID] = (),
    ) -> Status:
        job = control.job
        self._reports.ended(job)
        ended = self._store.finish(
            job,
            self.worker_id,
            state,
            message=message,
            error=error,
            generation_ids=made,
            summary=control.summary,
        )
        if ended is None:
            log.warning(
                "job was taken over before it ended here",
                extra={"job_id": str(job.id), "worker": self.worker_id},
            )
            return state
        log.info("job ended", extra={"job_id": str(job.id), "state": state.value})
        self._on_finished(ended.on(job))
        return state
