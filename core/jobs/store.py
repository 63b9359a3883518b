"""The `jobs` table: every change of a job's state is a compare-and-set on its row.

Several web replicas and workers share the table, so nothing here relies on a process lock: an
update names the states (and the worker) it expects and checks how many rows it changed.

A deleted account's import jobs stay without an owner, for their counts in Analytics
(core/account_deletion.py): no reader here finds them, and nobody can act on them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    Text,
    Update,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from core.errors import NotFound
from core.generation.status import Status
from core.jobs.model import ACTIVE, Job, JobEnd, JobKind, NewJob, QueueCounts, WorkerInfo
from core.jobs.notices import CHANNEL, NOTICE_LIMIT_BYTES, notify_finished
from storage.db import reading, reading_rows, transaction
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
        with sessions() as db:
            self._postgres = db.get_bind().dialect.name == "postgresql"
        # Built once (with bound parameters): building them took longer than running them.
        self._claiming = _claiming(fairness.running_per_owner)
        self._ending = _ending()
        # On PostgreSQL one statement ends the job and tells the waiters how it ended, so they
        # need not read it again; the notice goes out when the statement commits.
        ended = self._ending.returning(*JobRow.__table__.columns).cte("ended")
        self._ending_told = select(
            aliased(JobRow, ended), func.pg_notify(CHANNEL, _end_notice(ended))
        )

    @contextmanager
    def _alone(self, *, writes: bool) -> Iterator[Session]:
        """A session for one statement, or for reads that need no snapshot in common. On
        PostgreSQL it runs in autocommit: each statement is its own transaction (atomic, with
        its own snapshot, as under READ COMMITTED anyway), without the round trips of a BEGIN
        and a COMMIT or ROLLBACK around it. On SQLite, an ordinary transaction, or a read
        that does not queue behind writers."""
        if not self._postgres:
            with (transaction if writes else reading)(self._sessions) as db:
                yield db
            return
        with self._sessions() as db:
            db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield db

    # --- owners ---

    def add(self, owner_id: uuid.UUID, jobs: Sequence[NewJob]) -> list[Job]:
        now = self._now()
        added = [
            Job(
                id=job.id,
                owner_id=owner_id,
                kind=job.kind,
                queue=job.queue,
                request=job.request,
                state=Status.PENDING,
                progress=0.0,
                progress_message="Waiting for a worker…",
                attempts=0,
                cancel_requested=False,
                error=None,
                generation_ids=(),
                created_at=now,
                started_at=None,
                finished_at=None,
                worker_id=None,
                heartbeat_at=None,
            )
            for job in jobs
        ]
        # One multi-row INSERT, so a batch is queued all or none even in autocommit.
        with self._alone(writes=True) as db:
            db.execute(
                insert(JobRow).values(
                    [
                        {
                            "id": job.id,
                            "owner_id": owner_id,
                            "kind": job.kind.value,
                            "queue": job.queue,
                            "request": job.request,
                            "state": job.state.value,
                            "progress": job.progress,
                            "progress_message": job.progress_message,
                            "attempts": job.attempts,
                            "cancel_requested": job.cancel_requested,
                            "generation_ids": [],
                            "created_at": now,
                        }
                        for job in added
                    ]
                )
            )
        return added

    def remove_pending(self, job_ids: Iterable[uuid.UUID]) -> None:
        """Take back queued jobs the broker refused to announce; any a worker already took
        (announced before the broker failed) stay and finish."""
        with self._alone(writes=True) as db:
            db.execute(
                delete(JobRow).where(
                    JobRow.id.in_(list(job_ids)), JobRow.state == Status.PENDING.value
                )
            )

    def get(self, job_id: uuid.UUID, *, placed: bool = True) -> Job | None:
        """The job; with its queue position while pending unless `placed` is False."""
        with self._alone(writes=False) as db:
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
        """Newest first; `owner_id` None lists everyone's.

        Pages with job cards list on every run: the statement is built once per shape and
        read as plain rows, since building it and an ORM session cost more than the query."""
        query = _listing(owner_id is not None, bool(states), bool(kinds))
        parameters = {
            "owner_id": owner_id,
            "states": [s.value for s in states],
            "kinds": [k.value for k in kinds],
            "limit": limit,
        }
        with reading_rows(self._sessions) as db:
            jobs = [_job(row) for row in db.execute(query, parameters)]
            return self._with_positions(db, jobs)

    def in_flight(self, owner_id: uuid.UUID, kind: JobKind) -> int:
        """Jobs queued or running: admitted already, not counted in the usage events yet."""
        with self._alone(writes=False) as db:
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
        now = self._now()
        with transaction(self._sessions) as db:
            # Its own statement: under READ COMMITTED the next one's snapshot then sees every
            # claim committed before the lock was granted.
            if self._postgres:
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
            # One statement that picks and takes the job (the claim lock is held).
            row = db.scalars(
                self._claiming,
                {
                    "queues": list(queues),
                    "worker": worker_id,
                    "now": now,
                    "served_since": now - _ROUND_ROBIN_MEMORY,
                },
            ).one_or_none()
            return None if row is None else _job(row)

    def _any_waiting(self, queues: Sequence[str]) -> bool:
        with self._alone(writes=False) as db:
            return (
                db.scalar(
                    select(JobRow.id)
                    .where(JobRow.state == Status.PENDING.value, JobRow.queue.in_(queues))
                    .limit(1)
                )
                is not None
            )

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
        with self._alone(writes=True) as db:
            db.execute(update(JobRow).where(*_held_by(job, worker_id)).values(**values))

    def cancel_requested(self, job_id: uuid.UUID) -> bool:
        with self._alone(writes=False) as db:
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
    ) -> JobEnd | None:
        """End an attempt: how the job ended, or None when it was no longer this attempt's
        (it was re-queued after its heartbeat went stale, and another worker owns it now).
        An end, not a whole job: a deleted account's import still ends, without an owner."""
        params = {
            "job": job.id,
            "worker": worker_id,
            "attempt": job.attempts,
            "ended_as": state.value,
            "ended_at": self._now(),
            "reason": error,
            "message": message[:200],
            "made": [str(g) for g in generation_ids],
            "last_summary": summary,
            "keep_summary": summary is None,
        }
        with self._alone(writes=True) as db:
            if not self._postgres:
                row = db.scalars(self._ending.returning(JobRow), params).one_or_none()
            else:
                told = db.execute(self._ending_told, params).first()
                row = None if told is None else told[0]
            return None if row is None else _end(row)

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

    def _with_positions(self, db: Session | Connection, jobs: list[Job]) -> list[Job]:
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


