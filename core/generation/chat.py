"""Chat: conversations kept as a series of exchanges, each one a generation of its own.

Every exchange goes through the pipeline: its input.json holds the new message and settings,
its media (`chat/conversation.json`) the whole conversation up to and including the answer,
and its index line and row make it count and show in the gallery. A conversation is reopened
from its newest exchange.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InvalidInput, NotFound, ProviderError
from core.gallery import Gallery
from core.generation.pipeline import (
    GenerationContext,
    GenerationPipeline,
    GenerationRecord,
    GenerationSpec,
    ProducedMedia,
    Progress,
)
from core.modality import Modality
from core.providers.chat.base import (
    ChatDelta,
    ChatMessage,
    ChatProvider,
    ChatRequest,
    StreamInterrupted,
)
from storage.db import transaction
from storage.models import Conversation, Generation
from storage.objects import ObjectMissing, ObjectStore

MAX_MESSAGE_CHARS = 8000
TITLE_CHARS = 60
NOT_FOUND = "That conversation does not exist or is not yours."

Ending = Literal["complete", "stopped", "interrupted", "length"]


@dataclass(frozen=True)
class ChatPrices:
    """USD per million tokens, for providers that bill (the offline model is free)."""

    input_per_million: Decimal = Decimal(0)
    output_per_million: Decimal = Decimal(0)

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        total = tokens_in * self.input_per_million + tokens_out * self.output_per_million
        return (total / Decimal(1_000_000)).quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class ConversationSummary:
    id: uuid.UUID
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class ConversationState:
    """What the chat page shows and sends: `id` is None until the first message is kept."""

    provider: str
    model: str
    temperature: float
    system_prompt: str = ""
    id: uuid.UUID | None = None
    title: str = "New conversation"
    messages: tuple[ChatMessage, ...] = ()
    # How each assistant message ended, by its index in `messages`; only non-complete ones.
    endings: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatAnswer:
    text: str
    ended: Ending
    # Plain words for an answer that did not end normally; None when it did.
    notice: str | None
    record: GenerationRecord


class ChatStudio:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        pipeline: GenerationPipeline,
        store: ObjectStore,
        gallery: Gallery,
        providers: dict[str, ChatProvider],
        *,
        default_provider: str,
        prices: dict[str, ChatPrices],
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._pipeline = pipeline
        self._store = store
        self._gallery = gallery
        self.providers = providers
        self.default_provider = default_provider
        self._prices = prices
        self._now = now

    def provider(self, name: str) -> ChatProvider:
        try:
            return self.providers[name]
        except KeyError:
            raise InvalidInput(f"There is no chat provider called {name!r}.") from None

    def new_conversation(
        self, *, provider: str | None = None, model: str | None = None, temperature: float = 0.7
    ) -> ConversationState:
        chosen = self.provider(provider or self.default_provider)
        return ConversationState(
            provider=chosen.name, model=model or chosen.models()[0], temperature=temperature
        )

    def conversations(self, user_id: uuid.UUID, limit: int = 50) -> list[ConversationSummary]:
        with self._sessions() as db:
            rows = db.execute(
                select(Conversation.id, Conversation.title, Conversation.updated_at)
                .where(Conversation.user_id == user_id)
                .order_by(Conversation.updated_at.desc())
                .limit(limit)
            ).all()
        return [ConversationSummary(*row) for row in rows]

    def open(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> ConversationState:
        with self._sessions() as db:
            conversation = self._own(db, user_id, conversation_id)
            newest = db.execute(
                select(Generation.s3_bucket, Generation.media_key)
                .where(
                    Generation.conversation_id == conversation_id,
                    Generation.user_id == user_id,
                    Generation.status == "completed",
                )
                .order_by(Generation.created_at.desc())
                .limit(1)
            ).one_or_none()
        state = ConversationState(
            id=conversation.id,
            title=conversation.title,
            provider=conversation.provider,
            model=conversation.model,
            temperature=conversation.temperature,
            system_prompt=conversation.system_prompt,
        )
        if newest is None or not newest.media_key:
            return state
        try:
            document = json.loads(self._store.get(newest.s3_bucket, newest.media_key).data)
        except ObjectMissing:
            return state
        return replace(state, **_messages_from(document))

    def answer(
        self,
        user_id: uuid.UUID,
        state: ConversationState,
        message: str,
        *,
        on_text: Callable[[str], None],
        cancel: threading.Event,
        progress: Progress | None = None,
    ) -> tuple[ConversationState, ChatAnswer]:
        """Stream an answer to `message` through `on_text`, keep the exchange, return both."""
        message = message.strip()
        if not message:
            raise InvalidInput("Type a message first.")
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidInput(f"Keep a message under {MAX_MESSAGE_CHARS} characters.")
        provider = self.provider(state.provider)
        if state.model not in provider.models():
            raise InvalidInput(f"{provider.label} has no model called {state.model!r}.")
        # Before the conversation is kept, so a refused first message leaves no empty thread.
        self._pipeline.admit(user_id, Modality.CHAT)
        state = self._keep_conversation(user_id, state, message)
        asked = (*state.messages, ChatMessage("user", message))
        spec = GenerationSpec(
            modality=Modality.CHAT,
            provider=provider.name,
            model=state.model,
            prompt=message,
            params={
                "conversationId": str(state.id),
                "message": message,
                "system": state.system_prompt,
                "provider": provider.name,
                "model": state.model,
                "temperature": state.temperature,
                "turn": len(asked) // 2 + 1,
            },
            conversation_id=state.id,
        )
        outcome: dict[str, Any] = {}

        def produce(_context: GenerationContext) -> ProducedMedia:
            streamed = _stream(provider, _request(state, asked), on_text, cancel)
            answer = replace(streamed, model=streamed.model or state.model)
            outcome["answer"] = answer
            conversation = _conversation_document(state, asked, answer)
            cost = self._prices.get(provider.name, ChatPrices()).cost(
                answer.tokens_in, answer.tokens_out
            )
            return ProducedMedia(
                data=json.dumps(conversation, ensure_ascii=False, indent=2).encode(),
                name="chat/conversation.json",
                content_type="application/json",
                meta={
                    "answeredBy": _answered_by(provider.label, answer.model or state.model),
                    "ended": answer.ended,
                    "notice": answer.notice,
                    "tokensIn": answer.tokens_in,
                    "tokensOut": answer.tokens_out,
                    "usageEstimated": answer.usage_estimated,
                    "timeToFirstTokenMs": answer.time_to_first_token_ms,
                    "tokensPerSecond": answer.tokens_per_second,
                    "answerPreview": answer.text[:200],
                },
                model=answer.model,
                tokens_in=answer.tokens_in,
                tokens_out=answer.tokens_out,
                time_to_first_token_ms=answer.time_to_first_token_ms,
                cost_usd=cost,
                usage_quantity=Decimal(answer.tokens_out),
            )

        record = self._pipeline.run(user_id, spec, produce, progress=progress, admitted=True)
        streamed: _Streamed = outcome["answer"]
        with transaction(self._sessions) as db:
            db.execute(
                update(Conversation)
                .where(Conversation.id == state.id, Conversation.user_id == user_id)
                .values(updated_at=self._now(), model=state.model, provider=provider.name)
            )
        endings = dict(state.endings)
        if streamed.ended != "complete":
            endings[len(asked)] = streamed.ended
        new_state = replace(
            state,
            messages=(*asked, ChatMessage("assistant", streamed.text)),
            endings=endings,
        )
        return new_state, ChatAnswer(streamed.text, streamed.ended, streamed.notice, record)

    def delete(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        """Remove every exchange (files, index lines, rows), then the conversation."""
        with self._sessions() as db:
            self._own(db, user_id, conversation_id)
            exchanges = db.scalars(
                select(Generation.id).where(
                    Generation.conversation_id == conversation_id, Generation.user_id == user_id
                )
            ).all()
        for generation_id in exchanges:
            self._gallery.delete(user_id, generation_id)
        with transaction(self._sessions) as db:
            db.execute(
                delete(Conversation).where(
                    Conversation.id == conversation_id, Conversation.user_id == user_id
                )
            )

    def _keep_conversation(
        self, user_id: uuid.UUID, state: ConversationState, message: str
    ) -> ConversationState:
        """Create the conversation at its first message; keep its settings up to date."""
        with transaction(self._sessions) as db:
            if state.id is None:
                title = " ".join(message.split())[:TITLE_CHARS]
                conversation = Conversation(
                    user_id=user_id,
                    title=title,
                    system_prompt=state.system_prompt,
                    provider=state.provider,
                    model=state.model,
                    temperature=state.temperature,
                    created_at=self._now(),
                    updated_at=self._now(),
                )
                db.add(conversation)
                db.flush()
                return replace(state, id=conversation.id, title=title)
            self._own(db, user_id, state.id)
            db.execute(
                update(Conversation)
                .where(Conversation.id == state.id)
                .values(system_prompt=state.system_prompt, temperature=state.temperature)
            )
        return state

    def _own(self, db: Session, user_id: uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
        conversation = db.get(Conversation, conversation_id)
        if conversation is None or conversation.user_id != user_id:
            raise NotFound(NOT_FOUND)
        return conversation


@dataclass(frozen=True)
class _Streamed:
    text: str
    ended: Ending
    notice: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    usage_estimated: bool
    time_to_first_token_ms: int | None
    tokens_per_second: float | None


def _request(state: ConversationState, asked: tuple[ChatMessage, ...]) -> ChatRequest:
    system = (ChatMessage("system", state.system_prompt),) if state.system_prompt.strip() else ()
    return ChatRequest(messages=[*system, *asked], model=state.model, temperature=state.temperature)


def _stream(
    provider: ChatProvider,
    request: ChatRequest,
    on_text: Callable[[str], None],
    cancel: threading.Event,
) -> _Streamed:
    started = time.perf_counter()
    first_token: float | None = None
    parts: list[str] = []
    last = ChatDelta()
    ended: Ending = "complete"
    notice: str | None = None
    try:
        for delta in provider.stream(request, cancel):
            if delta.text:
                first_token = first_token or time.perf_counter()
                parts.append(delta.text)
                on_text(delta.text)
            if delta.finish_reason is not None:
                last = delta
    except StreamInterrupted as interruption:
        # Keep what arrived; the record and the page say it was cut.
        ended, notice = "interrupted", f"The answer was cut off: {interruption}"
    if last.finish_reason == "cancelled":
        ended, notice = "stopped", "You stopped this answer."
    elif last.finish_reason == "length":
        ended, notice = "length", "The answer reached its length limit."
    text = "".join(parts)
    if not text:
        raise ProviderError(
            "The answer was stopped before it began."
            if ended == "stopped"
            else "The model sent an empty answer. Try again or rephrase."
        )
    finished = time.perf_counter()
    tokens_out = last.tokens_out if last.tokens_out is not None else max(1, len(text) // 4)
    streaming_seconds = finished - (first_token or finished)
    return _Streamed(
        text=text,
        ended=ended,
        notice=notice,
        model=last.model,
        tokens_in=last.tokens_in or 0,
        tokens_out=tokens_out,
        usage_estimated=last.usage_estimated or last.tokens_out is None,
        time_to_first_token_ms=round(((first_token or finished) - started) * 1000),
        tokens_per_second=round(tokens_out / streaming_seconds, 1)
        if streaming_seconds > 0
        else None,
    )


def _answered_by(label: str, model: str) -> str:
    # The offline provider's label already names its model.
    return label if model in label else f"{label} · {model}"


def _conversation_document(
    state: ConversationState, asked: tuple[ChatMessage, ...], answer: _Streamed
) -> dict[str, Any]:
    endings = {**state.endings}
    if answer.ended != "complete":
        endings[len(asked)] = answer.ended
    messages = [*asked, ChatMessage("assistant", answer.text)]
    return {
        "conversationId": str(state.id),
        "title": state.title,
        "system": state.system_prompt,
        "provider": state.provider,
        "model": answer.model,
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                **({"ended": endings[i]} if i in endings else {}),
            }
            for i, m in enumerate(messages)
        ],
    }


def _messages_from(document: dict[str, Any]) -> dict[str, Any]:
    messages = []
    endings = {}
    for index, item in enumerate(document.get("messages", [])):
        messages.append(ChatMessage(item["role"], item["content"]))
        if "ended" in item:
            endings[index] = item["ended"]
    return {"messages": tuple(messages), "endings": endings}
