"""What the hardening suites found, one plain case each, on both backends (PostgreSQL refuses
NUL where SQLite keeps it; neither can encode a lone surrogate)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from core.auth.service import SignedIn
from core.errors import AuthenticationFailed, InvalidInput
from core.gallery import GalleryPage
from core.generation.image import ImageOrder
from core.services import Services, start_services
from storage.models import AuthSession
from tests.support.clock import FakeClock
from tests.support.consistency import disagreements
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events

PASSWORD = "correct horse 42"


@pytest.fixture
def app(
    make_settings: Callable[..., object], fake_api: FakeOpenAI, clock: FakeClock
) -> Iterator[Services]:
    settings = make_settings(
        **fake_api.app_settings,
    )
    built = start_services(settings, now=clock)  # type: ignore[arg-type]
    yield built
    built.close()


@pytest.mark.parametrize("password", ["correct horse \ud800", "\udfffcorrect horse 42"])
def test_a_password_with_a_broken_character_is_refused_and_logs_nobody_in(
    app: Services, password: str
) -> None:
    app.auth.register("ada@example.com", PASSWORD, ip=None)

    with pytest.raises(InvalidInput, match="cannot be kept"):
        app.auth.register("bob@example.com", password, ip=None)
    with pytest.raises(AuthenticationFailed, match="Wrong email or password"):
        app.auth.login("ada@example.com", password, ip=None)


def test_a_login_goes_through_whatever_its_headers_say(app: Services) -> None:
    app.auth.register("ada@example.com", PASSWORD, ip=None)
    agent = "Mozilla/5.0 \x00\ud800" + "x" * 1000

    signed_in = app.auth.login("ada@example.com", PASSWORD, ip="10.0.0.1\x00", user_agent=agent)

    assert isinstance(signed_in, SignedIn)
    with app.db() as db:
        row = db.scalars(
            select(AuthSession).where(AuthSession.family_id == signed_in.family_id)
        ).one()
    assert row.ip_address == "10.0.0.1"
    assert row.user_agent == ("Mozilla/5.0 " + "x" * 1000)[:512]


def test_a_model_answer_with_nul_or_halves_of_a_pair_is_kept_readable(
    app: Services, fake_api: FakeOpenAI
) -> None:
    user = app.auth.register("ada@example.com", PASSWORD, ip=None).id
    # A streamed emoji whose UTF-16 halves come in two pieces, a NUL, a lone half.
    fake_api.enqueue(Reply(events=answer_events(["Hi \ud83d", "\ude00 there\x00", "\udfff"])))
    shown: list[str] = []

    state, answer = app.chat.answer(
        user,
        app.chat.new_conversation(provider="openai"),
        "Hello",
        on_text=shown.append,
        cancel=threading.Event(),
    )

    assert answer.text == "Hi 😀 there\ufffd\ufffd"
    assert all(piece.encode() for piece in shown)
    assert state.id is not None
    assert app.chat.open(user, state.id).messages[-1].content == answer.text
    assert disagreements(app) == []


def test_a_search_for_text_no_prompt_can_hold_finds_nothing(app: Services) -> None:
    """SQLite cannot encode a lone surrogate, PostgreSQL refuses NUL: the search must not ask."""
    user = app.auth.register("ada@example.com", PASSWORD, ip=None).id
    app.images.generate(user, ImageOrder("a red fox", 64, 64, 1, "sketch-v2", None, "sketch"))

    for text in ("\x00", "fox\x00", "\ud800"):
        assert app.gallery.page(user, text=text) == GalleryPage([], None)