def _claiming(cap: int) -> ReturningUpdate[JobRow]:
    """A claim (`claim`'s parameters), run under the claim lock: the fairest pending job's id
    as a subquery of the UPDATE that takes it, `cap` jobs running per owner at most (0: any).

    Every waiting owner's oldest waiting job, how many they have running, and their latest
    claim (recent ones only: an index range per owner however long their history; an
    owner not served within the window counts as never served) rank the owners; the
    first under their cap gives its oldest job."""
    waiting_here = and_(
        JobRow.state == Status.PENDING.value,
        JobRow.queue.in_(bindparam("queues", expanding=True)),
    )
    running_now = JobRow.state == Status.RUNNING.value
    served_lately = JobRow.claimed_at >= bindparam("served_since", type_=JobRow.claimed_at.type)
    running = func.count().filter(running_now)
    owners = (
        select(JobRow.owner_id)
        .where(
            JobRow.owner_id.in_(select(JobRow.owner_id).where(waiting_here).distinct()),
            or_(waiting_here, running_now, served_lately),
        )
        .group_by(JobRow.owner_id)
    )
    if cap:
        owners = owners.having(running < cap)
    fairest_owner = (
        owners.order_by(
            running,
            func.max(JobRow.claimed_at).filter(served_lately).nulls_first(),
            func.min(JobRow.created_at).filter(waiting_here),
            JobRow.owner_id,
        )
        .limit(1)
        .scalar_subquery()
    )
    fairest_job = (
        select(JobRow.id)
        .where(JobRow.owner_id == fairest_owner, waiting_here)
        .order_by(JobRow.created_at, JobRow.id)
        .limit(1)
        .scalar_subquery()
    )
    now = bindparam("now", type_=JobRow.claimed_at.type)
    return (
        update(JobRow)
        # The state again: a cancel committed while this waited for the row is seen by
        # PostgreSQL's re-check of the WHERE clause, not by the subquery.
        .where(JobRow.id == fairest_job, JobRow.state == Status.PENDING.value)
        .values(
            state=Status.RUNNING.value,
            worker_id=bindparam("worker"),
            attempts=JobRow.attempts + 1,
            started_at=func.coalesce(JobRow.started_at, now),
            claimed_at=now,
            heartbeat_at=now,
            progress_message="Starting…",
        )
        .returning(JobRow)
    )


