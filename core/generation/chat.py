"""Chat: conversations kept as a series of exchanges, each one a generation of its own.

Every exchange goes through the pipeline: its input.json holds the new message and settings,
its media (`chat/conversation.json`) the whole conversation up to and including the answer,
and its index line and row make it count and show in the gallery. A conversation is reopened
from its newest exchange.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InvalidInput, NotFound
from core.gallery import Gallery
from core.generation.chat_exchange import ConversationState, Exchange, messages_from
from core.generation.chat_stream import Ending, stream_answer
from core.generation.pipeline import GenerationPipeline
from core.generation.records import (
    GenerationContext,
    GenerationRecord,
    ProducedMedia,
    Progress,
    Source,
)
from core.generation.status import Status
from core.providers.chat.base import ChatMessage, ChatProvider
from core.providers.lookup import find_provider, require_model
from storage.db import transaction
from storage.models import Conversation, Generation
from storage.objects import ObjectMissing, ObjectStore

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 8000
TITLE_CHARS = 60
NOT_FOUND = "That conversation does not exist or is not yours."
THINKING = "Thinking…"


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
    created_at: datetime
    updated_at: datetime


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
        return find_provider(self.providers, name, kind="chat provider")

    def waiting_note(self, state: ConversationState) -> str:
        """Shown until the first words: a model not in memory yet takes seconds to load."""
        provider = self.providers.get(state.provider)
        note = provider.loading_note(state.model) if provider else None
        return note or THINKING

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
                select(
                    Conversation.id,
                    Conversation.title,
                    Conversation.created_at,
                    Conversation.updated_at,
                )
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
                    Generation.status == Status.COMPLETED,
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
        return replace(state, **messages_from(document))

    def answer(
        self,
        user_id: uuid.UUID,
        state: ConversationState,
        message: str,
        *,
        on_text: Callable[[str], None],
        cancel: threading.Event,
        progress: Progress | None = None,
        source: Source = Source.UI,
    ) -> tuple[ConversationState, ChatAnswer]:
        """Stream an answer to `message` through `on_text`, keep the exchange, return both."""
        message = message.strip()
        if not message:
            raise InvalidInput("Type a message first.")
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidInput(f"Keep a message under {MAX_MESSAGE_CHARS} characters.")
        provider = self.provider(state.provider)
        require_model(provider, state.model)
        if state.id is None:
            # The conversation row is only written once the exchange is admitted (in produce),
            # so a refused first message leaves no empty thread.
            state = replace(state, id=uuid.uuid4(), title=" ".join(message.split())[:TITLE_CHARS])
        else:
            with self._sessions() as db:
                self._own(db, user_id, state.id)
        exchange = Exchange(state, (*state.messages, ChatMessage("user", message)))

        def produce(_context: GenerationContext) -> ProducedMedia:
            # The conversation is written after the stream, so the first token does not wait
            # for it, and before the generation's row (completed or failed), which points at it.
            try:
                streamed = stream_answer(provider, exchange.request(), on_text, cancel)
            except BaseException:
                # The provider's error is the one to report, whatever happens to this write.
                try:
                    self._keep_conversation(user_id, state)
                except Exception:
                    log.exception("could not keep the conversation", extra={"id": str(state.id)})
                raise
            self._keep_conversation(user_id, state)
            answer = replace(streamed, model=streamed.model or state.model)
            stats = exchange.answered(
                answer, answered_by=_answered_by(provider.label, answer.model or state.model)
            )
            cost = self._prices.get(provider.name, ChatPrices()).cost(
                answer.tokens_in, answer.tokens_out
            )
            return ProducedMedia(
                data=json.dumps(exchange.document, ensure_ascii=False, indent=2).encode(),
                name="chat/conversation.json",
                content_type="application/json",
                meta={
                    **stats.to_json(),
                    "ended": answer.ended,
                    "notice": answer.notice,
                    "answerPreview": answer.text[:200],
                },
                model=answer.model,
                tokens_in=answer.tokens_in,
                tokens_out=answer.tokens_out,
                time_to_first_token_ms=answer.time_to_first_token_ms,
                cost_usd=cost,
                usage_quantity=Decimal(answer.tokens_out),
            )

        record = self._pipeline.run(
            user_id, exchange.spec(provider.name, source), produce, progress=progress
        )
        with transaction(self._sessions) as db:
            db.execute(
                update(Conversation)
                .where(Conversation.id == state.id, Conversation.user_id == user_id)
                .values(updated_at=self._now(), model=state.model, provider=provider.name)
            )
        streamed = exchange.answer
        return (
            replace(state, **messages_from(exchange.document)),
            ChatAnswer(streamed.text, streamed.ended, streamed.notice, record),
        )

    def delete(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        """Remove every exchange (files, index lines, rows), then the conversation."""
        with self._sessions() as db:
            self._own(db, user_id, conversation_id)
            exchanges = db.scalars(
                select(Generation.id).where(
                    Generation.conversation_id == conversation_id, Generation.user_id == user_id
                )
            ).all()
        self._gallery.delete_many(user_id, exchanges)
        with transaction(self._sessions) as db:
            db.execute(
                delete(Conversation).where(
                    Conversation.id == conversation_id, Conversation.user_id == user_id
                )
            )

    def _keep_conversation(self, user_id: uuid.UUID, state: ConversationState) -> None:
        """Create the conversation at its first exchange; keep its settings up to date."""
        assert state.id is not None
        with transaction(self._sessions) as db:
            conversation = db.get(Conversation, state.id)
            if conversation is None:
                db.add(
                    Conversation(
                        id=state.id,
                        user_id=user_id,
                        title=state.title,
                        system_prompt=state.system_prompt,
                        provider=state.provider,
                        model=state.model,
                        temperature=state.temperature,
                        created_at=self._now(),
                        updated_at=self._now(),
                    )
                )
                return
            db.execute(
                update(Conversation)
                .where(Conversation.id == state.id, Conversation.user_id == user_id)
                .values(system_prompt=state.system_prompt, temperature=state.temperature)
            )

    def _own(self, db: Session, user_id: uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
        conversation = db.get(Conversation, conversation_id)
        if conversation is None or conversation.user_id != user_id:
            raise NotFound(NOT_FOUND)
        return conversation


def _answered_by(label: str, model: str) -> str:
    # The offline provider's label already names its model.
    return label if model in label else f"{label} · {model}"
