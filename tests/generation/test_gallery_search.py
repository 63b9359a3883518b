"""The Gallery's search and kind filter, answered from the user's rows on both backends: the
same items, order and "Load more" cursor as the listing of the history index gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from core.generation.image import ImageOrder
from core.generation.records import (
    GenerationContext,
    GenerationFailed,
    GenerationSpec,
    ProducedMedia,
    Source,
)
from core.history import IndexEntry
from core.modality import Modality
from core.services import Services
from storage.models import Generation
from tests.generation.conftest import PASSWORD, image_spec, made_image
from tests.support.clock import FakeClock
from tests.support.image_hosts import ImageHosts, Reply, image_bytes

Producer = Callable[[GenerationContext], ProducedMedia]


def made_speech(_context: GenerationContext) -> ProducedMedia:
    return ProducedMedia(
        data=b"ID3-not-really-an-mp3",
        name="audio/output.mp3",
        content_type="audio/mpeg",
        meta={"language": "es"},
    )


def made_chat(_context: GenerationContext) -> ProducedMedia:
    return ProducedMedia(
        data=b"{}",
        name="chat/conversation.json",
        content_type="application/json",
        meta={"answerPreview": "An answer."},
    )


def failing(_context: GenerationContext) -> ProducedMedia:
    raise RuntimeError("the provider fell over")


PRODUCERS: dict[Modality, Producer] = {
    Modality.IMAGE: made_image,
    Modality.SPEECH: made_speech,
    Modality.CHAT: made_chat,
}


def _make(
    services: Services,
    user_id: uuid.UUID,
    prompt: str,
    clock: FakeClock,
    modality: Modality = Modality.IMAGE,
) -> uuid.UUID:
    clock.advance(minutes=1)
    spec = GenerationSpec(
        modality=modality,
        provider="test",
        model="flat",
        prompt=prompt,
        params={**image_spec(prompt).params, "kind": modality.value},
    )
    return services.pipeline.run(user_id, spec, PRODUCERS[modality]).id


def _ids(page: Any) -> list[uuid.UUID]:
    return [entry.id for entry in page.entries]


def _card(entry: IndexEntry) -> tuple[Any, ...]:
    """What a gallery card shows and opens with."""
    return (
        entry.id,
        entry.created_at,
        entry.modality,
        entry.provider,
        entry.model,
        entry.prompt,
        entry.media_key,
        entry.record_key,
        entry.content_type,
        entry.thumbnail_key,
        entry.params,
    )


@pytest.fixture
def other_user(services: Services) -> uuid.UUID:
    return services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None).id


@pytest.fixture
def index_reads(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Keys of the history index read (listed or fetched) from the object store."""
    reads: list[str] = []
    store = services.objects
    for name in ("get", "list_level", "list_objects"):
        original = getattr(store, name)

        def counting(bucket: str, key: str, _original: Any = original) -> Any:
            if "/history/" in key:
                reads.append(key)
            return _original(bucket, key)

        monkeypatch.setattr(store, name, counting)
    yield reads


