"""The chat provider protocol: messages in, a stream of text deltas out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    messages: list[ChatMessage]
    model: str
    temperature: float = 0.7
    max_tokens: int | None = None


@dataclass(frozen=True)
class ChatDelta:
    """One piece of the answer. The last one carries usage and why the answer ended."""

    text: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str | None = None
    model: str | None = None
    # True when the service reported no usage and the token counts are a guess from the text.
    usage_estimated: bool = False


class ChatProvider(Protocol):
    name: str
    label: str

    def close(self) -> None:
        """Release what the provider holds (connection pools); called once, when the services
        close."""
        ...

    def models(self) -> list[str]: ...

    def model_label(self, model: str) -> str:
        """How the model picker names `model`."""
        ...

    def model_caption(self, model: str) -> str | None:
        """What to say under the picker about `model` (speed, size); None when nothing is
        known."""
        ...

    def loading_note(self, model: str) -> str | None:
        """What someone waiting for `model`'s first words is told while it loads ("Loading
        Qwen2.5-Coder 1.5B (1.1 GB) into memory: a few seconds…"); None when nothing loads."""
        ...

    def stream(
        self, request: ChatRequest, cancel: threading.Event | None = None
    ) -> Iterator[ChatDelta]:
        """Yield deltas until the answer ends or `cancel` is set.

        Raise `core.errors.ProviderError` with a plain message when nothing could be produced;
        a stream cut after the first token raises `core.providers.chat.base.StreamInterrupted`
        so the caller can keep the partial answer.
        """
        ...


class StreamInterrupted(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
