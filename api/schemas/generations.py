"""Bodies of the seeds' image and speech routes (seed 000's response: `id`, `status`, `s3`,
`meta` in camelCase; seed 002 adds `prompt`, `size`, `created_at`, `user_id`, `download_url`).

Responses are read from a generation's record.json (`GenerationRecord.to_json()` right after a
generation, the stored file later), so `POST .../generate` and `GET .../{id}` answer the same
shape from the same source.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInput
from core.generation.image import MAX_SEED
from core.providers.image.checks import MAX_PROMPT_CHARS

# The speech studio refuses text over SPEECH_MAX_CHARACTERS itself; this only bounds the body.
MAX_SPEECH_BODY_CHARS = 100_000


class _CamelCase(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ImageSettings(BaseModel):
    """Everything about an image but what to draw; each may be left out."""

    size: str = Field("512x512", max_length=32, examples=["512x512"], description="WIDTHxHEIGHT")
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="Left out: a random one, recorded."
    )
    model: str | None = Field(
        None,
        max_length=128,
        description="Left out: the engine's first model. Given alone: the first engine that "
        "offers it, the server's default engine first.",
    )
    style: str | None = Field(None, max_length=64, examples=["watercolor"])
    provider: str | None = Field(
        None, max_length=64, description="The engine, e.g. sketch or pollinations."
    )


class ImageGenerateBody(ImageSettings):
    prompt: str = Field(
        min_length=1, max_length=MAX_PROMPT_CHARS, examples=["cyberpunk alpaca with neon lights"]
    )


class MemoryBody(ImageSettings):
    """Seed 004's memory illustration: the prompt drawn with the caller's avatar as reference.
    Seed 004's `user_id` and `num_inference_steps` are accepted and ignored: the caller is who
    the credential says, and the engine's steps are the server's setting."""

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)


class SubjectBody(ImageSettings):
    """Seed 004's subject illustration: a portrait from a photo of the person, sent in the body
    as base64 (a `data:image/...;base64,` URL works too). JSON rather than multipart, like the
    rest of `/v1`; the photo is kept with the generation as its reference image."""

    image: str = Field(min_length=1, description="The photo: PNG, JPEG or WebP, base64.")
    prompt: str | None = Field(
        None, max_length=500, description="Extra words for the portrait (style, setting)."
    )

    def photo(self) -> bytes:
        data = self.image.strip()
        if data.startswith("data:"):
            data = data.partition(",")[2]
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("The image must be a base64-encoded PNG, JPEG or WebP.") from None


class SpeechGenerateBody(BaseModel):
    prompt: str = Field(
        min_length=1, max_length=MAX_SPEECH_BODY_CHARS, examples=["Hola, esto es una prueba"]
    )
    voice: str = Field(
        "en", min_length=1, max_length=16, description="The language code: en, es, ja, zh-CN..."
    )
    model: str | None = Field(
        None,
        max_length=64,
        description="gtts, gtts-slow, offline or offline-slow; left out: the server's default "
        "voices at normal speed.",
    )
    instant: bool = Field(
        False,
        strict=True,
        description="true: the offline voices read with espeak-ng, instant but robotic, instead "
        "of piper or Kokoro (natural, about 0.1x and 1x real time). Other providers ignore it.",
    )


class ImageFiles(BaseModel):
    record: str
    image: str | None


class ImageMeta(_CamelCase):
    provider: str
    model: str
    size: str | None
    latency_ms: int | None = Field(alias="latencyMs")
    content_type: str | None = Field(alias="contentType")
    seed: int | None
    style: str | None
    # "api" or "ui": which face asked for it.
    source: str | None


class ImageOut(BaseModel):
    id: uuid.UUID
    status: str
    prompt: str
    size: str | None
    created_at: datetime
    user_id: uuid.UUID
    s3: ImageFiles
    meta: ImageMeta
    # A signed link on S3; this API's download route on the local folder store.
    download_url: str | None

    @classmethod
    def of(cls, record: dict[str, Any], download_url: str | None) -> ImageOut:
        meta, params = record.get("meta", {}), record.get("input", {})
        size = meta.get("size") or params.get("size")
        return cls(
            id=record["id"],
            status=record["status"],
            prompt=record.get("prompt", ""),
            size=size,
            created_at=record["createdAt"],
            user_id=record["userId"],
            s3=ImageFiles(record=record["s3"]["record"], image=record["s3"].get("media")),
            meta=ImageMeta(
                provider=meta.get("provider", ""),
                model=meta.get("model", ""),
                size=size,
                latency_ms=meta.get("latencyMs"),
                content_type=meta.get("contentType"),
                seed=meta.get("seed", params.get("seed")),
                style=meta.get("style", params.get("style")),
                source=meta.get("source"),
            ),
            download_url=download_url,
        )


class SpeechFiles(BaseModel):
    record: str
    audio: str | None


class SpeechMeta(_CamelCase):
    provider: str
    model: str
    latency_ms: int | None = Field(alias="latencyMs")
    content_type: str | None = Field(alias="contentType")
    size_bytes: int | None = Field(alias="sizeBytes")
    duration_seconds: float | None = Field(alias="durationSeconds")
    # Which engine and voice really spoke, e.g. "piper · en_US joe (medium)".
    spoken_by: str | None = Field(alias="spokenBy")
    slow: bool | None
    instant: bool | None
    source: str | None


class SpeechOut(BaseModel):
    id: uuid.UUID
    status: str
    prompt: str
    # Seed 001's `voice` is the language code.
    voice: str | None
    model: str
    created_at: datetime
    user_id: uuid.UUID
    s3: SpeechFiles
    meta: SpeechMeta
    download_url: str | None

    @classmethod
    def of(cls, record: dict[str, Any], download_url: str | None) -> SpeechOut:
        meta, params = record.get("meta", {}), record.get("input", {})
        return cls(
            id=record["id"],
            status=record["status"],
            prompt=record.get("prompt", ""),
            voice=meta.get("language", params.get("language")),
            model=meta.get("model", ""),
            created_at=record["createdAt"],
            user_id=record["userId"],
            s3=SpeechFiles(record=record["s3"]["record"], audio=record["s3"].get("media")),
            meta=SpeechMeta(
                provider=meta.get("provider", ""),
                model=meta.get("model", ""),
                latency_ms=meta.get("latencyMs"),
                content_type=meta.get("contentType"),
                size_bytes=meta.get("sizeBytes"),
                duration_seconds=meta.get("durationSeconds"),
                spoken_by=meta.get("spokenBy"),
                slow=meta.get("slow", params.get("slow")),
                instant=meta.get("instant", params.get("instant")),
                source=meta.get("source"),
            ),
            download_url=download_url,
        )


class DownloadOut(BaseModel):
    """A signed link to the media on S3 (seed 000: "URL firmada")."""

    url: str
    expires_in: int = Field(description="Seconds the link stays valid.")


class IllustrationFile(BaseModel):
    s3_uri: str = Field(examples=["s3://atelier-image/requests/2025/10/01/.../original.png"])
    url: str | None


class IllustrationOut(BaseModel):
    """Seed 004's answer: `{"data": [{"s3_uri": ...}]}`, plus a link to fetch the image."""

    data: list[IllustrationFile]
