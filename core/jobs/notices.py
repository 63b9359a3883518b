"""Telling waiters that a job ended: in process, and across processes with PostgreSQL's
LISTEN/NOTIFY.

A worker's statement that ends a job also sends `NOTIFY` (delivered at commit) with the job as
it ended (core/jobs/store.py); each web process keeps one listening connection and wakes its
waiters, which take their job's end from the notice instead of reading the row again. So a
synchronous API call learns of its job's end in about a millisecond without polling the table.
A notice that carries only an id (a cancel, an end too long to tell) makes them read it.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.generation.status import Status
from core.jobs.model import FINISHED, Job, JobEnd

log = logging.getLogger(__name__)

CHANNEL = "atelier_job_finished"
# PostgreSQL refuses a notice payload of 8000 bytes or more.
NOTICE_LIMIT_BYTES = 7900
_RECONNECT_SECONDS = 1.0
# A waiter looks for its job's end as soon as it is woken: the latest few hundred ends cover
# every one told between a wake-up and that look.
_ENDS_KEPT = 512


class FinishedJobs:
    """Wakes this process's waiters when a job ends: told by its own workers (the embedded
    pool) and, on PostgreSQL, by every process's (core/jobs/notices.py)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._ends = 0
        self._how: OrderedDict[uuid.UUID, JobEnd] = OrderedDict()

    def announce(self, job: Job | None = None) -> None:
        """A job ended: `job` as it ended, if known, so that its waiters need not read it."""
        self.tell(None if job is None else JobEnd.of(job))

    def tell(self, end: JobEnd | None) -> None:
        with self._condition:
            if end is not None and end.state in FINISHED:
                self._how[end.id] = end
                self._how.move_to_end(end.id)
                if len(self._how) > _ENDS_KEPT:
                    self._how.popitem(last=False)
            self._ends += 1
            self._condition.notify_all()

    def end_of(self, job_id: uuid.UUID) -> JobEnd | None:
        """How the job ended, if this process was told (and still remembers)."""
        with self._condition:
            return self._how.get(job_id)

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
    """Inside the transaction that ends the job: listeners hear of it once it commits, and
    read the job to see how."""
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
                        for notice in connection.notifies(timeout=_RECONNECT_SECONDS):
                            self._finished.tell(read_notice(notice.payload))
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


def read_notice(payload: str) -> JobEnd | None:
    """The end a worker's notice tells, or None for a bare id (the waiters then read it)."""
    if not payload.startswith("{"):
        return None
    try:
        row = json.loads(payload)
        return JobEnd(
            id=uuid.UUID(row["id"]),
            state=Status(row["state"]),
            progress=float(row["progress"]),
            progress_message=row["progress_message"],
            attempts=int(row["attempts"]),
            cancel_requested=bool(row["cancel_requested"]),
            error=row["error"],
            generation_ids=tuple(uuid.UUID(g) for g in row["generation_ids"] or ()),
            started_at=_moment(row["started_at"]),
            finished_at=_moment(row["finished_at"]),
            worker_id=row["worker_id"],
            heartbeat_at=_moment(row["heartbeat_at"]),
            summary=row["summary"],
        )
    except (ValueError, KeyError, TypeError):
        # A notice this version cannot read still wakes the waiters, who read their jobs.
        log.warning("unreadable job notice", extra={"payload": payload[:200]})
        return None


def _moment(value: str | None) -> datetime | None:
    # PostgreSQL writes them in the session's time zone; the rows give UTC.
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)
