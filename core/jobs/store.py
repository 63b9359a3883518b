"""The `jobs` table: every change of a job's state is a compare-and-set on its row.

Several web replicas and workers share the table, so nothing here relies on a process lock: an
update names the states (and the worker) it expects and checks how many rows it changed.

A deleted account's import jobs stay without an owner, for their counts in Analytics
(core/account_deletion.py): no reader here finds them, and nobody can act on them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core.errors import NotFound
from core.generation.status import Status
from core.jobs.model import ACTIVE, Job, JobKind, NewJob, QueueCounts, WorkerInfo
from core.jobs.notices import notify_finished
from storage.db import reading, transaction
from storage.models import Job as JobRow
from storage.models import JobWorker

# Any fixed number: claims take this PostgreSQL advisory lock so two workers never both pick
# the same owner past its cap. SQLite's BEGIN IMMEDIATE already serialises them.
_CLAIM_LOCK = 0x6A6F6273
_GONE = "The worker running this job stopped answering"
_ROUND_ROBIN_MEMORY = timedelta(hours=1)


@dataclass(frozen=True)
class Fairness:
    # Jobs one owner may have running at once; 0 means no cap.
    running_per_owner: int


@dataclass(frozen=True)
class Reaped:
    requeued: tuple[Job, ...]
    failed: int
    cancelled: int


class JobStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        *,
        fairness: Fairness,
        stale_after_seconds: float,
        max_attempts: int,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._fairness = fairness
        self._stale_after = timedelta(seconds=stale_after_seconds)
        self._max_attempts = max_attempts

    # --- owners ---

    def add(self, owner_id: uuid.UUID, jobs: Sequence[NewJob]) -> list[Job]:
        now = self._now()
        rows = [
            JobRow(
                id=job.id,
                owner_id=owner_id,
                kind=job.kind.value,
                queue=job.queue,
                request=job.request,
                state=Status.PENDING.value,
                progress=0.0,
                progress_message="Waiting for a worker…",
                attempts=0,
                cancel_requested=False,
                generation_ids=[],
                created_at=now,
            )
            for job in jobs
        ]
        with transaction(self._sessions) as db:
            db.add_all(rows)
        return [_job(row) for row in rows]

    def remove_pending(self, job_ids: Iterable[uuid.UUID]) -> None:
        """Take back queued jobs the broker refused to announce; any a worker already took
        (announced before the broker failed) stay and finish."""
        with transaction(self._sessions) as db:
            db.execute(
                delete(JobRow).where(
                    JobRow.id.in_(list(job_ids)), JobRow.state == Status.PENDING.value
                )
            )

    def get(self, job_id: uuid.UUID, *, placed: bool = True) -> Job | None:
        """The job; with its queue position while pending unless `placed` is False."""
        with reading(self._sessions) as db:
            row = db.get(JobRow, job_id)
            if row is None or row.owner_id is None:
                return None
            return self._with_position(db, _job(row)) if placed else _job(row)

    def owned(self, owner_id: uuid.UUID | None, job_id: uuid.UUID, *, placed: bool = True) -> Job:
        """The job if `owner_id` owns it (None: anyone's, for admins); NotFound otherwise."""
        job = self.get(job_id, placed=placed)
        if job is None or (owner_id is not None and job.owner_id != owner_id):
            raise NotFound("That job does not exist or is not yours.")
        return job

    def listing(
        self,
        owner_id: uuid.UUID | None,
        *,
        states: Sequence[Status] = (),
        kinds: Sequence[JobKind] = (),
        limit: int = 50,
    ) -> list[Job]:
        """Newest first; `owner_id` None lists everyone's."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
        if owner_id is not None:
            query = query.where(JobRow.owner_id == owner_id)
        else:
            query = query.where(JobRow.owner_id.is_not(None))
        if states:
            query = query.where(JobRow.state.in_([s.value for s in states]))
        if kinds:
            query = query.where(JobRow.kind.in_([k.value for k in kinds]))
        with reading(self._sessions) as db:
            jobs = [_job(row) for row in db.scalars(query)]
            return self._with_positions(db, jobs)

    def in_flight(self, owner_id: uuid.UUID, kind: JobKind) -> int:
        """Jobs queued or running: admitted already, not counted in the usage events yet."""
        with reading(self._sessions) as db:
            return int(
                db.scalar(
                    select(func.count()).where(
                        JobRow.owner_id == owner_id,
                        JobRow.kind == kind.value,
                        JobRow.state.in_([s.value for s in ACTIVE]),
                    )
                )
                or 0
            )

    def request_cancel(self, owner_id: uuid.UUID | None, job_id: uuid.UUID) -> Job:
        """A pending job is cancelled at once; a running one stops at its next boundary."""
        self.owned(owner_id, job_id)
        now = self._now()
        with transaction(self._sessions) as db:
            ended = db.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == Status.PENDING.value)
                .values(
                    state=Status.CANCELLED.value,
                    cancel_requested=True,
                    finished_at=now,
                    progress_message="Cancelled before it started.",
                )
            )
            if ended.rowcount:  # type: ignore[attr-defined]
                notify_finished(db, job_id)
            db.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == Status.RUNNING.value)
                .values(cancel_requested=True, progress_message="Cancelling…")
            )
        return self.owned(owner_id, job_id)

    # --- workers ---

    def claim(
        self, queues: Sequence[str], worker_id: str, *, look_first: bool = True
    ) -> Job | None:
        """Take the fairest pending job in `queues`: among owners under their cap, the one
        with the fewest jobs running, then the one served longest ago; its oldest job.

        `look_first`: when nothing may be waiting (a worker looks again after every job),
        one indexed read answers without taking the claim lock."""
        if look_first and not self._any_waiting(queues):
            return None
        with transaction(self._sessions) as db:
            if db.get_bind().dialect.name == "postgresql":
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
            owner = self._fairest_owner(db, queues)
            if owner is None:
                return None
            oldest_of_owner = (
                select(JobRow.id)
                .where(
                    JobRow.owner_id == owner,
                    JobRow.state == Status.PENDING.value,
                    JobRow.queue.in_(queues),
                )
                .order_by(JobRow.created_at, JobRow.id)
                .limit(1)
                .scalar_subquery()
            )
            now = self._now()
            # One statement that picks and takes the job (the claim lock is held).
            row = db.scalars(
                update(JobRow)
                .where(JobRow.id == oldest_of_owner)
                .values(
                    state=Status.RUNNING.value,
                    worker_id=worker_id,
                    attempts=JobRow.attempts + 1,
                    started_at=func.coalesce(JobRow.started_at, now),
                    claimed_at=now,
                    heartbeat_at=now,
                    progress_message="Starting…",
                )
                .returning(JobRow)
            ).one()
            return _job(row)

    def _any_waiting(self, queues: Sequence[str]) -> bool:
        with reading(self._sessions) as db:
            return (
                db.scalar(
                    select(JobRow.id)
                    .where(JobRow.state == Status.PENDING.value, JobRow.queue.in_(queues))
                    .limit(1)
                )
                is not None
            )

    def _fairest_owner(self, db: Session, queues: Sequence[str]) -> uuid.UUID | None:
        # One statement for every waiting owner: their oldest waiting job, how many they have
        # running, and their latest claim (recent ones only: an index range per owner however
        # long their history; an owner not served within the window counts as never served).
        waiting_here = and_(JobRow.state == Status.PENDING.value, JobRow.queue.in_(queues))
        running_now = JobRow.state == Status.RUNNING.value
        served_lately = JobRow.claimed_at >= self._now() - _ROUND_ROBIN_MEMORY
        owners = db.execute(
            select(
                JobRow.owner_id,
                func.min(JobRow.created_at).filter(waiting_here),
                func.count().filter(running_now),
                func.max(JobRow.claimed_at).filter(served_lately),
            )
            .where(
                JobRow.owner_id.in_(select(JobRow.owner_id).where(waiting_here).distinct()),
                or_(waiting_here, running_now, served_lately),
            )
            .group_by(JobRow.owner_id)
        ).all()
        cap = self._fairness.running_per_owner
        eligible = [
            (running, served, oldest, owner)
            for owner, oldest, running, served in owners
            if oldest is not None and (not cap or running < cap)
        ]
        if not eligible:
            return None
        never = datetime.min.replace(tzinfo=UTC)
        return min(eligible, key=lambda o: (o[0], o[1] or never, o[2], str(o[3])))[3]

    def report(
        self,
        job: Job,
        worker_id: str,
        fraction: float,
        message: str,
        summary: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "progress": max(0.0, min(1.0, fraction)),
            "progress_message": message[:200],
        }
        if summary is not None:
            values["summary"] = summary
        with transaction(self._sessions) as db:
            db.execute(update(JobRow).where(*_held_by(job, worker_id)).values(**values))

    def cancel_requested(self, job_id: uuid.UUID) -> bool:
        with reading(self._sessions) as db:
            return bool(db.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def finish(
        self,
        job: Job,
        worker_id: str,
        state: Status,
        *,
        message: str,
        error: str | None = None,
        generation_ids: Sequence[uuid.UUID] = (),
        summary: dict[str, Any] | None = None,
    ) -> bool:
        """End an attempt; False when the job was no longer this attempt's (it was re-queued
        after its heartbeat went stale, and another worker owns it now)."""
        values: dict[str, Any] = {
            "state": state.value,
            "finished_at": self._now(),
            "error": error,
            "progress_message": message[:200],
            "generation_ids": [str(g) for g in generation_ids],
        }
        if summary is not None:
            values["summary"] = summary
        if state is Status.COMPLETED:
            values["progress"] = 1.0
        with transaction(self._sessions) as db:
            changed = db.execute(update(JobRow).where(*_held_by(job, worker_id)).values(**values))
            if changed.rowcount:  # type: ignore[attr-defined]
                notify_finished(db, job.id)
            return bool(changed.rowcount)  # type: ignore[attr-defined]

    def heartbeat(self, worker_id: str, queues: Sequence[str], engines: Sequence[str]) -> None:
        """Say this worker and its running jobs are alive."""
        now = self._now()
        with transaction(self._sessions) as db:
            db.execute(
                update(JobRow)
                .where(JobRow.worker_id == worker_id, JobRow.state == Status.RUNNING.value)
                .values(heartbeat_at=now)
            )
            worker = db.get(JobWorker, worker_id) or JobWorker(id=worker_id, started_at=now)
            worker.queues = list(queues)
            worker.engines = list(engines)
            worker.seen_at = now
            db.add(worker)

    def leave(self, worker_id: str) -> None:
        with transaction(self._sessions) as db:
            db.execute(delete(JobWorker).where(JobWorker.id == worker_id))

    def reap(self) -> Reaped:
        """Jobs whose worker stopped beating: run again, or failed after `max_attempts`, or
        cancelled if their owner asked. Safe to run from every worker at once."""
        now = self._now()
        cutoff = now - self._stale_after
        stale = (JobRow.state == Status.RUNNING.value, JobRow.heartbeat_at < cutoff)
        with transaction(self._sessions) as db:
            cancelled = db.execute(
                update(JobRow)
                .where(*stale, JobRow.cancel_requested.is_(True))
                .values(
                    state=Status.CANCELLED.value,
                    finished_at=now,
                    progress_message="Cancelled; its worker had stopped.",
                )
            ).rowcount  # type: ignore[attr-defined]
            failed = db.execute(
                update(JobRow)
                .where(*stale, JobRow.attempts >= self._max_attempts)
                .values(
                    state=Status.FAILED.value,
                    finished_at=now,
                    error=f"{_GONE} {self._max_attempts} times, so it was given up. "
                    "Try it again; if it keeps failing, tell an administrator.",
                    progress_message="Failed.",
                )
            ).rowcount  # type: ignore[attr-defined]
            ids = list(db.scalars(select(JobRow.id).where(*stale)))
            if ids:
                db.execute(
                    update(JobRow)
                    .where(JobRow.id.in_(ids), *stale)
                    .values(
                        state=Status.PENDING.value,
                        worker_id=None,
                        progress=0.0,
                        progress_message=f"{_GONE}; waiting to run again…",
                    )
                )
            requeued = [_job(row) for row in db.scalars(select(JobRow).where(JobRow.id.in_(ids)))]
            # Workers that stopped beating no longer show among the live ones.
            db.execute(delete(JobWorker).where(JobWorker.seen_at < cutoff))
        return Reaped(tuple(requeued), int(failed or 0), int(cancelled or 0))

    def pending(self, queues: Sequence[str]) -> list[Job]:
        with reading(self._sessions) as db:
            rows = db.scalars(
                select(JobRow)
                .where(JobRow.state == Status.PENDING.value, JobRow.queue.in_(queues))
                .order_by(JobRow.created_at)
            )
            return [_job(row) for row in rows]

    def depth(self) -> dict[tuple[str, Status], int]:
        """Jobs waiting and running per queue: an index range, however long the history."""
        with reading(self._sessions) as db:
            return self._by_state(db, ACTIVE)

    def counts(self) -> QueueCounts:
        with reading(self._sessions) as db:
            by_state = self._by_state(db, tuple(Status))
            running = dict(
                db.execute(
                    select(JobRow.worker_id, func.count())
                    .where(JobRow.state == Status.RUNNING.value)
                    .group_by(JobRow.worker_id)
                ).all()
            )
            workers = tuple(
                WorkerInfo(
                    id=w.id,
                    queues=tuple(w.queues),
                    engines=tuple(w.engines),
                    started_at=w.started_at,
                    seen_at=w.seen_at,
                    running=int(running.get(w.id, 0)),
                )
                for w in db.scalars(select(JobWorker).order_by(JobWorker.id))
            )
        return QueueCounts(by_state, workers)

    def _by_state(self, db: Session, states: Sequence[Status]) -> dict[tuple[str, Status], int]:
        return {
            (queue, Status(state)): int(n)
            for queue, state, n in db.execute(
                select(JobRow.queue, JobRow.state, func.count())
                .where(JobRow.state.in_([s.value for s in states]))
                .group_by(JobRow.queue, JobRow.state)
            ).all()
        }

    # --- positions ---

    def _with_position(self, db: Session, job: Job) -> Job:
        return self._with_positions(db, [job])[0]

    def _with_positions(self, db: Session, jobs: list[Job]) -> list[Job]:
        """Estimate each pending job's place under the round robin: the owner's older jobs,
        and from every other waiting owner one job per round before this one's round, plus
        one in this round if that owner has waited longer."""
        pending = [j for j in jobs if j.state is Status.PENDING]
        if not pending:
            return jobs
        # Keyed by owner as the column types it; no job without one is ever pending.
        waiting: dict[tuple[str, uuid.UUID | None], list[tuple[datetime, uuid.UUID]]] = {}
        for owner, queue, created, job_id in db.execute(
            select(JobRow.owner_id, JobRow.queue, JobRow.created_at, JobRow.id).where(
                JobRow.state == Status.PENDING.value,
                JobRow.queue.in_({j.queue for j in pending}),
            )
        ):
            waiting.setdefault((queue, owner), []).append((created, job_id))
        for line in waiting.values():
            line.sort()
        placed = {}
        for job in pending:
            mine = waiting.get((job.queue, job.owner_id), [])
            rank = next((i for i, (_at, job_id) in enumerate(mine) if job_id == job.id), 0)
            oldest_mine = mine[0][0] if mine else job.created_at
            ahead = rank
            for (queue, owner), line in waiting.items():
                if queue != job.queue or owner == job.owner_id:
                    continue
                ahead += min(len(line), rank) + (len(line) > rank and line[0][0] < oldest_mine)
            placed[job.id] = ahead
        return [replace(j, position=placed[j.id]) if j.id in placed else j for j in jobs]


def _held_by(job: Job, worker_id: str) -> tuple[Any, ...]:
    return (
        JobRow.id == job.id,
        JobRow.state == Status.RUNNING.value,
        JobRow.worker_id == worker_id,
        JobRow.attempts == job.attempts,
    )


def _job(row: JobRow) -> Job:
    if row.owner_id is None:
        # Only a deleted account's imports have none, and every reader here leaves them out.
        raise LookupError(f"job {row.id} belongs to a deleted account")
    return Job(
        id=row.id,
        owner_id=row.owner_id,
        kind=JobKind(row.kind),
        queue=row.queue,
        request=row.request,
        state=Status(row.state),
        progress=row.progress,
        progress_message=row.progress_message,
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        error=row.error,
        generation_ids=tuple(uuid.UUID(g) for g in row.generation_ids or ()),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        worker_id=row.worker_id,
        heartbeat_at=row.heartbeat_at,
        summary=row.summary,
    )
