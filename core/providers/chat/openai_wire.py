"""The OpenAI chat-completions wire format: the request body, stream chunks, error bodies.

Pure functions over JSON, so the provider module only deals with transport and timing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from core.providers.chat.base import ChatMessage, ChatRequest

# The end-of-stream marker OpenAI sends as the last `data:` line.
DONE_MARKER = "[DONE]"

# English text averages about four characters per token in the GPT tokenizers; the estimate
# is only used when a service reports no usage, and is marked as estimated.
_CHARACTERS_PER_TOKEN = 4
# Each message costs a few tokens of chat-template framing on top of its text.
_TOKENS_PER_MESSAGE = 4


def chat_completion_body(
    request: ChatRequest, model: str, *, include_usage: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": request.temperature,
        "stream": True,
    }
    if include_usage:
        # Without this, OpenAI-style servers send no token counts on a streamed answer.
        body["stream_options"] = {"include_usage": True}
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    return body


@dataclass(frozen=True)
class StreamChunk:
    """What one `data:` event of a streamed answer says."""

    text: str = ""
    finish_reason: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    error: str | None = None

    @property
    def has_usage(self) -> bool:
        return self.tokens_in is not None and self.tokens_out is not None


def parse_stream_chunk(data: str) -> StreamChunk:
    """Read one event's data; raises `ValueError` when it is not a JSON object."""
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    if "error" in payload:
        return StreamChunk(error=error_message(payload) or "unknown error")
    text = ""
    finish_reason = None
    choices = payload.get("choices") or []
    if choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        text = content if isinstance(content, str) else ""
        finish_reason = choices[0].get("finish_reason")
    usage = payload.get("usage") or {}
    return StreamChunk(
        text=text,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        model=payload.get("model") if isinstance(payload.get("model"), str) else None,
        tokens_in=_count(usage, "prompt_tokens"),
        tokens_out=_count(usage, "completion_tokens"),
    )


def parse_full_completion(payload: Any) -> StreamChunk:
    """A whole (non-streamed) answer, from a server that ignored `stream: true`."""
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    choices = payload.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        raise ValueError("the answer has no choices")
    message = choices[0].get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise ValueError("the answer has no text")
    usage = payload.get("usage") or {}
    return StreamChunk(
        text=content,
        finish_reason=choices[0].get("finish_reason") or "stop",
        model=payload.get("model") if isinstance(payload.get("model"), str) else None,
        tokens_in=_count(usage, "prompt_tokens"),
        tokens_out=_count(usage, "completion_tokens"),
    )


def error_message(payload: Any, *, limit: int = 300) -> str:
    """The human part of an error body: OpenAI's `{"error": {"message"}}` and its cousins."""
    message: Any = None
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("detail", payload.get("message")))
        message = error.get("message") if isinstance(error, dict) else error
    elif isinstance(payload, str):
        message = payload
    if not isinstance(message, str):
        return ""
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def error_message_from_body(body: bytes) -> str:
    try:
        return error_message(json.loads(body))
    except ValueError:
        text = body.decode("utf-8", errors="replace").strip()
        # An HTML error page says nothing useful in one line.
        return "" if text.startswith("<") else error_message(text)


def estimate_prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(_TOKENS_PER_MESSAGE + estimate_text_tokens(m.content) for m in messages)


def estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARACTERS_PER_TOKEN)


def _count(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
