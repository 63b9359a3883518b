"""A generation attempted again under the same id (a job delivered twice), and one cancelled
while its provider works: what each leaves behind, on both backends."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from core.generation.image import ImageOrder
from core.generation.pipeline import Attempt
from core.generation.records import GenerationCancelled
from core.modality import Modality
from core.services import Services
from storage.models import Generation, UsageEvent
from tests.jobs.conftest import rows, sketch
from tests.support.clock import FakeClock
from tests.support.history import image_index_lines


def _make(services: Services, user_id: uuid.UUID, order: ImageOrder, attempt: Attempt) -> uuid.UUID:
    prepared = services.images.prepare(user_id, order)
    generation_id = uuid.uuid4()
    services.images.make(user_id, prepared, generation_id=generation_id, attempt=attempt)
    return generation_id


def test_a_cancelled_generation_keeps_nothing(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    prepared = services.images.prepare(user_id, sketch())
    generation_id = uuid.uuid4()

    with pytest.raises(GenerationCancelled):
        services.images.make(
            user_id,
            prepared,
            generation_id=generation_id,
            attempt=Attempt(started_at=clock(), cancelled=lambda: True),
        )

    assert image_index_lines(services, user_id) == [] and rows(services, user_id) == []
    bucket = services.settings.s3_bucket_image
    assert list(services.objects.list_objects(bucket, "requests/")) == []


def test_an_attempt_that_died_before_its_row_is_cleared_then_made_once(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    attempt = Attempt(started_at=clock(), cancelled=lambda: False)
    prepared = services.images.prepare(user_id, sketch())
    generation_id = uuid.uuid4()
    services.images.make(user_id, prepared, generation_id=generation_id, attempt=attempt)
    # The first worker wrote the index line and died before its row.
    with services.db.begin() as db:
        db.execute(delete(UsageEvent).where(UsageEvent.generation_id == generation_id))
        db.execute(delete(Generation).where(Generation.id == generation_id))
    clock.advance(minutes=5)

    finished = services.pipeline.settle_earlier_attempt(
        user_id, generation_id, Modality.IMAGE, attempt
    )
    services.images.make(user_id, prepared, generation_id=generation_id, attempt=attempt)

    assert not finished
    assert [line["id"] for line in image_index_lines(services, user_id)] == [str(generation_id)]
    assert [row.id for row in rows(services, user_id)] == [generation_id]


def test_an_attempt_that_finished_is_not_made_again(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    attempt = Attempt(started_at=clock(), cancelled=lambda: False)
    generation_id = _make(services, user_id, sketch(), attempt)

    assert services.pipeline.settle_earlier_attempt(user_id, generation_id, Modality.IMAGE, attempt)
    assert len(image_index_lines(services, user_id)) == 1
