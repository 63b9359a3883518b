"""On PostgreSQL the statement that ends a job also tells the waiters how it ended, so they
need not read the row again: what the notice says must be what the row says."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from core.generation.status import Status
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.notices import CHANNEL, read_notice
from core.services import Services
from tests.jobs.conftest import new_user
from tests.support.clock import FakeClock

pytestmark = pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)

QUEUE = "test-only"


@pytest.fixture
def notices(services: Services) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    dsn = make_url(services.settings.resolved_database_url).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(False), autocommit=True) as connection:
        connection.execute(f"LISTEN {CHANNEL}")
        yield connection


def _running(services: Services, clock: FakeClock) -> Job:
    store = services.queue.store
    store.add(new_user(services), [NewJob(JobKind.IMAGE, QUEUE, {"n": 1}, uuid.uuid4())])
    clock.advance(seconds=2)
    job = store.claim([QUEUE], "w1")
    assert job is not None
    clock.advance(seconds=1)
    return job


def _payload(connection: psycopg.Connection[tuple[object, ...]]) -> str:
    for notice in connection.notifies(timeout=10, stop_after=1):
        return notice.payload
    raise AssertionError("no notice came")


def test_the_notice_of_an_end_is_the_row_as_it_ended(
    services: Services, clock: FakeClock, notices: psycopg.Connection[tuple[object, ...]]
) -> None:
    job = _running(services, clock)
    made = uuid.uuid4()

    ended = services.queue.store.finish(
        job, "w1", Status.COMPLETED, message="Done.", generation_ids=[made], summary={"a": 1}
    )

    assert ended is not None
    assert ended.generation_ids == (made,) and ended.finished_at == clock()
    assert read_notice(_payload(notices)) == ended
    assert services.queue.store.get(job.id) == ended.on(job)


def test_an_end_too_long_to_tell_is_announced_by_its_id(
    services: Services, clock: FakeClock, notices: psycopg.Connection[tuple[object, ...]]
) -> None:
    job = _running(services, clock)

    ended = services.queue.store.finish(
        job, "w1", Status.FAILED, message="Failed.", error="no " * 4000
    )

    assert ended is not None and ended.error == "no " * 4000
    assert _payload(notices) == str(job.id)
