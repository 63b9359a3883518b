"""Chat, Gallery and Home through AppTest: finding again what you made, and opening it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from core.auth.account import Account
from core.generation.image import ImageOrder
from core.services import Services
from storage.db import transaction
from storage.models import Conversation
from tests.support.fake_openai import MODEL, FakeOpenAI, Reply, answer_events
from tests.ui.conftest import APP, log_in

PASSWORD = "correct horse 42"


@pytest.fixture(autouse=True)
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """Chat answers from a local server speaking OpenAI's wire: quick, and known in advance.
    Autouse, so the variables are set before the app's services read them."""
    server = FakeOpenAI().start()
    monkeypatch.setenv("CHAT_API_BASE_URL", server.base_url)
    monkeypatch.setenv("CHAT_API_KEY", "test-key")
    monkeypatch.setenv("CHAT_API_MODELS", MODEL)
    monkeypatch.setenv("CHAT_API_RETRY_ATTEMPTS", "1")
    yield server
    server.stop()


@pytest.fixture
def ada(app_services: Services) -> Account:
    return app_services.auth.register("ada@example.com", PASSWORD, ip=None)


def _signed_in(page: str) -> AppTest:
    """A browser session of its own (nothing kept from another), logged in, on `page`."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return log_in(at, "ada@example.com", PASSWORD).switch_page(f"../pages/{page}").run()


def _image(app_services: Services, owner: Account, prompt: str, seed: int = 1) -> uuid.UUID:
    order = ImageOrder(
        prompt=prompt, width=64, height=64, seed=seed, model="sketch-v2", style=None,
        provider="sketch",
    )  # fmt: skip
    return app_services.images.generate(owner.id, order).id


def _answer_captions(at: AppTest) -> list[str]:
    return [str(c.value) for c in at.caption if "first token" in str(c.value)]


def _ask(at: AppTest, message: str) -> AppTest:
    at.chat_input[0].set_value(message)
    return at.run()


def test_a_reopened_conversation_shows_each_answers_caption(
    ada: Account, app_services: Services, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(
        Reply(events=answer_events(["Hi ", "there."], usage=(12, 3))),
        Reply(events=answer_events(["Again ", "hi."], usage=None)),
    )
    at = _ask(_ask(_signed_in("chat.py"), "Hello"), "Once more")
    assert not at.error, [e.value for e in at.error]
    made = _answer_captions(at)
    assert len(made) == 2, made
    assert "12 → 3 tokens" in made[0] and made[1].endswith("(estimated)")

    reopened = _signed_in("chat.py")
    assert _answer_captions(reopened) == []
    (conversation,) = app_services.chat.conversations(ada.id)
    reopened.button(key=f"conversation-{conversation.id}").click()
    reopened.run()

    assert len(reopened.chat_message) == 4
    assert _answer_captions(reopened) == made


def test_conversations_with_the_same_first_message_are_told_apart_by_date(
    ada: Account, app_services: Services, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["A."])), Reply(events=answer_events(["B."])))
    for _ in range(2):
        state = app_services.chat.new_conversation()
        app_services.chat.answer(
            ada.id, state, "Plan my week", on_text=lambda _: None, cancel=threading.Event()
        )
    newer, older = (c.id for c in app_services.chat.conversations(ada.id))
    with transaction(app_services.db) as db:
        began = {c.id: c.created_at for c in db.scalars(select(Conversation))}
        began[older] -= timedelta(days=3)
        db.execute(
            update(Conversation).where(Conversation.id == older).values(created_at=began[older])
        )

    at = _signed_in("chat.py")

    labels = [at.button(key=f"conversation-{c}").label for c in (newer, older)]
    assert labels == [f"Plan my week · {began[c]:%b %d, %H:%M}" for c in (newer, older)]


def test_a_recent_card_on_home_opens_its_item_in_the_gallery(
    ada: Account, app_services: Services
) -> None:
    _image(app_services, ada, "a fox in snow")
    _image(app_services, ada, "a kite over hills", seed=2)
    home = _signed_in("home.py")
    assert [b.label for b in home.button if b.key and b.key.startswith("recent-")] == [
        "Open “a kite over hills”",
        "Open “a fox in snow”",
    ]

    next(b for b in home.button if b.label == "Open “a fox in snow”").click()
    at = home.run()

    assert [t.value for t in at.title] == ["🖼️ Gallery"]
    assert "a fox in snow" in [str(m.value).strip("*") for m in at.markdown]
    assert any(b.label == "Use these settings" for b in at.button)


def test_an_opened_generation_shows_its_parameters_as_a_table(
    ada: Account, app_services: Services
) -> None:
    _image(app_services, ada, "a lighthouse at dusk", seed=12)
    at = _signed_in("gallery.py")

    at.button(key=next(b.key for b in at.button if b.label.startswith("Open “"))).click()
    at.run()

    (table,) = at.table
    shown = dict(zip(table.value["Parameter"], table.value["Value"], strict=True))
    assert shown["Seed"] == "12" and shown["Size"] == "64x64" and shown["Model"] == "sketch\\-v2"
    assert shown["Style"] == "–"
    assert [e.label for e in at.expander] == ["Everything in its record"]
    assert len(at.json) == 1


def test_the_gallery_filters_and_cards_have_names_of_their_own(
    ada: Account, app_services: Services
) -> None:
    _image(app_services, ada, "a fox in snow")
    _image(app_services, ada, "a kite over hills", seed=2)

    at = _signed_in("gallery.py")

    # A multiselect's menu button is called "Open" whatever its label; toggles say their kind.
    assert not at.multiselect
    assert at.pills[0].label == "Show"
    assert at.pills[0].options == ["Images", "Speech", "Chat"]
    cards = [b.label for b in at.button if b.key and b.key.startswith("open-")]
    assert cards == ["Open “a kite over hills”", "Open “a fox in snow”"]
