"""Generations as jobs on the embedded pool, on both backends: queued, run, kept once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from core.auth.account import Account
from core.errors import InvalidInput, NotFound
from core.generation.speech import SpeechOrder
from core.generation.status import Status
from core.jobs.model import JobKind, NewJob
from core.jobs.queue import JobFailed
from core.limits import LimitOverrides, LimitReached
from core.services import Services
from storage.db import transaction
from storage.models import Job as JobRow
from tests.jobs.conftest import new_user, rows, sketch
from tests.support.history import image_index_lines

WAIT = 60


def test_a_queued_image_is_made_once_under_the_jobs_id(
    services: Services, user_id: uuid.UUID
) -> None:
    [job] = services.jobs.submit_images(user_id, sketch())
    assert job.state is Status.PENDING and job.kind is JobKind.IMAGE and job.queue == "cpu"

    [done] = services.queue.outcome(user_id, [job.id], WAIT)

    assert done.state is Status.COMPLETED and done.progress == 1.0
    assert done.generation_ids == (job.id,) and done.attempts == 1
    assert [line["id"] for line in image_index_lines(services, user_id)] == [str(job.id)]
    assert [(row.id, row.status) for row in rows(services, user_id)] == [(job.id, "completed")]
    item = services.gallery.open(user_id, job.id)
    assert item.record["meta"]["seed"] == 7


def test_a_batch_of_seed_variations_is_one_job_per_seed(
    services: Services, user_id: uuid.UUID
) -> None:
    jobs = services.jobs.submit_images(user_id, sketch(seed=40), count=3, vary_seed=True)

    done = services.queue.outcome(user_id, [job.id for job in jobs], WAIT)

    seeds = sorted(services.gallery.open(user_id, j.id).record["meta"]["seed"] for j in done)
    assert seeds == [40, 41, 42]


def test_a_batch_with_no_seed_draws_one_for_each_image(
    services: Services, user_id: uuid.UUID
) -> None:
    jobs = services.jobs.submit_images(user_id, sketch(seed=None), count=4)

    seeds = {job.request["seed"] for job in jobs}

    assert len(seeds) == 4


@pytest.mark.parametrize("count", [0, 9])
def test_a_batch_is_one_to_eight_images(services: Services, user_id: uuid.UUID, count: int) -> None:
    with pytest.raises(InvalidInput, match="from 1 to 8"):
        services.jobs.submit_images(user_id, sketch(), count=count)
    assert services.queue.listing(user_id) == []


def test_a_bad_order_is_refused_before_anything_is_queued(
    services: Services, user_id: uuid.UUID
) -> None:
    with pytest.raises(InvalidInput):
        services.jobs.submit_images(user_id, sketch(prompt="   "))
    assert services.queue.listing(user_id) == []


def test_quotas_are_checked_when_queued_counting_what_waits(
    services: Services, account: Account
) -> None:
    services.limits.set_overrides(account, account.id, LimitOverrides(daily_image=3))

    with pytest.raises(LimitReached, match="leaves 3 image generations; you asked for 4"):
        services.jobs.submit_images(account.id, sketch(), count=4)
    services.jobs.submit_images(account.id, sketch(), count=2)
    # Whether those two are still queued or already made, they count.
    with pytest.raises(LimitReached, match="leaves 1 image generations; you asked for 2"):
        services.jobs.submit_images(account.id, sketch(), count=2)
    assert len(services.queue.listing(account.id)) == 2


def test_a_speech_job_reads_the_text_with_the_engine_chosen(
    services: Services, user_id: uuid.UUID
) -> None:
    order = SpeechOrder(text="Hola.", language="es", slow=False, provider="offline", instant=True)
    job = services.jobs.submit_speech(user_id, order)

    [done] = services.queue.outcome(user_id, [job.id], WAIT)

    record = services.gallery.open(user_id, done.generation_ids[0]).record
    assert record["modality"] == "speech" and record["meta"]["spokenBy"] == "espeak-ng · es"
    # Kept with the settings, and the same job again reads the same way.
    assert record["input"]["instant"] is True
    [again] = services.queue.outcome(user_id, [services.jobs.again(job).id], WAIT)
    replayed = services.gallery.open(user_id, again.generation_ids[0]).record
    assert replayed["meta"]["spokenBy"] == "espeak-ng · es"


def test_a_failed_job_says_why_and_can_be_tried_again(
    services: Services, user_id: uuid.UUID
) -> None:
    [job] = services.jobs.submit_images(user_id, sketch())
    services.queue.outcome(user_id, [job.id], WAIT)
    with pytest.raises(InvalidInput, match="Only a failed or cancelled job"):
        services.retries.retry(user_id, job.id)

    # Queued where no worker takes it, so it waits until cancelled; then moved to the queue
    # its retry must run on (a worker looking for work never claims a cancelled job).
    cancelled = services.queue.store.add(user_id, [_unrunnable(job.request)])[0]
    services.queue.cancel(user_id, cancelled.id)
    with transaction(services.db) as db:
        db.execute(update(JobRow).where(JobRow.id == cancelled.id).values(queue="cpu"))
    cancelled = services.queue.get(user_id, cancelled.id)
    again = services.retries.retry(user_id, cancelled.id)

    [done] = services.queue.outcome(user_id, [again.id], WAIT)
    assert again.id != cancelled.id and again.request == cancelled.request
    assert done.state is Status.COMPLETED


def test_someone_elses_job_does_not_exist_for_you(services: Services, user_id: uuid.UUID) -> None:
    [job] = services.jobs.submit_images(user_id, sketch())
    stranger = new_user(services)

    for act in (services.queue.get, services.queue.cancel, services.retries.retry):
        with pytest.raises(NotFound):
            act(stranger, job.id)


def test_a_provider_failure_fails_the_job_with_its_reason(
    services: Services, user_id: uuid.UUID
) -> None:
    job = services.queue.store.add(user_id, [_unrunnable({"provider": "nonexistent"}, "cpu")])[0]
    services.queue.dispatch.send("cpu", job.id)

    with pytest.raises(JobFailed):
        services.queue.outcome(user_id, [job.id], WAIT)


def _unrunnable(request: dict[str, Any], queue: str = "nobody-listens") -> NewJob:
    return NewJob(JobKind.IMAGE, queue, dict(request), uuid.uuid4())
