"""A job as its owner sees it: what was asked, where it stands, and what it made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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
