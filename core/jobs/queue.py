"""The job queue as the faces use it: queue validated work, follow it, cancel it, wait for it.

Rows first, then the broker: a job exists before any worker can hear of it, and a broker that
refuses the announcement takes the rows back, so nothing half-created is left.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from core.errors import AtelierError, StorageUnavailable
from core.generation.records import UNEXPECTED_FAILURE
from core.generation.status import Status
from core.jobs.dispatch import JobDispatch
from core.jobs.model import FINISHED, Job, JobKind, NewJob, QueueCounts
from core.jobs.notices import FinishedJobs, PostgresNotices
from core.jobs.store import JobStore

log = logging.getLogger(__name__)

# How often a waiter looks at the table when nothing tells it of a job's end: every few ms for
# the first second (the offline engines take 20 ms to a second; a look is one indexed row),
# then less and less. When it is told, it only looks again in case a notice was lost.
_TOLD_POLL_SECONDS = 0.25
_QUICK_POLL_SECONDS = 0.004
_QUICK_FOR_SECONDS = 1.0
_POLL_GROWTH = 1.5
_LONGEST_POLL_SECONDS = 0.25


class QueueUnavailable(StorageUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "The job queue is not answering, so nothing was queued. Try again in a moment."
        )


class JobFailed(AtelierError):
    """A job ended failed; the message is its reason."""


class JobCancelled(AtelierError):
    def __init__(self) -> None:
        super().__init__("The job was cancelled before it finished, so nothing was made.")


class JobStillRunning(AtelierError):
    """The wait ran out before the job ended: the caller gets the job to follow instead."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__("The job is still in the queue or running; follow it by its id.")


class JobQueue:
    def __init__(
        self,
        store: JobStore,
        dispatch: JobDispatch,
        finished: FinishedJobs,
        *,
        notices: PostgresNotices | None,
        runs_jobs_here: bool,
    ) -> None:
        """Waiters are told of a job's end by `notices` (any process's jobs) or, when this
        process runs the jobs itself, by its own workers; else they look often."""
        self._store = store
        self.dispatch = dispatch
        self._finished = finished
        self._notices = notices
        self._runs_jobs_here = runs_jobs_here

    @property
    def store(self) -> JobStore:
        return self._store

    def submit(self, owner_id: uuid.UUID, jobs: Sequence[NewJob]) -> list[Job]:
        created = self._store.add(owner_id, jobs)
        try:
            for job in created:
                self.dispatch.send(job.queue, job.id)
        except Exception as error:
            log.exception("broker refused a job", extra={"owner": str(owner_id)})
            # Announced ones may already run; the rest never will, so they go.
            self._store.remove_pending([job.id for job in created])
            raise QueueUnavailable() from error
        return created

    def get(self, owner_id: uuid.UUID | None, job_id: uuid.UUID) -> Job:
        return self._store.owned(owner_id, job_id)

    def listing(
        self,
        owner_id: uuid.UUID | None,
        *,
        states: Sequence[Status] = (),
        kinds: Sequence[JobKind] = (),
        limit: int = 50,
    ) -> list[Job]:
        return self._store.listing(owner_id, states=states, kinds=kinds, limit=limit)

    def cancel(self, owner_id: uuid.UUID | None, job_id: uuid.UUID) -> Job:
        job = self._store.request_cancel(owner_id, job_id)
        if job.state is Status.CANCELLED:
            self._finished.announce(job)
        return job

    def counts(self) -> QueueCounts:
        return self._store.counts()

    def depth(self) -> dict[tuple[str, Status], int]:
        return self._store.depth()

    def wait(self, owner_id: uuid.UUID | None, job_id: uuid.UUID, timeout_seconds: float) -> Job:
        """The job once it has finished, or as it stands when the time is up."""
        started = time.monotonic()
        deadline = started + timeout_seconds
        pause = _TOLD_POLL_SECONDS if self._told() else _QUICK_POLL_SECONDS
        seen = self._finished.mark()
        job = self._store.owned(owner_id, job_id, placed=False)
        while True:
            left = deadline - time.monotonic()
            if job.state in FINISHED or left <= 0:
                return job
            self._finished.wait(seen, min(pause, left))
            if time.monotonic() - started > _QUICK_FOR_SECONDS:
                pause = min(pause * _POLL_GROWTH, _LONGEST_POLL_SECONDS)
            seen = self._finished.mark()
            # Told how it ended (an end is final): the job read above, as it ended, is the
            # same as reading it again.
            end = self._finished.end_of(job_id)
            job = (
                end.on(job)
                if end is not None
                else self._store.owned(owner_id, job_id, placed=False)
            )

    def outcome(
        self, owner_id: uuid.UUID | None, job_ids: Sequence[uuid.UUID], timeout_seconds: float
    ) -> list[Job]:
        """Wait for jobs and return them completed, or raise why not: `JobFailed`,
        `JobCancelled`, or `JobStillRunning` when the time ran out (for the first such job)."""
        deadline = time.monotonic() + timeout_seconds
        done = []
        for job_id in job_ids:
            job = self.wait(owner_id, job_id, max(0.0, deadline - time.monotonic()))
            if job.state is Status.FAILED:
                raise JobFailed(job.error or UNEXPECTED_FAILURE)
            if job.state is Status.CANCELLED:
                raise JobCancelled()
            if job.state is not Status.COMPLETED:
                raise JobStillRunning(job)
            done.append(job)
        return done

    def _told(self) -> bool:
        if self._notices is not None:
            self._notices.start()
            return True
        return self._runs_jobs_here

    def close(self) -> None:
        self.dispatch.close()
        if self._notices is not None:
            self._notices.close()
