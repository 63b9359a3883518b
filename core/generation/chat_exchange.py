"""One chat exchange: the conversation it continues, the generation it is, and the conversation
document it completes (the exchange's stored media, and the page's next state)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from core.generation.chat_stream import StreamedAnswer
from core.generation.records import GenerationSpec, Source
from core.modality import Modality
from core.providers.chat.base import ChatMessage, ChatRequest


@dataclass(frozen=True)
class AnswerStats:
    """How one answer was made, as the page says under it: kept with the answer in the
    conversation, so a conversation reopened later says it again."""

    answered_by: str
    time_to_first_token_ms: int | None
    tokens_per_second: float | None
    tokens_in: int
    tokens_out: int
    usage_estimated: bool

    @classmethod
    def of(cls, answer: StreamedAnswer, answered_by: str) -> AnswerStats:
        return cls(
            answered_by=answered_by,
            time_to_first_token_ms=answer.time_to_first_token_ms,
            tokens_per_second=answer.tokens_per_second,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            usage_estimated=answer.usage_estimated,
        )

    def to_json(self) -> dict[str, Any]:
        # The same names as in the exchange's record, where these facts were first kept.
        return {
            "answeredBy": self.answered_by,
            "timeToFirstTokenMs": self.time_to_first_token_ms,
            "tokensPerSecond": self.tokens_per_second,
            "tokensIn": self.tokens_in,
            "tokensOut": self.tokens_out,
            "usageEstimated": self.usage_estimated,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnswerStats:
        return cls(
            answered_by=data["answeredBy"],
            time_to_first_token_ms=data.get("timeToFirstTokenMs"),
            tokens_per_second=data.get("tokensPerSecond"),
            tokens_in=data["tokensIn"],
            tokens_out=data["tokensOut"],
            usage_estimated=data["usageEstimated"],
        )


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
    # How each assistant message was made, by its index; none for answers kept before these
    # were, or sent in by an API caller as earlier turns.
    stats: dict[int, AnswerStats] = field(default_factory=dict)
    # A cap on the answer's length (API callers' `max_tokens`); None leaves it to the provider.
    max_tokens: int | None = None


class Exchange:
    """One message and its answer. The answer is streamed inside the pipeline's `produce`;
    the conversation document it completes is both the stored media and the next state."""

    def __init__(self, state: ConversationState, asked: tuple[ChatMessage, ...]) -> None:
        self.state = state
        self.asked = asked
        self._answered: tuple[StreamedAnswer, AnswerStats] | None = None

    def request(self) -> ChatRequest:
        state = self.state
        system = (
            (ChatMessage("system", state.system_prompt),) if state.system_prompt.strip() else ()
        )
        return ChatRequest(
            messages=[*system, *self.asked],
            model=state.model,
            temperature=state.temperature,
            max_tokens=state.max_tokens,
        )

    def spec(self, provider: str, source: Source) -> GenerationSpec:
        state = self.state
        return GenerationSpec(
            modality=Modality.CHAT,
            provider=provider,
            model=state.model,
            prompt=self.asked[-1].content,
            params={
                "conversationId": str(state.id),
                "message": self.asked[-1].content,
                "system": state.system_prompt,
                "provider": provider,
                "model": state.model,
                "temperature": state.temperature,
                "turn": len(self.asked) // 2 + 1,
            },
            conversation_id=state.id,
            source=source,
        )

    def answered(self, answer: StreamedAnswer, *, answered_by: str) -> AnswerStats:
        stats = AnswerStats.of(answer, answered_by)
        self._answered = (answer, stats)
        return stats

    @property
    def answer(self) -> StreamedAnswer:
        return self._answer_and_stats[0]

    @property
    def _answer_and_stats(self) -> tuple[StreamedAnswer, AnswerStats]:
        if self._answered is None:
            raise RuntimeError("the exchange has no answer before the pipeline produced one")
        return self._answered

    @property
    def document(self) -> dict[str, Any]:
        state, (answer, made) = self.state, self._answer_and_stats
        endings = dict(state.endings)
        if answer.ended != "complete":
            endings[len(self.asked)] = answer.ended
        stats = {**state.stats, len(self.asked): made}
        messages = [*self.asked, ChatMessage("assistant", answer.text)]
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
                    **({"stats": stats[i].to_json()} if i in stats else {}),
                }
                for i, m in enumerate(messages)
            ],
        }


def messages_from(document: dict[str, Any]) -> dict[str, Any]:
    """The ConversationState fields a conversation document holds."""
    messages = []
    endings = {}
    stats = {}
    for index, item in enumerate(document.get("messages", [])):
        messages.append(ChatMessage(item["role"], item["content"]))
        if "ended" in item:
            endings[index] = item["ended"]
        if "stats" in item:
            stats[index] = AnswerStats.from_json(item["stats"])
    return {"messages": tuple(messages), "endings": endings, "stats": stats}