def test_a_search_finds_the_prompt_in_any_letter_case(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    fox = _make(services, user_id, "A red Fox at dawn", clock)
    _make(services, user_id, "a blue whale", clock)
    glove = _make(services, user_id, "FOXGLOVE in a field", clock, Modality.SPEECH)
    russian = _make(services, user_id, "Привет, ЛИСА", clock, Modality.SPEECH)
    _make(services, user_id, "nothing to see", clock, Modality.CHAT)

    assert _ids(services.gallery.page(user_id, text="fox")) == [glove, fox]
    assert _ids(services.gallery.page(user_id, text="  fOx ")) == [glove, fox]
    assert _ids(services.gallery.page(user_id, text="лиса")) == [russian]
    # Only the prompt the card shows is searched, not the model ("flat") or the parameters.
    assert _ids(services.gallery.page(user_id, text="flat")) == []
    assert _ids(services.gallery.page(user_id, text="64x48")) == []


def test_percent_underscore_and_backslash_are_plain_characters(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    cotton = _make(services, user_id, "100% cotton", clock)
    _make(services, user_id, "100 cotton", clock)
    snake = _make(services, user_id, "snake_case", clock)
    _make(services, user_id, "snakeXcase", clock)
    path = _make(services, user_id, r"C:\temp", clock)
    _make(services, user_id, "C:temp", clock)

    assert _ids(services.gallery.page(user_id, text="0%")) == [cotton]
    assert _ids(services.gallery.page(user_id, text="e_c")) == [snake]
    assert _ids(services.gallery.page(user_id, text="%")) == [cotton]
    assert _ids(services.gallery.page(user_id, text="\\")) == [path]


def test_a_kind_filter_with_or_without_text(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    image = _make(services, user_id, "a fox", clock)
    speech = _make(services, user_id, "hola fox", clock, Modality.SPEECH)
    chat = _make(services, user_id, "a poem about a fox", clock, Modality.CHAT)
    other_speech = _make(services, user_id, "hola", clock, Modality.SPEECH)

    speech_only = services.gallery.page(user_id, modalities=[Modality.SPEECH])
    spoken_fox = services.gallery.page(user_id, modalities=[Modality.SPEECH], text="fox")
    two_kinds = services.gallery.page(user_id, modalities=[Modality.IMAGE, Modality.CHAT])
    every_kind = services.gallery.page(user_id, modalities=[], text="fox")

    assert _ids(speech_only) == [other_speech, speech]
    assert _ids(spoken_fox) == [speech]
    assert _ids(two_kinds) == [chat, image]
    assert _ids(every_kind) == [chat, speech, image]
    assert services.gallery.page(user_id, modalities=[Modality.CHAT], text="hola").entries == []


def test_load_more_pages_through_the_matches_with_the_last_id(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    matches = []
    for n in range(7):
        matches.append(_make(services, user_id, f"fox number {n}", clock))
        _make(services, user_id, f"whale number {n}", clock)
        if n % 3 == 2:
            clock.advance(days=1)
    newest_first = list(reversed(matches))

    first = services.gallery.page(user_id, text="fox", limit=3)
    second = services.gallery.page(user_id, text="fox", limit=3, cursor=first.next_cursor)
    third = services.gallery.page(user_id, text="fox", limit=3, cursor=second.next_cursor)

    assert _ids(first) + _ids(second) + _ids(third) == newest_first
    assert first.next_cursor == str(newest_first[2])
    assert second.next_cursor == str(newest_first[5])
    assert third.next_cursor is None
    # Exactly a page left: no "Load more" for an empty page after it.
    assert services.gallery.page(user_id, text="fox", limit=7).next_cursor is None
    # A position that is gone (deleted, or not an id at all) has nothing after it, as in the
    # listing.
    services.gallery.delete(user_id, newest_first[2])
    assert services.gallery.page(user_id, text="fox", cursor=str(newest_first[2])).entries == []
    assert services.gallery.page(user_id, text="fox", cursor="not-an-id").entries == []


def test_search_results_are_the_cards_the_listing_shows(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    _make(services, user_id, "a fox in chat", clock, Modality.CHAT)
    _make(services, user_id, "a spoken fox", clock, Modality.SPEECH)
    clock.advance(days=1)
    _make(services, user_id, "a painted fox", clock)
    # A real engine's image, with the thumbnail it writes beside it.
    order = ImageOrder(
        prompt="a sketched fox",
        width=64,
        height=64,
        seed=3,
        model="sketch-v2",
        style=None,
        provider="sketch",
    )
    clock.advance(minutes=1)
    services.images.generate(user_id, order)

    listed = services.gallery.page(user_id).entries
    found = services.gallery.page(user_id, text="FOX").entries

    assert [_card(e) for e in found] == [_card(e) for e in listed]
    assert all(e.thumbnail_key for e in found if e.modality is Modality.IMAGE)
    for search, listing in zip(found, listed, strict=True):
        assert {key: search.meta[key] for key in listing.meta} == listing.meta
        if search.thumbnail_key:
            # The card's preview is there to be read.
            assert services.gallery.media(user_id, search.id, search.thumbnail_key)


def test_a_search_reads_no_history_index(
    services: Services,
    user_id: uuid.UUID,
    clock: FakeClock,
    index_reads: list[str],
) -> None:
    for day in range(5):
        _make(services, user_id, f"day {day}", clock)
        _make(services, user_id, f"spoken day {day}", clock, Modality.SPEECH)
        clock.advance(days=1)
    services.history._parse_day.cache_clear()
    index_reads.clear()

    assert services.gallery.page(user_id, text="zebra").entries == []
    assert len(services.gallery.page(user_id, text="DAY", limit=3).entries) == 3
    assert len(services.gallery.page(user_id, modalities=[Modality.SPEECH]).entries) == 5

    assert index_reads == []
    # The listing still reads it.
    assert len(services.gallery.page(user_id, text="  ").entries) == 10
    assert index_reads


def test_another_users_items_are_never_found(
    services: Services, user_id: uuid.UUID, other_user: uuid.UUID, clock: FakeClock
) -> None:
    mine = _make(services, user_id, "my fox", clock)
    theirs = _make(services, other_user, "their fox", clock, Modality.SPEECH)

    assert _ids(services.gallery.page(user_id, text="fox")) == [mine]
    assert _ids(services.gallery.page(other_user, text="fox")) == [theirs]
    assert _ids(services.gallery.page(user_id, modalities=[Modality.SPEECH])) == []
    # Someone else's id is no position in my list.
    assert services.gallery.page(user_id, text="fox", cursor=str(theirs)).entries == []


def test_failed_generations_are_not_found(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    kept = _make(services, user_id, "a fox that worked", clock)
    clock.advance(minutes=1)
    with pytest.raises(GenerationFailed):
        services.pipeline.run(user_id, image_spec("a fox that failed"), failing)

    assert _ids(services.gallery.page(user_id, text="fox")) == [kept]


def test_a_generation_without_its_row_is_listed_but_not_found(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    """Searches read the rows, the fast copy that `storage.rebuild` restores from the store."""
    kept = _make(services, user_id, "a fox with a row", clock)
    rowless = _make(services, user_id, "a fox without", clock)
    with services.db() as db, db.begin():
        db.execute(delete(Generation).where(Generation.id == rowless))

    assert _ids(services.gallery.page(user_id)) == [rowless, kept]
    assert _ids(services.gallery.page(user_id, text="fox")) == [kept]


def test_an_imported_image_is_found_by_its_file_name(
    services: Services, user_id: uuid.UUID, clock: FakeClock
) -> None:
    made = _make(services, user_id, "a painted harbour", clock)
    clock.advance(minutes=1)
    with ImageHosts(1) as hosts:
        hosts.script("/Harbour_At_Night.jpg", Reply(body=image_bytes("JPEG", 600, 400)))
        job = services.imports.submit_urls(user_id, [hosts.url(0, "/Harbour_At_Night.jpg")])
        done = services.queue.wait(user_id, job.id, 30.0)
    [imported] = done.generation_ids

    by_name = services.gallery.page(user_id, text="harbour_at")
    by_word = services.gallery.page(user_id, text="HARBOUR")
    images = services.gallery.page(user_id, modalities=[Modality.IMAGE])
    listed = services.gallery.page(user_id).entries

    assert _ids(by_name) == [imported]
    assert _ids(by_word) == _ids(images) == [imported, made] == [e.id for e in listed]
    [card] = by_name.entries
    assert card.meta["source"] == Source.IMPORT.value
    assert _card(card) == _card(listed[0])
