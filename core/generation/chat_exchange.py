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
    # A cap on the answer's length (API callers' `max_tokens`); None leaves it to the provider.
    max_tokens: int | None = None


class Exchange:
    """One message and its answer. The answer is streamed inside the pipeline's `produce`;
    the conversation document it completes is both the stored media and the next state."""

    def __init__(self, state: ConversationState, asked: tuple[ChatMessage, ...]) -> None:
        self.state = state
        self.asked = asked
        self._answer: StreamedAnswer | None = None

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

    def answered(self, answer: StreamedAnswer) -> StreamedAnswer:
        self._answer = answer
        return answer

    @property
    def answer(self) -> StreamedAnswer:
        if self._answer is None:
            raise RuntimeError("the exchange has no answer before the pipeline produced one")
        return self._answer

    @property
    def document(self) -> dict[str, Any]:
        state, answer = self.state, self.answer
        endings = dict(state.endings)
        if answer.ended != "complete":
            endings[len(self.asked)] = answer.ended
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
                }
                for i, m in enumerate(messages)
            ],
        }


def messages_from(document: dict[str, Any]) -> dict[str, Any]:
    messages = []
    endings = {}
    for index, item in enumerate(document.get("messages", [])):
        messages.append(ChatMessage(item["role"], item["content"]))
        if "ended" in item:
            endings[index] = item["ended"]
    return {"messages": tuple(messages), "endings": endings}
