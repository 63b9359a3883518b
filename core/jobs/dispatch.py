"""How a queued job's id reaches a worker: the `JobDispatch` protocol and the embedded pool.

A message says "there is work in this queue"; whichever worker takes it claims the fairest
pending job (core/jobs/store.py), which is what lets a user's single job overtake another
user's batch of fifty that is already in the broker.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Protocol

from core import metrics
from core.jobs.runner import JobRunner
from core.jobs.store import JobStore

log = logging.getLogger(__name__)


class JobDispatch(Protocol):
    def send(self, queue_name: str, job_id: uuid.UUID) -> None:
        """Announce a job; raise `QueueUnavailable` if the broker cannot take it."""
        ...

    def close(self) -> None: ...


class Heartbeat:
    """Every `interval` seconds: mark this worker's running jobs alive, and re-queue (or give
    up) jobs whose worker stopped beating. Every worker runs one; the updates are atomic."""

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        *,
        engines: list[str],
        interval_seconds: float,
        resend: Callable[[str, uuid.UUID], None],
    ) -> None:
        self._store = store
        self._runner = runner
        self._engines = engines
        self._interval = interval_seconds
        self._resend = resend
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        try:
            self._store.heartbeat(self._runner.worker_id, self._runner.queues, self._engines)
            reaped = self._store.reap()
        except Exception:
            log.exception("job heartbeat failed", extra={"worker": self._runner.worker_id})
            return
        for job in reaped.requeued:
            log.warning("job re-queued: its worker stopped", extra={"job_id": str(job.id)})
            metrics.record_job_retry(job.queue)
            try:
                self._resend(job.queue, job.id)
            except Exception:
                log.exception("could not announce a re-queued job", extra={"job_id": str(job.id)})

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.beat()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)
        try:
            self._store.leave(self._runner.worker_id)
        except Exception:  # noqa: BLE001 - its row ages out; nothing depends on it
            log.warning("could not remove worker row", extra={"worker": self._runner.worker_id})


class EmbeddedDispatch:
    """The default with no broker: a few threads of this process run the jobs."""

    def __init__(self, runner: JobRunner, *, threads: int) -> None:
        self._runner = runner
        self._wakeups: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"job-worker-{n}", daemon=True)
            for n in range(threads)
        ]
        self._started = False
        self._lock = threading.Lock()

    def start(self, pending: list[uuid.UUID]) -> None:
        """Start the pool; jobs left pending by an earlier process are announced again."""
        with self._lock:
            if self._started:
                return
            self._started = True
            for thread in self._threads:
                thread.start()
        for _job_id in pending:
            self._wakeups.put("")

    def send(self, queue_name: str, job_id: uuid.UUID) -> None:
        self._wakeups.put(queue_name)

    def _work(self) -> None:
        while (wakeup := self._wakeups.get()) is not None:
            try:
                self._runner.drain()
            except Exception:
                log.exception("embedded job worker failed", extra={"queue": wakeup})

    def close(self) -> None:
        with self._lock:
            started = self._started
        for _thread in self._threads:
            self._wakeups.put(None)
        if started:
            for thread in self._threads:
                thread.join(timeout=30)
