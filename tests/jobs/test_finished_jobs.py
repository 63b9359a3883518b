"""A waiter hears of every job end announced after it looked, even one that came before it
started waiting: missing it would leave a synchronous API call asleep for a whole poll. And
when it is told how the job ended, it has the job without reading it again."""

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from core.generation.status import Status
from core.jobs.model import Job, JobKind
from core.jobs.notices import FinishedJobs, read_notice


def test_an_end_announced_between_the_look_and_the_wait_is_not_missed() -> None:
    finished = FinishedJobs()
    seen = finished.mark()
    finished.announce()

    assert finished.wait(seen, 30.0) is True


def test_a_wait_with_nothing_announced_runs_out() -> None:
    finished = FinishedJobs()

    assert finished.wait(finished.mark(), 0.01) is False


def test_an_end_announced_while_waiting_wakes_the_waiter() -> None:
    finished = FinishedJobs()
    seen = finished.mark()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(finished.wait(seen, 30.0)))
    waiter.start()
    finished.announce()
    waiter.join()

    assert woken == [True]


def _ended(state: Status = Status.COMPLETED) -> Job:
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    return Job(
        id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        kind=JobKind.IMAGE,
        queue="cpu",
        request={"prompt": "a lighthouse"},
        state=state,
        progress=1.0,
        progress_message="Done.",
        attempts=1,
        cancel_requested=False,
        error=None,
        generation_ids=(uuid.uuid4(),),
        created_at=at,
        started_at=at,
        finished_at=at,
        worker_id="w1",
        heartbeat_at=at,
    )


def test_a_waiter_takes_a_told_end_on_the_job_it_read() -> None:
    finished = FinishedJobs()
    ended = _ended()
    read_before = replace(ended, state=Status.PENDING, progress=0.0, generation_ids=(), position=3)
    finished.announce(ended)

    end = finished.end_of(ended.id)

    assert end is not None
    assert end.on(read_before) == replace(ended, position=None)


def test_an_end_is_kept_only_for_a_finished_job() -> None:
    finished = FinishedJobs()
    running = _ended(Status.RUNNING)
    finished.announce(running)

    assert finished.end_of(running.id) is None


def test_a_notice_with_only_an_id_or_unreadable_tells_no_end_but_still_wakes() -> None:
    finished = FinishedJobs()
    seen = finished.mark()
    for payload in (str(uuid.uuid4()), '{"id": "not a uuid"}'):
        finished.tell(read_notice(payload))

    assert read_notice(str(uuid.uuid4())) is None
    assert finished.wait(seen, 0.0) is True
