"""A job as its owner sees it: what was asked, where it stands, and what it made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.generation.status import Status

ACTIVE = (Status.PENDING, Status.RUNNING)
FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)


class JobKind(StrEnum):
    IMAGE = "image"
    SPEECH = "speech"
    IMPORT = "import"


@dataclass(frozen=True)
class NewJob:
    """A validated request about to be queued."""

    kind: JobKind
    queue: str
    request: dict[str, Any]
    id: uuid.UUID


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    owner_id: uuid.UUID
    kind: JobKind
    queue: str
    request: dict[str, Any]
    state: Status
    progress: float
    progress_message: str
    attempts: int
    cancel_requested: bool
    error: str | None
    generation_ids: tuple[uuid.UUID, ...]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str | None
    heartbeat_at: datetime | None
    # A long job's counts so far (an import's done, failed and total, per domain).
    summary: dict[str, Any] | None = None
    # Jobs ahead of this one before it starts (an estimate under the round robin); None
    # once it is no longer pending.
    position: int | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE

    @property
    def can_cancel(self) -> bool:
        return self.is_active and not self.cancel_requested

    @property
    def can_retry(self) -> bool:
        if self.state in (Status.FAILED, Status.CANCELLED):
            return True
        # An import that finished without some of its images can try those again.
        return self.state is Status.COMPLETED and bool((self.summary or {}).get("failed"))


@dataclass(frozen=True)
class JobEnd:
    """A job as it ended, without what never changes after it was queued (what was asked, by
    whom, where): enough for a waiter who has read the job once to have it as it ended."""

    id: uuid.UUID
    state: Status
    progress: float
    progress_message: str
    attempts: int
    cancel_requested: bool
    error: str | None
    generation_ids: tuple[uuid.UUID, ...]
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str | None
    heartbeat_at: datetime | None
    summary: dict[str, Any] | None

    @classmethod
    def of(cls, job: Job) -> JobEnd:
        return cls(**{field.name: getattr(job, field.name) for field in fields(cls)})

    def on(self, job: Job) -> Job:
        """`job` (read earlier) as it ended; no longer pending, so without a position."""
        if job.id != self.id:
            raise ValueError(f"the end of job {self.id} is not job {job.id}'s")
        return replace(job, **self.values(), position=None)

    def values(self) -> dict[str, Any]:
        """The fields by name, not copied deeper (unlike `dataclasses.asdict`)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    queues: tuple[str, ...]
    engines: tuple[str, ...]
    started_at: datetime
    seen_at: datetime
    running: int


@dataclass(frozen=True)
class QueueCounts:
    """How many jobs are in each state, per queue, and what each worker runs."""

    by_state: dict[tuple[str, Status], int]
    workers: tuple[WorkerInfo, ...]

    def total(self, state: Status) -> int:
        return sum(n for (_queue, s), n in self.by_state.items() if s is state)