def _ending() -> Update:
    """An attempt's end (`finish`'s parameters): a compare-and-set naming the attempt. The
    parameters are not named after columns: an UPDATE would also set the columns so named."""
    return (
        update(JobRow)
        .where(
            JobRow.id == bindparam("job"),
            JobRow.state == Status.RUNNING.value,
            JobRow.worker_id == bindparam("worker"),
            JobRow.attempts == bindparam("attempt"),
        )
        .values(
            state=bindparam("ended_as"),
            finished_at=bindparam("ended_at", type_=JobRow.finished_at.type),
            error=bindparam("reason", type_=JobRow.error.type),
            progress_message=bindparam("message"),
            generation_ids=bindparam("made", type_=JobRow.generation_ids.type),
            summary=case(
                (bindparam("keep_summary"), JobRow.summary),
                else_=bindparam("last_summary", type_=JobRow.summary.type),
            ),
            progress=case(
                (bindparam("ended_as") == Status.COMPLETED.value, 1.0), else_=JobRow.progress
            ),
        )
    )


def _end_notice(ended: CTE) -> ColumnElement[str]:
    """The ended row as JSON without its request (the waiter has read that already), or just
    its id if that is too long for a notice."""
    whole = cast(func.to_jsonb(ended.table_valued()).op("-")(literal("request")), Text)
    return case(
        (func.octet_length(whole) <= NOTICE_LIMIT_BYTES, whole), else_=cast(ended.c.id, Text)
    )


def _held_by(job: Job, worker_id: str) -> tuple[Any, ...]:
    return (
        JobRow.id == job.id,
        JobRow.state == Status.RUNNING.value,
        JobRow.worker_id == worker_id,
        JobRow.attempts == job.attempts,
    )


@functools.cache
def _listing(by_owner: bool, by_state: bool, by_kind: bool) -> Select[Any]:
    """`JobStore.listing`'s statement, its values as parameters."""
    query = (
        select(JobRow.__table__)
        .order_by(JobRow.created_at.desc(), JobRow.id.desc())
        .limit(bindparam("limit"))
    )
    if by_owner:
        query = query.where(JobRow.owner_id == bindparam("owner_id"))
    else:
        query = query.where(JobRow.owner_id.is_not(None))
    if by_state:
        query = query.where(JobRow.state.in_(bindparam("states", expanding=True)))
    if by_kind:
        query = query.where(JobRow.kind.in_(bindparam("kinds", expanding=True)))
    return query


def _job(row: JobRow | Row[Any]) -> Job:
    if row.owner_id is None:
        # Only a deleted account's imports have none, and every reader here leaves them out.
        raise LookupError(f"job {row.id} belongs to a deleted account")
    return Job(
        owner_id=row.owner_id,
        kind=JobKind(row.kind),
        queue=row.queue,
        request=row.request,
        created_at=row.created_at,
        **_end(row).values(),
    )


def _end(row: JobRow | Row[Any]) -> JobEnd:
    return JobEnd(
        id=row.id,
        state=Status(row.state),
        progress=row.progress,
        progress_message=row.progress_message,
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        error=row.error,
        generation_ids=tuple(uuid.UUID(g) for g in row.generation_ids or ()),
        started_at=row.started_at,
        finished_at=row.finished_at,
        worker_id=row.worker_id,
        heartbeat_at=row.heartbeat_at,
        summary=row.summary,
    )
