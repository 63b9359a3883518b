"""Chat through the pipeline: streamed answers, kept conversations, honest endings, on both
backends, with the offline model and with an OpenAI-compatible API (a local fake of its wire)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from core.generation.chat import ChatAnswer
from core.generation.chat_exchange import ConversationState
from core.generation.records import GenerationFailed
from core.modality import Modality
from core.services import Services, start_services
from storage.models import Conversation, Generation
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events, error_reply

PASSWORD = "correct horse 42"


@pytest.fixture
def app(
    make_settings: Callable[..., object], fake_api: FakeOpenAI, clock: FakeClock
) -> Iterator[Services]:
    settings = make_settings(
        **fake_api.app_settings,
        chat_api_price_input_per_million_tokens=Decimal("2.5"),
        chat_api_price_output_per_million_tokens=Decimal("10"),
        local_chat_max_tokens=16,
    )
    built = start_services(settings, now=clock)  # type: ignore[arg-type]
    yield built
    built.close()


@pytest.fixture
def me(app: Services) -> uuid.UUID:
    return app.auth.register("ada@example.com", PASSWORD, ip=None).id


def _ask(
    app: Services, user: uuid.UUID, state: ConversationState, message: str,
    cancel: threading.Event | None = None,
) -> tuple[ConversationState, ChatAnswer, list[str]]:  # fmt: skip
    pieces: list[str] = []
    state, answer = app.chat.answer(
        user, state, message, on_text=pieces.append, cancel=cancel or threading.Event()
    )
    return state, answer, pieces


def test_an_api_answer_streams_and_is_kept_with_tokens_and_cost(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["Par", "is", "."], usage=(1000, 200))))
    state = app.chat.new_conversation(provider="openai")

    state, answer, pieces = _ask(app, me, state, "Capital of France?")

    assert pieces == ["Par", "is", "."]
    assert answer.text == "Paris." and answer.ended == "complete" and answer.notice is None
    assert [m.role for m in state.messages] == ["user", "assistant"]
    with app.db() as db:
        row = db.scalars(select(Generation)).one()
    assert (row.modality, row.tokens_in, row.tokens_out) == ("chat", 1000, 200)
    assert row.cost_usd == Decimal("0.004500")  # 1000 × 2.5/M + 200 × 10/M
    assert row.time_to_first_token_ms is not None and row.conversation_id == state.id
    sent = fake_api.chat_requests()[0].json
    assert sent["messages"] == [{"role": "user", "content": "Capital of France?"}]


def test_a_conversation_survives_and_continues(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI, clock: FakeClock
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["Hi!"])), Reply(events=answer_events(["Twice."])))
    state, _, _ = _ask(app, me, app.chat.new_conversation(provider="openai"), "Hello")
    clock.advance(seconds=5)
    state, _, _ = _ask(app, me, replace(state, system_prompt="Be brief."), "Again")

    reopened = app.chat.open(me, state.id or uuid.uuid4())

    assert [(m.role, m.content) for m in reopened.messages] == [
        ("user", "Hello"), ("assistant", "Hi!"), ("user", "Again"), ("assistant", "Twice."),
    ]  # fmt: skip
    assert reopened.system_prompt == "Be brief."
    assert [c.title for c in app.chat.conversations(me)] == ["Hello"]
    second = fake_api.chat_requests()[1].json["messages"]
    assert second[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"] for m in second[1:]] == ["Hello", "Hi!", "Again"]
    entries = app.gallery.page(me, modalities=[Modality.CHAT]).entries
    assert [e.prompt for e in entries] == ["Again", "Hello"]


def test_a_stream_cut_midway_keeps_the_partial_answer_and_marks_it(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["The ", "answer ", "is ", "long"]), cut_after=3))
    state = app.chat.new_conversation(provider="openai")

    state, answer, _ = _ask(app, me, state, "Tell me")

    assert answer.ended == "interrupted" and answer.text.startswith("The answer")
    assert "cut off" in (answer.notice or "")
    reopened = app.chat.open(me, state.id or uuid.uuid4())
    assert reopened.messages[-1].content == answer.text
    assert reopened.endings == {1: "interrupted"}


def test_stopping_keeps_what_arrived(app: Services, me: uuid.UUID, fake_api: FakeOpenAI) -> None:
    events = answer_events([f"word{n} " for n in range(40)])
    fake_api.enqueue(Reply(events=events, delay=0.02))
    cancel = threading.Event()
    state = app.chat.new_conversation(provider="openai")
    seen: list[str] = []

    def stop_after_three(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            cancel.set()

    state, answer = app.chat.answer(me, state, "Count", on_text=stop_after_three, cancel=cancel)

    assert answer.ended == "stopped"
    assert answer.text.startswith("word0 word1 word2") and len(answer.text.split()) < 40
    assert app.chat.open(me, state.id or uuid.uuid4()).endings == {1: "stopped"}


def test_a_refused_key_becomes_a_failed_exchange_in_plain_words(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(error_reply(401, "Incorrect API key provided"))
    state = app.chat.new_conversation(provider="openai")

    with pytest.raises(GenerationFailed, match="API key"):
        _ask(app, me, state, "Hello")

    with app.db() as db:
        assert db.scalars(select(Generation.status)).all() == ["failed"]


def test_the_offline_model_answers_and_says_which_model(app: Services, me: uuid.UUID) -> None:
    state = app.chat.new_conversation(provider="local")

    state, answer, pieces = _ask(app, me, state, "Say hello.")

    assert answer.text and "".join(pieces) == answer.text
    assert "SmolLM2" in answer.record.meta["answeredBy"]
    assert 0 < answer.record.meta["tokensOut"] <= 16
    assert answer.record.meta["tokensIn"] > 3 and not answer.record.meta["usageEstimated"]


def test_conversations_are_private_and_deletable(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["Secret."])))
    state, _, _ = _ask(app, me, app.chat.new_conversation(provider="openai"), "My secret")
    conversation = state.id or uuid.uuid4()
    eve = app.auth.register("eve@example.com", PASSWORD, ip=None).id

    assert app.chat.conversations(eve) == []
    with pytest.raises(NotFound):
        app.chat.open(eve, conversation)
    with pytest.raises(NotFound):
        app.chat.delete(eve, conversation)
    with pytest.raises(NotFound):
        _ask(app, eve, state, "Let me in")

    app.chat.delete(me, conversation)

    assert app.chat.conversations(me) == []
    assert app.gallery.page(me).entries == []
    with app.db() as db:
        assert db.scalar(select(func.count()).select_from(Generation)) == 0
        assert db.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize(
    ("message", "reason"), [("   ", "Type a message"), ("x" * 9000, "under 8000")]
)
def test_empty_or_huge_messages_are_refused(
    app: Services, me: uuid.UUID, message: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        _ask(app, me, app.chat.new_conversation(provider="openai"), message)


def test_the_conversation_json_is_the_whole_thread(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["Yes."])))
    state, answer, _ = _ask(app, me, app.chat.new_conversation(provider="openai"), "Kept?")
    document = json.loads(
        app.objects.get(app.settings.s3_bucket_chat, answer.record.media_key or "").data
    )
    assert document["conversationId"] == str(state.id)
    # What the page's caption under the answer needs, as the exchange's record has it.
    caption = ["answeredBy", "timeToFirstTokenMs", "tokensPerSecond", "tokensIn", "tokensOut"]
    stats = {k: answer.record.meta[k] for k in [*caption, "usageEstimated"]}
    assert document["messages"] == [
        {"role": "user", "content": "Kept?"},
        {"role": "assistant", "content": "Yes.", "stats": stats},
    ]
    assert answer.record.media_key.endswith("chat/conversation.json")  # type: ignore[union-attr]


def test_a_reopened_conversation_knows_how_each_answer_was_made(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI, clock: FakeClock
) -> None:
    fake_api.enqueue(
        Reply(events=answer_events(["Hi!"], usage=(9, 2))),
        Reply(events=answer_events(["Twice."], usage=None)),
    )
    state, first, _ = _ask(app, me, app.chat.new_conversation(provider="openai"), "Hello")
    # The conversation reopens from its newest exchange: a later one, as in life.
    clock.advance(seconds=5)
    state, second, _ = _ask(app, me, state, "Again")

    reopened = app.chat.open(me, state.id or uuid.uuid4())

    assert reopened.stats == state.stats
    assert sorted(reopened.stats) == [1, 3]
    made_first, made_second = reopened.stats[1], reopened.stats[3]
    assert made_first.answered_by == first.record.meta["answeredBy"]
    assert (made_first.tokens_in, made_first.tokens_out, made_first.usage_estimated) == (
        9, 2, False,
    )  # fmt: skip
    assert made_first.time_to_first_token_ms == first.record.meta["timeToFirstTokenMs"]
    assert made_second.usage_estimated and made_second.tokens_out == second.record.meta["tokensOut"]


def test_a_conversation_kept_before_answers_had_stats_still_opens(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["Yes."])))
    state, answer, _ = _ask(app, me, app.chat.new_conversation(provider="openai"), "Old?")
    bucket, key = app.settings.s3_bucket_chat, answer.record.media_key or ""
    document = json.loads(app.objects.get(bucket, key).data)
    for message in document["messages"]:
        message.pop("stats", None)
    app.objects.put(bucket, key, json.dumps(document).encode(), "application/json")

    reopened = app.chat.open(me, state.id or uuid.uuid4())

    assert [m.content for m in reopened.messages] == ["Old?", "Yes."]
    assert reopened.stats == {}


def test_conversations_are_listed_with_when_they_began(
    app: Services, me: uuid.UUID, fake_api: FakeOpenAI, clock: FakeClock
) -> None:
    fake_api.enqueue(Reply(events=answer_events(["A."])), Reply(events=answer_events(["B."])))
    _ask(app, me, app.chat.new_conversation(provider="openai"), "Same start")
    began = clock()
    clock.advance(days=1)
    _ask(app, me, app.chat.new_conversation(provider="openai"), "Same start")

    listed = app.chat.conversations(me)

    assert [c.title for c in listed] == ["Same start", "Same start"]
    assert [c.created_at for c in listed] == [clock(), began]
