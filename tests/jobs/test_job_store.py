"""The jobs table's rules, on both backends: fair claims, compare-and-set endings, stale
workers. The queue here is one no worker listens to, so the test alone moves the jobs."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from core.generation.status import Status
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.store import JobStore
from core.services import Services
from storage.models import Job as JobRow
from tests.jobs.conftest import new_user
from tests.support.clock import FakeClock

QUEUE = "test-only"


def _queue_jobs(store: JobStore, owner: uuid.UUID, n: int, clock: FakeClock) -> list[Job]:
    made = []
    for _ in range(n):
        made += store.add(owner, [NewJob(JobKind.IMAGE, QUEUE, {"n": len(made)}, uuid.uuid4())])
        clock.advance(seconds=1)
    return made


def _claim(store: JobStore, worker: str = "w1") -> Job:
    job = store.claim([QUEUE], worker)
    assert job is not None
    return job


def test_one_users_batch_does_not_hold_back_another_user(
    services: Services, clock: FakeClock
) -> None:
    store = services.queue.store
    alice, bob = new_user(services), new_user(services)
    _queue_jobs(store, alice, 20, clock)
    [bobs] = _queue_jobs(store, bob, 1, clock)

    first, second = _claim(store, "w1"), _claim(store, "w2")

    assert first.owner_id == alice
    assert second.id == bobs.id


def test_round_robin_between_three_users(services: Services, clock: FakeClock) -> None:
    store = services.queue.store
    users = [new_user(services) for _ in range(3)]
    for user in users:
        _queue_jobs(store, user, 4, clock)

    order = []
    for _ in range(6):
        job = _claim(store)
        order.append(users.index(job.owner_id))
        assert store.finish(job, "w1", Status.COMPLETED, message="Done.")
        clock.advance(seconds=1)

    assert order == [0, 1, 2, 0, 1, 2]


def test_a_user_at_the_running_cap_waits(services: Services, clock: FakeClock) -> None:
    store = services.queue.store  # JOB_RUNNING_PER_USER is 2
    alice = new_user(services)
    _queue_jobs(store, alice, 3, clock)

    _claim(store), _claim(store)

    assert store.claim([QUEUE], "w3") is None


def test_the_position_counts_the_round_robin(services: Services, clock: FakeClock) -> None:
    store = services.queue.store
    alice, bob = new_user(services), new_user(services)
    alices = _queue_jobs(store, alice, 5, clock)
    [bobs] = _queue_jobs(store, bob, 1, clock)

    assert store.owned(bob, bobs.id).position == 1  # alice's first, then bob
    assert store.owned(alice, alices[0].id).position == 0
    assert store.owned(alice, alices[3].id).position == 4  # three of hers, and bob's


def test_an_ending_is_refused_to_a_worker_that_lost_the_job(
    services: Services, clock: FakeClock
) -> None:
    store = services.queue.store
    alice = new_user(services)
    _queue_jobs(store, alice, 1, clock)
    lost = _claim(store, "w1")
    clock.advance(seconds=store_stale_seconds(services) + 1)
    assert [j.id for j in store.reap().requeued] == [lost.id]
    again = _claim(store, "w2")

    assert not store.finish(lost, "w1", Status.COMPLETED, message="Done.")
    assert store.finish(again, "w2", Status.COMPLETED, message="Done.")
    assert again.attempts == 2 and again.started_at == lost.started_at


def test_a_stale_job_is_given_up_after_its_attempts(services: Services, clock: FakeClock) -> None:
    store = services.queue.store  # JOB_MAX_ATTEMPTS is 3
    alice = new_user(services)
    [job] = _queue_jobs(store, alice, 1, clock)
    for attempt in range(3):
        _claim(store, f"w{attempt}")
        clock.advance(seconds=store_stale_seconds(services) + 1)
        reaped = store.reap()

    assert reaped.failed == 1 and reaped.requeued == ()
    failed = store.owned(alice, job.id)
    assert failed.state is Status.FAILED
    assert failed.error and "stopped answering 3 times" in failed.error


def test_a_live_worker_keeps_its_job(services: Services, clock: FakeClock) -> None:
    store = services.queue.store
    alice = new_user(services)
    _queue_jobs(store, alice, 1, clock)
    job = _claim(store, "w1")
    for _ in range(3):
        clock.advance(seconds=store_stale_seconds(services) - 1)
        store.heartbeat("w1", [QUEUE], ["sketch"])
        assert store.reap().requeued == ()

    assert store.owned(alice, job.id).state is Status.RUNNING
    [worker] = [w for w in store.counts().workers if w.id == "w1"]
    assert worker.running == 1 and worker.engines == ("sketch",)


def test_cancelling_a_pending_job_ends_it_and_a_running_one_asks_it_to_stop(
    services: Services, clock: FakeClock
) -> None:
    store = services.queue.store
    alice = new_user(services)
    first, second = _queue_jobs(store, alice, 2, clock)
    running = _claim(store)
    assert running.id == first.id

    assert store.request_cancel(alice, second.id).state is Status.CANCELLED
    asked = store.request_cancel(alice, first.id)

    assert asked.state is Status.RUNNING and asked.cancel_requested
    assert store.cancel_requested(first.id)
    assert store.claim([QUEUE], "w2") is None  # the cancelled one never starts


def test_a_stale_job_whose_owner_cancelled_ends_cancelled(
    services: Services, clock: FakeClock
) -> None:
    store = services.queue.store
    alice = new_user(services)
    [job] = _queue_jobs(store, alice, 1, clock)
    _claim(store)
    store.request_cancel(alice, job.id)
    clock.advance(seconds=store_stale_seconds(services) + 1)

    assert store.reap().cancelled == 1
    assert store.owned(alice, job.id).state is Status.CANCELLED


def store_stale_seconds(services: Services) -> float:
    return services.settings.job_stale_after_seconds


def test_an_import_whose_account_was_deleted_while_it_ran_still_ends(
    services: Services, clock: FakeClock
) -> None:
    # Deleting an account lets go of its imports (owner NULL) even while one is running: its
    # worker must still be able to end it, or it would stay running for ever.
    store = services.queue.store
    owner = new_user(services)
    store.add(owner, [NewJob(JobKind.IMPORT, QUEUE, {}, uuid.uuid4())])
    job = _claim(store)
    with services.db() as db, db.begin():
        db.execute(
            update(JobRow).where(JobRow.id == job.id).values(owner_id=None, summary={"done": 1})
        )

    ended = store.finish(job, "w1", Status.CANCELLED, message="Cancelled.")

    assert ended is not None and ended.state is Status.CANCELLED
    with services.db() as db:
        assert db.scalars(select(JobRow.state).where(JobRow.id == job.id)).one() == "cancelled"
