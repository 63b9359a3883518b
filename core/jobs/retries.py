"""Trying a finished job again, the way its kind does it: a generation asks for the same thing
once more, an import only for what it did not keep."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from core.errors import InvalidInput
from core.jobs.model import Job, JobKind
from core.jobs.queue import JobQueue


class JobRetries:
    def __init__(self, queue: JobQueue, again: Mapping[JobKind, Callable[[Job], Job]]) -> None:
        self._queue = queue
        self._again = again

    def retry(self, owner_id: uuid.UUID, job_id: uuid.UUID) -> Job:
        earlier = self._queue.get(owner_id, job_id)
        if not earlier.can_retry:
            raise InvalidInput(
                "Only a failed or cancelled job, or an import that missed some images, "
                "can be tried again."
            )
        return self._again[earlier.kind](earlier)
