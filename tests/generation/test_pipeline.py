"""The generation pipeline on both backends: what a success and each kind of failure leave."""

from __future__ import annotations

import concurrent.futures
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.errors import InvalidInput, ProviderError, StorageUnavailable
from core.generation.pipeline import GenerationPipeline
from core.generation.records import GenerationContext, GenerationFailed, ProducedMedia
from core.history import HistoryIndex, IndexEntry, index_key
from core.modality import Modality
from core.services import Services
from storage.models import Generation, UsageEvent
from storage.objects import ObjectMissing, ObjectStore
from tests.generation.conftest import image_spec, made_image, png
from tests.support.clock import FakeClock
from tests.support.history import image_index_lines


def _json(services: Services, key: str) -> dict[str, Any]:
    return dict(json.loads(services.objects.get(services.settings.s3_bucket_image, key).data))


def _rows(services: Services) -> list[Generation]:
    with services.db() as db:
        return list(db.scalars(select(Generation)))


def _events(services: Services) -> list[UsageEvent]:
    with services.db() as db:
        return list(db.scalars(select(UsageEvent)))


def test_a_completed_generation_is_kept_everywhere(services: Services, user_id: uuid.UUID) -> None:
    steps: list[str] = []
    record = services.pipeline.run(user_id, image_spec(), made_image, progress=steps.append)

    day = record.created_at
    prefix = f"requests/{day:%Y/%m/%d}/{record.id}/"
    assert record.status == "completed"
    assert (record.input_key, record.record_key, record.media_key) == (
        prefix + "input.json", prefix + "record.json", prefix + "image/original.png",
    )  # fmt: skip
    assert record.thumbnail_key == prefix + "image/thumbnail.webp"
    assert _json(services, record.input_key) == {
        "prompt": "a teal square",
        "size": "64x48",
        "seed": 7,
    }
    stored = _json(services, record.record_key)
    assert stored["id"] == str(record.id)
    assert stored["status"] == "completed"
    assert stored["s3"]["record"] == record.record_key
    assert stored["s3"]["media"] == record.media_key
    assert {"provider", "model", "latencyMs", "contentType", "size", "seed"} <= set(stored["meta"])
    assert stored["meta"]["contentType"] == "image/png"
    bucket = services.settings.s3_bucket_image
    assert services.objects.get(bucket, record.media_key or "").data == png()

    [line] = image_index_lines(services, user_id)
    assert line["id"] == str(record.id)
    assert line["s3"]["media"] == record.media_key
    assert line["input"]["seed"] == 7

    [row] = _rows(services)
    assert (row.id, row.status, row.user_id, row.modality) == (
        record.id,
        "completed",
        user_id,
        "image",
    )
    assert row.media_key == record.media_key and row.size_bytes == len(png())
    [event] = _events(services)
    assert (event.event_type, event.generation_id, event.quantity) == (
        "generation.completed",
        record.id,
        1,
    )
    assert steps == ["Generating with test-painter · flat…", "Saving to your history…"]


def test_a_generation_keeps_the_id_its_caller_gives(services: Services, user_id: uuid.UUID) -> None:
    chosen = uuid.uuid4()
    seen: list[uuid.UUID] = []

    def produce(context: GenerationContext) -> ProducedMedia:
        seen.append(context.id)
        return made_image(context)

    record = services.pipeline.run(user_id, image_spec(), produce, generation_id=chosen)

    assert record.id == chosen and seen == [chosen]
    assert f"/{chosen}/" in record.record_key
    assert [row.id for row in _rows(services)] == [chosen]
    assert [line["id"] for line in image_index_lines(services, user_id)] == [str(chosen)]


def test_a_provider_error_leaves_a_failed_record_and_row_and_no_index_line(
    services: Services, user_id: uuid.UUID
) -> None:
    def refuse(_context: GenerationContext) -> ProducedMedia:
        raise ProviderError("Pollinations is rate limiting us. Wait a minute and try again.")

    with pytest.raises(GenerationFailed, match="rate limiting us") as failure:
        services.pipeline.run(user_id, image_spec(), refuse)

    record = failure.value.record
    stored = _json(services, record.record_key)
    assert stored["status"] == "failed"
    assert stored["error"] == "Pollinations is rate limiting us. Wait a minute and try again."
    assert stored["s3"]["media"] is None
    assert _json(services, record.input_key)["prompt"] == "a teal square"
    assert image_index_lines(services, user_id) == []
    [row] = _rows(services)
    assert (row.status, row.error, row.media_key) == ("failed", stored["error"], None)
    assert [e.event_type for e in _events(services)] == ["generation.failed"]


def test_an_unexpected_crash_is_reported_in_plain_words(
    services: Services, user_id: uuid.UUID
) -> None:
    def crash(_context: GenerationContext) -> ProducedMedia:
        raise RuntimeError("segfault-ish internals")

    with pytest.raises(GenerationFailed) as failure:
        services.pipeline.run(user_id, image_spec(), crash)

    assert "internals" not in str(failure.value)
    assert "failed unexpectedly" in str(failure.value)
    assert _rows(services)[0].status == "failed"


