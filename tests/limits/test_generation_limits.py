"""Per-minute limits and daily quotas on both backends: who is refused, with what words, and
that a refusal leaves nothing behind."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select, update

from core.auth.account import Account, Role
from core.errors import InvalidInput, PermissionDenied, ProviderError
from core.generation.records import GenerationContext, GenerationFailed, ProducedMedia
from core.limits import LimitOverrides, LimitReached
from core.modality import Modality
from core.services import Services, start_services
from storage.models import Conversation, Generation, User
from tests.generation.conftest import PASSWORD, image_spec, made_image
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events


@pytest.fixture
def app(make_settings: Callable[..., object], clock: FakeClock) -> Iterator[Services]:
    settings = make_settings(limit_generations_per_minute_user=3, limit_daily_image_user=5)
    built = start_services(settings, now=clock)  # type: ignore[arg-type]
    yield built
    built.close()


@pytest.fixture
def admin(app: Services) -> Account:
    return app.auth.register("admin@example.com", PASSWORD, ip=None)


@pytest.fixture
def user(app: Services, admin: Account) -> uuid.UUID:
    return app.auth.register("user@example.com", PASSWORD, ip=None).id


def _generate(app: Services, user_id: uuid.UUID) -> None:
    app.pipeline.run(user_id, image_spec(), made_image)


def _rows(app: Services, user_id: uuid.UUID) -> int:
    with app.db() as db:
        return int(db.scalar(select(func.count()).where(Generation.user_id == user_id)) or 0)


def test_a_user_gets_the_per_minute_limit_with_the_wait(
    app: Services, user: uuid.UUID, clock: FakeClock
) -> None:
    for _ in range(3):
        _generate(app, user)
    clock.advance(seconds=20)

    with pytest.raises(LimitReached) as refused:
        _generate(app, user)

    assert str(refused.value) == "You can start 3 generations a minute. Try again in 40 s."
    assert _rows(app, user) == 3
    clock.advance(seconds=41)
    _generate(app, user)
    assert _rows(app, user) == 4


def test_the_admin_role_is_unlimited_by_default(app: Services, admin: Account) -> None:
    for _ in range(8):
        _generate(app, admin.id)
    assert _rows(app, admin.id) == 8


def test_the_daily_quota_counts_kept_generations_and_resets_at_midnight(
    app: Services, user: uuid.UUID, clock: FakeClock
) -> None:
    def broken(_context: GenerationContext) -> ProducedMedia:
        raise ProviderError("The provider is down.")

    with pytest.raises(GenerationFailed):
        app.pipeline.run(user, image_spec(), broken)
    for _ in range(5):
        clock.advance(minutes=1)
        _generate(app, user)
    clock.advance(minutes=1)  # 12:06 UTC

    with pytest.raises(LimitReached) as refused:
        _generate(app, user)

    assert str(refused.value) == (
        "You have used today's 5 image generations. The quota resets at 00:00 UTC, in 11 h 54 min."
    )
    assert app.limits.used_today(user) == {
        Modality.IMAGE: 5,
        Modality.SPEECH: 0,
        Modality.CHAT: 0,
    }
    clock.advance(hours=12)
    _generate(app, user)


def test_an_override_beats_the_role_and_clearing_it_restores_the_role(
    app: Services, admin: Account, user: uuid.UUID, clock: FakeClock
) -> None:
    app.limits.set_overrides(admin, user, LimitOverrides(generations_per_minute=0, daily_image=1))
    assert app.limits.effective(user) == LimitOverrides(
        generations_per_minute=0, daily_image=1, daily_speech=0, daily_chat=0
    )
    _generate(app, user)
    with pytest.raises(LimitReached, match="today's 1 image generations"):
        _generate(app, user)

    app.limits.set_overrides(admin, user, LimitOverrides())

    assert app.limits.overrides(admin, user) == LimitOverrides()
    assert app.limits.effective(user) == app.limits.role_limits(Role.USER)
    for _ in range(3):
        _generate(app, user)
    with pytest.raises(LimitReached, match="3 generations a minute"):
        _generate(app, user)


def test_negative_limits_are_refused_in_plain_words(
    app: Services, admin: Account, user: uuid.UUID
) -> None:
    with pytest.raises(InvalidInput, match="cannot be negative"):
        app.limits.set_overrides(admin, user, LimitOverrides(daily_chat=-1))


def test_only_a_current_admin_may_read_or_change_limits(
    app: Services, admin: Account, user: uuid.UUID
) -> None:
    bob = app.auth.register("bob@example.com", PASSWORD, ip=None)
    with pytest.raises(PermissionDenied):
        app.limits.set_overrides(bob, user, LimitOverrides(daily_chat=100))
    with pytest.raises(PermissionDenied):
        app.limits.overrides(bob, user)
    # The page still holds an admin account, but the role was taken away meanwhile.
    with app.db.begin() as db:
        db.execute(update(User).where(User.id == admin.id).values(role="user"))
    with pytest.raises(PermissionDenied):
        app.limits.set_overrides(admin, user, LimitOverrides(daily_chat=100))
    assert app.limits.effective(user).daily_chat == 0


def test_deleting_a_generation_does_not_give_back_its_quota(
    app: Services, user: uuid.UUID, clock: FakeClock
) -> None:
    for _ in range(5):
        clock.advance(minutes=1)
        app.gallery.delete(user, app.pipeline.run(user, image_spec(), made_image).id)
    clock.advance(minutes=1)

    with pytest.raises(LimitReached, match="today's 5 image generations"):
        _generate(app, user)
    assert _rows(app, user) == 0


def test_a_refused_generation_leaves_nothing_behind(
    app: Services, admin: Account, user: uuid.UUID
) -> None:
    app.limits.set_overrides(admin, user, LimitOverrides(daily_image=0, generations_per_minute=1))
    _generate(app, user)
    produced: list[GenerationContext] = []

    def spy(context: GenerationContext) -> ProducedMedia:
        produced.append(context)
        return made_image(context)

    with pytest.raises(LimitReached):
        app.pipeline.run(user, image_spec(), spy)

    assert produced == []
    assert _rows(app, user) == 1
    prefix = "requests/"
    keys = [info.key for info in app.objects.list_objects(app.settings.s3_bucket_image, prefix)]
    assert len([key for key in keys if key.endswith("record.json")]) == 1


def test_a_refused_chat_message_starts_no_conversation(
    make_settings: Callable[..., object], clock: FakeClock
) -> None:
    fake_api = FakeOpenAI().start()
    settings = make_settings(
        chat_api_base_url=fake_api.base_url,
        chat_api_key="test-key",
        chat_api_models="gpt-4o-mini",
        limit_daily_chat_user=1,
    )
    app = start_services(settings, now=clock)  # type: ignore[arg-type]
    try:
        app.auth.register("admin@example.com", PASSWORD, ip=None)
        user = app.auth.register("user@example.com", PASSWORD, ip=None).id
        fake_api.enqueue(Reply(events=answer_events(["Hi", "."])))
        state = app.chat.new_conversation(provider="openai")
        app.chat.answer(user, state, "Hello?", on_text=lambda _t: None, cancel=threading.Event())

        with pytest.raises(LimitReached, match="today's 1 chat generations"):
            app.chat.answer(
                user,
                app.chat.new_conversation(provider="openai"),
                "Another thread?",
                on_text=lambda _t: None,
                cancel=threading.Event(),
            )

        with app.db() as db:
            assert db.scalar(select(func.count()).select_from(Conversation)) == 1
    finally:
        app.close()
        fake_api.stop()


def test_a_batch_is_admitted_all_or_none_counting_what_is_queued(
    app: Services, user: uuid.UUID, clock: FakeClock
) -> None:
    _generate(app, user)
    clock.advance(seconds=10)

    with pytest.raises(LimitReached) as refused:
        app.limits.admit(user, Modality.IMAGE, count=3)
    assert str(refused.value) == (
        "You can start 3 generations a minute. 2 more can start now. Try again in 50 s."
    )
    app.limits.admit(user, Modality.IMAGE, count=2)  # the refused batch counted nothing
    with pytest.raises(LimitReached):
        app.limits.admit(user, Modality.IMAGE)

    clock.advance(seconds=60)
    # 1 of today's 5 images is made and 2 more are queued: a batch of 3 would pass the quota.
    with pytest.raises(LimitReached, match="Today's quota leaves 2 image generations; you asked"):
        app.limits.admit(user, Modality.IMAGE, count=3, in_flight=lambda: 2)
