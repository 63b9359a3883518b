"""A running job's progress, written beside the work and only when it is worth reading.

A step is written once it has lasted `settle_seconds`: a 100 ms job writes none of its steps
(its claim and its end say enough), a 10 s one shows each step that lasts. One thread per
worker process writes them, so the job itself never waits on these updates.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from core.jobs.model import Job
from core.jobs.store import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Step:
    job: Job
    fraction: float
    message: str
    due: float
    summary: dict[str, Any] | None


class ProgressReports:
    def __init__(self, store: JobStore, worker_id: str, *, settle_seconds: float) -> None:
        self._store = store
        self._worker_id = worker_id
        self._settle = settle_seconds
        self._steps: dict[uuid.UUID, _Step] = {}
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def report(
        self, job: Job, fraction: float, message: str, summary: dict[str, Any] | None = None
    ) -> None:
        with self._changed:
            due = time.monotonic() + self._settle
            self._steps[job.id] = _Step(job, fraction, message, due, summary)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write, name="job-progress", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def ended(self, job: Job) -> None:
        """The job's end is being written: steps not yet written never will be."""
        with self._changed:
            self._steps.pop(job.id, None)

    def _write(self) -> None:
        while True:
            with self._changed:
                step = self._next_due()
                if step is None:
                    return
            try:
                # A step that arrives after the end changes nothing: it names its attempt.
                self._store.report(
                    step.job, self._worker_id, step.fraction, step.message, step.summary
                )
            except Exception:  # noqa: BLE001 - the next step, or the end, says more
                log.warning("could not report job progress", extra={"job_id": str(step.job.id)})

    def _next_due(self) -> _Step | None:
        """Under the lock: wait for the earliest step to come due and take it; None to stop."""
        while not self._stopping:
            if not self._steps:
                self._changed.wait()
                continue
            step = min(self._steps.values(), key=lambda s: s.due)
            wait = step.due - time.monotonic()
            if wait > 0:
                self._changed.wait(wait)
                continue
            del self._steps[step.job.id]
            return step
        return None

    def close(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
