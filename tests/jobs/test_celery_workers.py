"""The queue on real Celery workers over a real Redis, with PostgreSQL and SeaweedFS: a worker
killed mid-job, a broker that is down, cancelling, and fairness between users.

Jobs go to the fake Pollinations server (its wire format, a scripted delay), so a test can
catch a job while its provider works.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from core.config import Settings
from core.generation.status import Status
from core.jobs.model import Job
from core.jobs.queue import QueueUnavailable
from core.services import Services, start_services
from tests.jobs.conftest import new_user, rows, sketch
from tests.support.celery_workers import CeleryWorker, start_worker
from tests.support.fake_pollinations import FakePollinations, Reply
from tests.support.history import image_index_lines
from tests.support.image_hosts import ImageHosts, image_bytes
from tests.support.image_hosts import Reply as HostReply
from tests.support.ports import free_port

pytestmark = pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)

# A database of its own on the shared Redis, emptied before and after.
BROKER = "redis://127.0.0.1:6379/11"
SLOW = 4.0


@pytest.fixture
def broker() -> Iterator[str]:
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield BROKER
    client.flushdb()
    client.close()


@pytest.fixture
def pollinations() -> Iterator[FakePollinations]:
    fake = FakePollinations().start()
    yield fake
    fake.stop()


@pytest.fixture
def queue_settings(
    make_settings: Callable[..., Settings], broker: str, pollinations: FakePollinations
) -> Settings:
    return make_settings(
        celery_broker_url=broker,
        job_heartbeat_seconds=0.5,
        job_stale_after_seconds=3.0,
        image_pollinations_base_url=pollinations.base_url,
        image_pollinations_fetch_models=False,
        image_pollinations_retry_attempts=1,
        import_max_per_domain=1,
    )


@pytest.fixture
def app(queue_settings: Settings) -> Iterator[Services]:
    """The web side: it only queues (real clock, real broker)."""
    built = start_services(queue_settings)
    yield built
    built.close()


@pytest.fixture
def workers(
    app: Services, queue_settings: Settings, tmp_path: Path
) -> Iterator[Callable[[int], list[CeleryWorker]]]:
    started: list[CeleryWorker] = []

    def start(n: int) -> list[CeleryWorker]:
        for _ in range(n):
            expected = len(started) + 1
            started.append(
                start_worker(
                    tmp_path,
                    queue_settings,
                    f"w{len(started)}",
                    ready=lambda expected=expected: len(app.queue.counts().workers) >= expected,
                )
            )
        return started

    yield start
    for worker in started:
        worker.stop()


def _until(check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("the state did not come")
        time.sleep(0.05)
    return found


def _slow_image(app: Services, owner: uuid.UUID, prompt: str = "a slow kite") -> Job:
    [job] = app.jobs.submit_images(
        owner, sketch(prompt, provider="pollinations", model="flux", width=128, height=128)
    )
    return job


def _running(app: Services, owner: uuid.UUID, job: Job) -> Job | None:
    now = app.queue.get(owner, job.id)
    return now if now.state is Status.RUNNING else None


def test_a_job_whose_worker_is_killed_runs_again_and_is_kept_once(
    app: Services, workers: Callable[[int], list[CeleryWorker]], pollinations: FakePollinations
) -> None:
    pool = workers(2)
    owner = new_user(app)
    pollinations.reply_with(Reply(delay=SLOW))
    job = _slow_image(app, owner)
    running = _until(lambda: _running(app, owner, job))
    victim = next(w for w in pool if running.worker_id and f":{w.pid}:" in running.worker_id)
    pollinations.reply_with(Reply())

    victim.kill()
    [done] = app.queue.outcome(owner, [job.id], 60)

    assert done.state is Status.COMPLETED and done.attempts == 2
    assert done.worker_id != running.worker_id
    assert [line["id"] for line in image_index_lines(app, owner)] == [str(job.id)]
    assert [(row.id, row.status) for row in rows(app, owner)] == [(job.id, "completed")]
    assert app.gallery.open(owner, job.id).record["status"] == "completed"


def test_a_job_that_keeps_losing_its_worker_fails_with_the_reason(
    queue_settings: Settings,
    pollinations: FakePollinations,
    tmp_path: Path,
) -> None:
    settings = queue_settings.model_copy(update={"job_max_attempts": 1})
    app = start_services(settings)
    try:
        owner = new_user(app)
        worker = start_worker(
            tmp_path, settings, "only", ready=lambda: len(app.queue.counts().workers) >= 1
        )
        pollinations.reply_with(Reply(delay=SLOW))
        job = _slow_image(app, owner)
        _until(lambda: _running(app, owner, job))
        worker.kill()
        # Another worker notices the stale heartbeat.
        watcher = start_worker(
            tmp_path, settings, "watcher", ready=lambda: len(app.queue.counts().workers) >= 1
        )
        try:
            failed = app.queue.wait(owner, job.id, 30)
        finally:
            watcher.stop()
        assert failed.state is Status.FAILED
        assert failed.error and "stopped answering" in failed.error
        assert image_index_lines(app, owner) == []
    finally:
        app.close()


def test_a_broker_that_is_down_is_said_and_nothing_is_queued(
    make_settings: Callable[..., Settings],
) -> None:
    app = start_services(make_settings(celery_broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        owner = new_user(app)
        started = time.monotonic()
        with pytest.raises(QueueUnavailable, match="not answering, so nothing was queued"):
            app.jobs.submit_images(owner, sketch(), count=3)
        assert time.monotonic() - started < 2
        assert app.queue.listing(owner) == []
    finally:
        app.close()


def test_cancel_a_waiting_job_and_a_running_one(
    app: Services, workers: Callable[[int], list[CeleryWorker]], pollinations: FakePollinations
) -> None:
    workers(1)
    owner = new_user(app)
    pollinations.reply_with(Reply(delay=2.0))
    first = _slow_image(app, owner, "first")
    second = _slow_image(app, owner, "second")
    _until(lambda: _running(app, owner, first))
    # One worker slot: the second waits (its position says so) and is cancelled there.
    assert app.queue.get(owner, second.id).state is Status.PENDING

    assert app.queue.cancel(owner, second.id).state is Status.CANCELLED
    asked = app.queue.cancel(owner, first.id)

    assert asked.state is Status.RUNNING and asked.cancel_requested
    ended = app.queue.wait(owner, first.id, 30)
    assert ended.state is Status.CANCELLED
    assert app.queue.get(owner, second.id).started_at is None
    assert image_index_lines(app, owner) == [] and rows(app, owner) == []


def test_one_users_batch_does_not_hold_back_another_user(
    app: Services, workers: Callable[[int], list[CeleryWorker]], pollinations: FakePollinations
) -> None:
    workers(1)
    alice, bob = new_user(app), new_user(app)
    pollinations.reply_with(Reply(delay=0.3))
    order = sketch(provider="pollinations", model="flux", width=128, height=128)
    alices = [job for n in (8, 8, 4) for job in app.jobs.submit_images(alice, order, count=n)]
    _until(lambda: _running(app, alice, alices[0]))
    bobs = _slow_image(app, bob)

    [done] = app.queue.outcome(bob, [bobs.id], 60)
    assert done.started_at is not None
    # The slots that began after bob queued, up to and including his own.
    slots = sorted(
        (job.started_at, job.owner_id)
        for job in app.queue.listing(None, limit=100)
        if job.started_at is not None and bobs.created_at < job.started_at <= done.started_at
    )

    assert [owner for _at, owner in slots][-1] == bob
    assert len(slots) <= 2, slots


def test_an_import_whose_worker_is_killed_finishes_elsewhere_keeping_each_image_once(
    app: Services, workers: Callable[[int], list[CeleryWorker]]
) -> None:
    pool = workers(2)
    owner = new_user(app)
    with ImageHosts(1) as hosts:
        for n in range(12):
            body = image_bytes("PNG", 10, 10 + n)
            hosts.script(f"/p{n}.png", HostReply(body=body, content_type="image/png", delay=0.3))
        job = app.imports.submit_urls(owner, [hosts.url(0, f"/p{n}.png") for n in range(12)])
        running = _until(
            lambda: (
                (found := app.queue.get(owner, job.id)).state is Status.RUNNING
                and (found.summary or {}).get("done", 0) >= 3
                and found
            )
        )
        victim = next(w for w in pool if running.worker_id and f":{w.pid}:" in running.worker_id)

        victim.kill()
        done = app.queue.wait(owner, job.id, 60)

    assert done.state is Status.COMPLETED and done.attempts == 2, done
    assert (done.summary or {})["downloaded"] == 12
    lines = [line["id"] for line in image_index_lines(app, owner)]
    assert sorted(lines) == sorted(map(str, done.generation_ids)) and len(lines) == 12
    assert len(rows(app, owner)) == 12
