"""Bodies of the OpenAI-compatible `/v1` routes, in OpenAI's wire shapes.

Requests accept the fields the `openai` SDK, Open WebUI and LibreChat send and ignore the rest
(pydantic's default), so a client that sends `user` or `presence_penalty` is not refused.
Responses carry the fields the SDK's types require (`openai.types`), so it parses every answer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    code: str | None
    param: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": OpenAIError, "description": description}


# The refusals every `/v1` route may answer, in OpenAI's error shape (api/errors.py writes them).
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request is invalid; the message says what to change."),
    401: _error("No valid API key or access token."),
    403: _error("The account may not do this."),
    404: _error("No such model (code `model_not_found`) or generation."),
    413: _error("The request body is too large."),
    429: _error("A generation limit was reached; `Retry-After` says when to try again."),
    502: _error("The engine behind the model failed."),
    503: _error("Storage or configuration is unavailable."),
}


# --- models ---------------------------------------------------------------------------------


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


# --- chat -----------------------------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message's content. Only text parts can be answered (no vision here)."""

    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    # A string, a list of parts (Open WebUI, LibreChat), or null (an assistant's tool call).
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    model: str = Field(max_length=200, examples=["SmolLM2-135M-Instruct"])
    messages: list[ChatMessageIn] = Field(max_length=500)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    # The newer name for max_tokens; the SDK sends either.
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32768)
    n: int = Field(default=1, ge=1, le=1, description="Only one answer per request.")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


FinishReason = Literal["stop", "length"]


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` event of a streamed answer (`text/event-stream`, ending with `[DONE]`)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    # Only in the last event, when `stream_options.include_usage` asked for it.
    usage: Usage | None = None


# --- images ---------------------------------------------------------------------------------


class ImageGenerationBody(BaseModel):
    prompt: str = Field(min_length=1, max_length=4000, examples=["a lighthouse at dusk"])
    model: str | None = Field(default=None, max_length=200, examples=["image/sketch/sketch-v2"])
    n: int = Field(default=1, ge=1, le=4)
    size: str | None = Field(default=None, max_length=20, examples=["512x512"])
    response_format: Literal["url", "b64_json"] = "url"
    # OpenAI's "vivid" / "natural", or one of Atelier's styles ("watercolor", "pixel-art", ...).
    style: str | None = Field(default=None, max_length=40)
    # Atelier's additions: a seed (image i of n uses seed + i) and seed 004's reference image.
    seed: int | None = None
    reference_image_url: str | None = Field(
        default=None,
        max_length=15 * 1024 * 1024,
        description=(
            "A `data:image/...;base64,` URL, or the `/image/{id}/download` URL of one of your "
            "own Atelier images. Other URLs are refused: the server does not fetch them."
        ),
    )


class ImageOut(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImagesOut(BaseModel):
    created: int
    data: list[ImageOut]


# --- speech ---------------------------------------------------------------------------------


class VoiceId(BaseModel):
    id: str = Field(max_length=64)


class SpeechBody(BaseModel):
    model: str = Field(max_length=200, examples=["tts-1", "speech/offline"])
    input: str = Field(min_length=1, max_length=4096, examples=["Hello from Atelier."])
    voice: str | VoiceId = Field(examples=["alloy", "es", "ja"])
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
