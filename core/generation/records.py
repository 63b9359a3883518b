"""What a generation is asked to make (`GenerationSpec`), what its provider made
(`ProducedMedia`) and what is kept of it (`GenerationRecord`, the seed's record.json).

record.json is the whole truth about a generation: its SQL row and usage event are derived from
the record alone (`core/generation/rows.py`), when it is made and again by a rebuild from the
object store (`core/rebuild.py`)."""

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
class Usage:
    """What a generation counts for: the measures its row adds up and its usage event's
    quantity. A failed generation counts for nothing (the defaults)."""

    quantity: Decimal = Decimal(0)
    cost_usd: Decimal = Decimal(0)
    duration_seconds: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    time_to_first_token_ms: int | None = None

    @classmethod
    def of(cls, produced: ProducedMedia) -> Usage:
        return cls(
            quantity=produced.usage_quantity,
            cost_usd=produced.cost_usd,
            duration_seconds=produced.duration_seconds,
            tokens_in=produced.tokens_in,
            tokens_out=produced.tokens_out,
            time_to_first_token_ms=produced.time_to_first_token_ms,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": _amount(self.quantity),
            "costUsd": _amount(self.cost_usd),
            "durationSeconds": self.duration_seconds,
            "tokensIn": self.tokens_in,
            "tokensOut": self.tokens_out,
            "timeToFirstTokenMs": self.time_to_first_token_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        return cls(
            quantity=Decimal(data.get("quantity", 0)),
            cost_usd=Decimal(data.get("costUsd", 0)),
            duration_seconds=data.get("durationSeconds"),
            tokens_in=data.get("tokensIn"),
            tokens_out=data.get("tokensOut"),
            time_to_first_token_ms=data.get("timeToFirstTokenMs"),
        )


def _amount(value: Decimal) -> str:
    # Text, since a float would not give back the exact decimal; and one text per amount,
    # whatever precision it was computed with or read back from a NUMERIC column.
    return f"{value.normalize():f}"


# The facts record.json keeps in "meta" beside the provider's own (`GenerationRecord.meta`).
RECORD_FACTS = ("provider", "model", "latencyMs", "contentType", "sizeBytes")


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
    language: str | None = None
    voice: str | None = None
    conversation_id: uuid.UUID | None = None
    usage: Usage = field(default_factory=Usage)

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
            "language": self.language,
            "voice": self.voice,
            "conversationId": str(self.conversation_id) if self.conversation_id else None,
            "usage": self.usage.to_json(),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> GenerationRecord:
        """The record a record.json holds (`to_json` read back)."""
        s3 = document["s3"]
        meta = dict(document["meta"])
        facts = {name: meta.pop(name, None) for name in RECORD_FACTS}
        completed_at = document.get("completedAt")
        conversation_id = document.get("conversationId")
        return cls(
            id=uuid.UUID(document["id"]),
            user_id=uuid.UUID(document["userId"]),
            modality=Modality(document["modality"]),
            status=Status(document["status"]),
            provider=facts["provider"],
            model=facts["model"],
            prompt=document["prompt"],
            params=document["input"],
            created_at=datetime.fromisoformat(document["createdAt"]),
            bucket=s3["bucket"],
            input_key=s3["input"],
            record_key=s3["record"],
            media_key=s3.get("media"),
            thumbnail_key=s3.get("thumbnail"),
            content_type=facts["contentType"],
            completed_at=datetime.fromisoformat(completed_at) if completed_at else None,
            latency_ms=facts["latencyMs"],
            size_bytes=facts["sizeBytes"],
            meta=meta,
            error=document.get("error"),
            language=document.get("language"),
            voice=document.get("voice"),
            conversation_id=uuid.UUID(conversation_id) if conversation_id else None,
            usage=Usage.from_json(document.get("usage") or {}),
        )


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
