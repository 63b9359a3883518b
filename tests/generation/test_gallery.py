"""The gallery: a user's own generations, newest first, paged, filtered, opened, deleted."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from core.errors import NotFound
from core.generation.records import GenerationRecord
from core.history import index_key
from core.modality import Modality
from core.services import Services
from storage.models import Generation
from storage.objects import ObjectMissing
from tests.generation.conftest import PASSWORD, image_spec, made_image, png
from tests.support.clock import FakeClock


def _make(
    services: Services, user_id: uuid.UUID, prompt: str, clock: FakeClock
) -> GenerationRecord:
    clock.advance(minutes=1)
    return services.pipeline.run(user_id, image_spec(prompt), made_image)


def test_newest_first_across_days_with_pages(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    made = []
    for day in range(3):
        for n in range(4):
            made.append(_make(services, user_id, f"day {day} n {n}", clock))
        clock.advance(days=1)
    newest_first = [r.id for r in reversed(made)]

    first = services.gallery.page(user_id, limit=5)
    second = services.gallery.page(user_id, limit=5, cursor=first.next_cursor)
    third = services.gallery.page(user_id, limit=5, cursor=second.next_cursor)

    assert [e.id for e in first.entries + second.entries + third.entries] == newest_first
    assert third.next_cursor is None


def test_filter_by_text_and_modality(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    _make(services, user_id, "A red Fox at dawn", clock)
    _make(services, user_id, "a blue whale", clock)

    foxes = services.gallery.page(user_id, text="fox")
    speech_only = services.gallery.page(user_id, modalities=[Modality.SPEECH])

    assert [e.prompt for e in foxes.entries] == ["A red Fox at dawn"]
    assert speech_only.entries == []


def test_open_shows_the_whole_record_and_media(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    record = _make(services, user_id, "a teal square", clock)

    item = services.gallery.open(user_id, record.id)

    assert item.record["id"] == str(record.id)
    assert item.record["meta"]["seed"] == 7
    assert item.entry.params["seed"] == 7
    assert services.gallery.media(user_id, record.id, item.entry.media_key) == png()
    thumbnail = item.entry.thumbnail_key or ""
    assert services.gallery.media(user_id, record.id, thumbnail) == b"RIFF-webp-thumbnail"
    assert (item.signed_url is not None) == services.settings.uses_s3


def test_another_users_id_key_or_entry_shows_nothing(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    record = _make(services, user_id, "private sketch", clock)
    intruder = services.auth.register("eve@example.com", PASSWORD, ip=None).id
    mine = services.gallery.open(user_id, record.id).entry

    assert services.gallery.page(intruder).entries == []
    with pytest.raises(NotFound):
        services.gallery.open(intruder, record.id)
    with pytest.raises(NotFound):
        services.gallery.media(intruder, record.id, mine.media_key)
    with pytest.raises(NotFound):
        services.gallery.delete(intruder, record.id)
    with pytest.raises(NotFound):
        services.gallery.media(user_id, record.id, f"users/{intruder}/avatar.png")
    with pytest.raises(NotFound):
        services.gallery.media(user_id, record.id, mine.media_key.rsplit("/", 2)[0] + "/../x/y.png")


def test_delete_removes_media_record_index_line_and_row(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    kept = _make(services, user_id, "keep me", clock)
    gone = _make(services, user_id, "delete me", clock)

    services.gallery.delete(user_id, gone.id)

    assert [e.id for e in services.gallery.page(user_id).entries] == [kept.id]
    bucket = services.settings.s3_bucket_image
    for key in (gone.media_key, gone.record_key, gone.input_key, gone.thumbnail_key):
        with pytest.raises(ObjectMissing):
            services.objects.get(bucket, key or "")
    day_file = services.objects.get(
        bucket, index_key(user_id, Modality.IMAGE, gone.created_at.date())
    )
    assert [json.loads(line)["id"] for line in day_file.data.splitlines()] == [str(kept.id)]
    with services.db() as db:
        assert db.scalar(select(func.count()).select_from(Generation)) == 1
    with pytest.raises(NotFound):
        services.gallery.open(user_id, gone.id)


def test_a_damaged_index_line_does_not_hide_the_rest(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    record = _make(services, user_id, "survivor", clock)
    bucket = services.settings.s3_bucket_image
    key = index_key(user_id, Modality.IMAGE, record.created_at.date())
    body = services.objects.get(bucket, key).data
    services.objects.put(bucket, key, b"{not json\n" + body, "application/x-ndjson")

    assert [e.prompt for e in services.gallery.page(user_id).entries] == ["survivor"]


def test_the_first_page_of_a_long_history_reads_only_the_newest_days(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    made = []
    for _ in range(12):
        made.append(_make(services, user_id, "old", clock))
        clock.advance(days=1)
    reads: list[str] = []
    original_get = services.objects.get

    def counting_get(bucket: str, key: str) -> object:
        reads.append(key)
        return original_get(bucket, key)

    services.history._parse_day.cache_clear()
    services.objects.get = counting_get  # type: ignore[method-assign]

    services.gallery.page(user_id, limit=2)

    # The two newest days, one more to know an older page exists, and at most 4 read ahead.
    newest = {index_key(user_id, Modality.IMAGE, r.created_at.date()) for r in made[-7:]}
    assert 3 <= len(reads) <= 7
    assert set(reads) <= newest


def test_a_history_owner_is_an_id_never_a_path(services: Services) -> None:
    with pytest.raises(TypeError):
        list(services.history.entries("../other", [Modality.IMAGE]))  # type: ignore[arg-type]
