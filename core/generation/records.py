"""What a generation is asked to make (`GenerationSpec`), what its provider made
(`ProducedMedia`) and what is kept of it (`GenerationRecord`, the seed's record.json)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.errors import AtelierError
from core.generation.status import Status
from core.modality import Modality

Progress = Callable[[str], None]


class Source(StrEnum):
    """Which face asked for a generation; kept in its record so the Gallery can say so."""

    UI = "ui"
    API = "api"
    IMPORT = "import"


@dataclass(frozen=True)
class GenerationSpec:
    """What the user asked for, already validated."""

    modality: Modality
    provider: str
    model: str
    prompt: str
    # Written as input.json and kept in the index line, so the settings can be replayed.
    params: dict[str, Any]
    language: str | None = None
    voice: str | None = None
    conversation_id: uuid.UUID | None = None
    source: Source = Source.UI


@dataclass(frozen=True)
class GenerationContext:
    """Where this generation's files go, for producers that keep inputs of their own."""

    id: uuid.UUID
    bucket: str
    prefix: str


@dataclass(frozen=True)
class ProducedMedia:
    """What a provider made, plus the facts worth counting."""

    data: bytes
    # Path inside the request folder, e.g. "image/original.png" or "audio/output.mp3".
    name: str
    content_type: str
    meta: dict[str, Any] = field(default_factory=dict)
    # The model that really answered, when it differs from the one asked for.
    model: str | None = None
    duration_seconds: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    time_to_first_token_ms: int | None = None
    cost_usd: Decimal = Decimal(0)
    # Units for analytics: images made, seconds of audio, or output tokens.
    usage_quantity: Decimal = Decimal(1)
    # A small preview for the gallery (WebP), stored next to the media.
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class GenerationRecord:
    """record.json: the seed's response shape (id, status, s3 keys, meta) with the input."""

    id: uuid.UUID
    user_id: uuid.UUID
    modality: Modality
    status: Status
    provider: str
    model: str
    prompt: str
    params: dict[str, Any]
    created_at: datetime
    bucket: str
    input_key: str
    record_key: str
    media_key: str | None = None
    thumbnail_key: str | None = None
    content_type: str | None = None
    completed_at: datetime | None = None
    latency_ms: int | None = None
    size_bytes: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "userId": str(self.user_id),
            "modality": self.modality.value,
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
            "completedAt": self.completed_at.isoformat() if self.completed_at else None,
            "prompt": self.prompt,
            "input": self.params,
            "s3": {
                "bucket": self.bucket,
                "input": self.input_key,
                "record": self.record_key,
                "media": self.media_key,
                "thumbnail": self.thumbnail_key,
            },
            "meta": {
                "provider": self.provider,
                "model": self.model,
                "latencyMs": self.latency_ms,
                "contentType": self.content_type,
                "sizeBytes": self.size_bytes,
                **self.meta,
            },
            "error": self.error,
        }


class GenerationFailed(AtelierError):
    def __init__(self, message: str, record: GenerationRecord) -> None:
        self.record = record
        super().__init__(message)


class GenerationCancelled(AtelierError):
    """Its owner cancelled it while the provider worked: nothing of it is kept."""

    def __init__(self) -> None:
        super().__init__("Cancelled: nothing was kept.")


# Asked after the provider returns: True drops the result (a queued job cancelled meanwhile).
Cancelled = Callable[[], bool]

UNEXPECTED_FAILURE = "The generation failed unexpectedly. It has been logged; please try again."
