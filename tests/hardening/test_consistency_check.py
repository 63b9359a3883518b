"""The check both hardening suites rely on sees each way the stores can disagree: it would be
no proof if it passed on broken stores too."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import delete, update

from core.generation.image import ImageOrder
from core.generation.records import GenerationRecord
from core.services import Services
from storage.db import transaction
from storage.models import Generation, UsageEvent
from tests.support.consistency import disagreements

PASSWORD = "correct horse 42"


def _made(services: Services) -> GenerationRecord:
    user = services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None).id
    order = ImageOrder("a red fox", 64, 64, 1, "sketch-v2", None, "sketch")
    return services.images.generate(user, order)


def _drop_row(services: Services, made: GenerationRecord) -> None:
    with transaction(services.db) as db:
        db.execute(delete(UsageEvent).where(UsageEvent.generation_id == made.id))
        db.execute(delete(Generation).where(Generation.id == made.id))


def _fail_row(services: Services, made: GenerationRecord) -> None:
    with transaction(services.db) as db:
        db.execute(update(Generation).where(Generation.id == made.id).values(status="failed"))


def _drop_line(services: Services, made: GenerationRecord) -> None:
    services.history.remove(made.user_id, made.modality, [made.id], made.created_at.date())


def _drop_thumbnail(services: Services, made: GenerationRecord) -> None:
    services.objects.delete(made.bucket, made.thumbnail_key or "")


def _drop_record(services: Services, made: GenerationRecord) -> None:
    services.objects.delete(made.bucket, made.record_key)


def _drop_event(services: Services, made: GenerationRecord) -> None:
    with transaction(services.db) as db:
        db.execute(delete(UsageEvent).where(UsageEvent.generation_id == made.id))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_drop_row, "an index line without a row"),
        (_fail_row, "an index line for a failed row"),
        (_drop_line, "a completed row without an index line"),
        (_drop_thumbnail, "thumbnail.webp missing"),
        (_drop_record, "no record.json"),
        (_drop_event, "0 usage events"),
    ],
)
def test_each_kind_of_disagreement_is_found(
    services: Services, damage: Callable[[Services, GenerationRecord], None], said: str
) -> None:
    made = _made(services)
    assert disagreements(services) == []

    damage(services, made)

    found = disagreements(services, [made.user_id])
    assert {d.generation_id for d in found} == {str(made.id)}
    assert any(said in d.problem for d in found), found
    # The whole check sees it too, and no one else's generation.
    assert disagreements(services) == found
