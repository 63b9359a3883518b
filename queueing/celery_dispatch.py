"""`JobDispatch` over Celery: the web process and the API only announce; workers run."""

from __future__ import annotations

import uuid

from core.config import Settings
from core.jobs.queue import QueueUnavailable
from queueing.celery_app import RUN_JOBS, celery_app


class CeleryDispatch:
    def __init__(self, settings: Settings) -> None:
        self._app = celery_app(settings)

    def send(self, queue_name: str, job_id: uuid.UUID) -> None:
        try:
            # No publish retries: the user is waiting for an answer, and the job row is
            # taken back if this fails (core/jobs/queue.py).
            self._app.send_task(
                RUN_JOBS, args=[queue_name, str(job_id)], queue=queue_name, retry=False
            )
        except Exception as error:
            raise QueueUnavailable() from error

    def close(self) -> None:
        self._app.close()
