"""Telling waiters that a job ended: in process, and across processes with PostgreSQL's
LISTEN/NOTIFY.

A worker's transaction that ends a job also sends `NOTIFY` (delivered at commit); each web
process keeps one listening connection and wakes its waiters, which then read their job. So a
synchronous API call learns of its job's end in about a millisecond without polling the table.
"""

from __future__ import annotations

import logging
import threading
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.jobs.model import Job

log = logging.getLogger(__name__)

CHANNEL = "atelier_job_finished"
_RECONNECT_SECONDS = 1.0


class FinishedJobs:
    """Wakes this process's waiters when a job ends: told by its own workers (the embedded
    pool) and, on PostgreSQL, by every process's (core/jobs/notices.py)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._ends = 0

    def announce(self, _job: Job | None = None) -> None:
        with self._condition:
            self._ends += 1
            self._condition.notify_all()

    def mark(self) -> int:
        """Taken before a waiter reads its job: `wait(since=mark)` then returns at once for an
        end announced between that read and the wait, instead of sleeping through it."""
        with self._condition:
            return self._ends

    def wait(self, since: int, seconds: float) -> bool:
        """Whether a job ended since `since` (False: the time ran out first)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._ends != since, seconds)


def notify_finished(db: Session, job_id: uuid.UUID) -> None:
    """Inside the transaction that ends the job: listeners hear of it once it commits."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT pg_notify(:channel, :job)"), {"channel": CHANNEL, "job": str(job_id)}
        )


class PostgresNotices:
    def __init__(self, database_url: str, finished: FinishedJobs) -> None:
        # psycopg's own URL, without SQLAlchemy's "+psycopg" driver suffix.
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self._finished = finished
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen from now on (idempotent): started by the first waiter, not by every process."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name="job-notices", daemon=True
                )
                self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _notice in connection.notifies(timeout=_RECONNECT_SECONDS):
                            self._finished.announce()
            except psycopg.Error:
                # Waiters still poll, slowly, meanwhile.
                log.warning("job notices lost their connection; listening again")
                self._stop.wait(_RECONNECT_SECONDS)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=_RECONNECT_SECONDS * 3)
