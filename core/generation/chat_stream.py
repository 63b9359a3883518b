"""Streaming one answer from a chat provider: what arrived, how it ended, how fast it came."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatProvider, ChatRequest, StreamInterrupted
from core.storable import storable_text

Ending = Literal["complete", "stopped", "interrupted", "length"]


@dataclass(frozen=True)
class StreamedAnswer:
    text: str
    ended: Ending
    notice: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    usage_estimated: bool
    time_to_first_token_ms: int | None
    tokens_per_second: float | None


def stream_answer(
    provider: ChatProvider,
    request: ChatRequest,
    on_text: Callable[[str], None],
    cancel: threading.Event,
) -> StreamedAnswer:
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
                on_text(storable_text(delta.text))
            if delta.finish_reason is not None:
                last = delta
    except StreamInterrupted as interruption:
        # Keep what arrived; the record and the page say it was cut.
        ended, notice = "interrupted", f"The answer was cut off: {interruption}"
    if last.finish_reason == "cancelled":
        ended, notice = "stopped", "You stopped this answer."
    elif last.finish_reason == "length":
        ended, notice = "length", "The answer reached its length limit."
    # A model may send anything: a NUL, half of a surrogate pair in each of two pieces.
    text = storable_text("".join(parts))
    if not text:
        raise ProviderError(
            "The answer was stopped before it began."
            if ended == "stopped"
            else "The model sent an empty answer. Try again or rephrase."
        )
    finished = time.perf_counter()
    tokens_out = last.tokens_out if last.tokens_out is not None else max(1, len(text) // 4)
    streaming_seconds = finished - (first_token or finished)
    return StreamedAnswer(
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
