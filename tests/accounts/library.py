"""A user with a bit of everything an account can own, and what the stores hold, for the
deletion tests (core here, pages in tests/ui)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth.account import Account
from core.errors import ProviderError, StorageUnavailable
from core.generation.records import GenerationContext, GenerationFailed, ProducedMedia
from core.history import IndexEntry, request_prefix
from core.limits import LimitOverrides
from core.modality import Modality
from core.services import Services
from storage.db import transaction
from storage.models import Conversation, Job, UsageEvent
from tests.generation.conftest import image_spec, made_image, png

PASSWORD = "correct horse 42"


@dataclass(frozen=True)
class Credentials:
    """What a client of the account holds: a page's access token, a browser's refresh cookie,
    a script's API key."""

    access_token: str
    refresh_token: str
    api_key: str


def fill_library(services: Services, owner: Account, admin: Account) -> Credentials:
    """Generations (one failed), an avatar, an import, a queued job with its reference, a
    conversation, a history line whose row never came, limits, a key and a session."""
    for n in range(3):
        services.pipeline.run(owner.id, image_spec(f"picture {n} of {owner.email}"), made_image)
    with pytest.raises(GenerationFailed):
        services.pipeline.run(owner.id, image_spec("a failure"), _failing)
    services.avatars.save(owner.id, png("orange"))
    imports = services.settings.s3_bucket_imports
    for key in ("hotels/h1-images/original/img_001.jpg", "hotels/h1-images/metadata.json"):
        services.objects.put(imports, f"{owner.id}/{key}", b"imported", "image/jpeg")
    image_bucket = services.settings.s3_bucket_image
    job_id = uuid.uuid4()
    services.objects.put(image_bucket, f"jobs/{job_id}/reference.png", png(), "image/png")
    now = datetime.now(UTC)
    with transaction(services.db) as db:
        db.add(
            Job(
                id=job_id,
                owner_id=owner.id,
                kind="image",
                # No worker listens here: the job stays pending until the deletion stops it.
                queue="nowhere",
                request={"referenceKey": f"jobs/{job_id}/reference.png"},
                state="pending",
            )
        )
        db.add(
            Conversation(
                user_id=owner.id, title="Hello", provider="local", model="m", temperature=0.7
            )
        )
    # A generation that stopped between its history line and its row: only the line finds it.
    orphan = uuid.uuid4()
    services.objects.put(
        image_bucket, request_prefix(orphan, now) + "image/original.png", png(), "image/png"
    )
    services.history.append(
        owner.id,
        IndexEntry(
            id=orphan,
            created_at=now,
            modality=Modality.IMAGE,
            provider="test-painter",
            model="flat",
            prompt="left behind",
            media_key=request_prefix(orphan, now) + "image/original.png",
            record_key=request_prefix(orphan, now) + "record.json",
            content_type="image/png",
        ),
    )
    services.limits.set_overrides(admin, owner.id, LimitOverrides(daily_image=5))
    key = services.api_keys.create(owner, "script")
    signed_in = services.auth.login(owner.email, PASSWORD, ip=None)
    refresh_token = services.auth.redeem_handoff(signed_in.handoff_code)
    return Credentials(signed_in.access_token, refresh_token, key.secret)


def _failing(_context: GenerationContext) -> ProducedMedia:
    raise ProviderError("the painter is out")


def every_object(services: Services) -> set[tuple[str, str]]:
    """Every object in the test's buckets (each test has buckets of its own)."""
    return {
        (bucket, info.key)
        for bucket in services.settings.buckets
        for info in services.objects.list_objects(bucket, "")
    }


def usage_events(services: Services) -> dict[int, tuple[uuid.UUID | None, str, Decimal, Decimal]]:
    with services.db() as db:
        rows = db.execute(
            select(
                UsageEvent.id,
                UsageEvent.user_id,
                UsageEvent.event_type,
                UsageEvent.quantity,
                UsageEvent.cost_usd,
            )
        ).all()
    return {row.id: (row.user_id, row.event_type, row.quantity, row.cost_usd) for row in rows}


class FailingDeletes:
    """The object store's `delete`, failing like an outage once `allowed` deletes went
    through: a deletion stopped half-way."""

    def __init__(self, delete: Callable[[str, str], None], allowed: int) -> None:
        self._delete = delete
        self._allowed = allowed
        self._lock = threading.Lock()
        self.done = 0

    def __call__(self, bucket: str, key: str) -> None:
        with self._lock:
            if self.done >= self._allowed:
                raise StorageUnavailable("The file store is not answering right now.")
            self.done += 1
        self._delete(bucket, key)