class _FailingStore:
    """The real store, except that writes to keys matching `fail_on` raise."""

    def __init__(self, store: ObjectStore, fail_on: Callable[[str], bool]) -> None:
        self._store = store
        self._fail_on = fail_on

    def put(self, bucket: str, key: str, data: bytes, content_type: str, **kwargs: Any) -> str:
        if self._fail_on(key):
            raise StorageUnavailable("The file store is not answering right now.")
        return self._store.put(bucket, key, data, content_type, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _with_store(services: Services, store: Any, clock: FakeClock) -> None:
    history = HistoryIndex(store, services.settings.bucket_for)
    services.pipeline = GenerationPipeline(
        services.db, store, history, bucket_for=services.settings.bucket_for, now=clock
    )


def test_media_that_cannot_be_stored_fails_without_an_index_line(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    _with_store(services, _FailingStore(services.objects, lambda key: key.endswith(".png")), clock)

    with pytest.raises(GenerationFailed, match="not answering"):
        services.pipeline.run(user_id, image_spec(), made_image)

    assert image_index_lines(services, user_id) == []
    assert _rows(services)[0].status == "failed"


def test_an_index_that_cannot_be_written_fails_and_removes_the_media(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    _with_store(
        services, _FailingStore(services.objects, lambda key: key.endswith(".jsonl")), clock
    )

    with pytest.raises(GenerationFailed, match="not answering") as failure:
        services.pipeline.run(user_id, image_spec(), made_image)

    [row] = _rows(services)
    assert (row.status, row.media_key) == ("failed", None)
    assert [e.event_type for e in _events(services)] == ["generation.failed"]
    prefix = failure.value.record.record_key.rpartition("/")[0]
    with pytest.raises(ObjectMissing):
        services.objects.get(services.settings.s3_bucket_image, prefix + "/image/original.png")
    assert _json(services, failure.value.record.record_key)["status"] == "failed"


def test_fifty_concurrent_generations_by_one_user_keep_fifty_lines_and_rows(
    services: Services, user_id: uuid.UUID
) -> None:
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        records = list(
            pool.map(
                lambda n: services.pipeline.run(user_id, image_spec(f"n{n}"), made_image), range(50)
            )
        )

    lines = image_index_lines(services, user_id)
    assert sorted(line["id"] for line in lines) == sorted(str(r.id) for r in records)
    with services.db() as db:
        assert db.scalar(select(func.count()).select_from(Generation)) == 50


def test_writers_in_separate_processes_never_lose_a_line(
    services: Services, user_id: uuid.UUID
) -> None:
    """Two replicas share nothing but the store: only the conditional writes keep them honest."""
    replicas = [HistoryIndex(services.objects, services.settings.bucket_for) for _ in range(4)]
    created = datetime(2026, 11, 22, 10, tzinfo=UTC)

    def append(n: int) -> None:
        entry = IndexEntry(
            id=uuid.uuid4(), created_at=created, modality=Modality.IMAGE, provider="p", model="m",
            prompt=f"line {n}", media_key="requests/x.png", record_key="requests/x.json",
            content_type="image/png",
        )  # fmt: skip
        replicas[n % len(replicas)].append(user_id, entry)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(40)))

    body = services.objects.get(
        services.settings.s3_bucket_image, index_key(user_id, Modality.IMAGE, created.date())
    ).data
    assert sorted(json.loads(line)["prompt"] for line in body.splitlines()) == sorted(
        f"line {n}" for n in range(40)
    )


@pytest.mark.parametrize(
    ("prompt", "params"),
    [
        ("a teal\x00 square", {}),
        ("a teal square", {"style": "ink\x00"}),
        ("a broken \ud800 character", {}),
        ("a teal square", {"temperature": float("inf")}),
        ("a teal square", {"nested": [{"weight": float("nan")}]}),
    ],
)
def test_input_no_store_can_keep_is_refused_before_anything_starts(
    services: Services, user_id: uuid.UUID, prompt: str, params: dict[str, Any]
) -> None:
    spec = replace(image_spec(prompt), params=image_spec(prompt).params | params)

    with pytest.raises(InvalidInput):
        services.pipeline.run(user_id, spec, made_image)

    assert _rows(services) == [] and _events(services) == []
    assert image_index_lines(services, user_id) == []


def test_a_row_that_cannot_be_written_fails_the_generation_and_takes_back_its_line(
    services: Services, user_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = services.pipeline
    insert = pipeline._insert_row

    def database_gone_for_completed(record: Any) -> None:
        if record.status == "completed":
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        insert(record)

    monkeypatch.setattr(pipeline, "_insert_row", database_gone_for_completed)

    with pytest.raises(GenerationFailed, match="database is not answering") as failure:
        pipeline.run(user_id, image_spec(), made_image)

    assert image_index_lines(services, user_id) == []
    [row] = _rows(services)
    assert (row.status, row.media_key) == ("failed", None)
    prefix = failure.value.record.record_key.rpartition("/")[0]
    with pytest.raises(ObjectMissing):
        services.objects.get(services.settings.s3_bucket_image, prefix + "/image/original.png")
    assert _json(services, failure.value.record.record_key)["status"] == "failed"
