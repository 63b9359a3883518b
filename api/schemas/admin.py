"""Seed 002's admin listings: `{"images" | "audios": [...], "total", "page", "per_page"}`."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from core.admin.generations import AdminListedGeneration


class _AdminItem(BaseModel):
    id: uuid.UUID
    prompt: str
    user_id: uuid.UUID
    user_email: str
    created_at: datetime
    status: str
    provider: str
    model: str


class AdminImage(_AdminItem):
    size: str | None

    @classmethod
    def of(cls, listed: AdminListedGeneration) -> AdminImage:
        # The size drawn for a completed image; the one asked for otherwise.
        size = listed.meta.get("size") or listed.meta.get("params", {}).get("size")
        return cls(**_common(listed), size=size)


class AdminAudio(_AdminItem):
    # Seed 002's `tts_conversions` names.
    voice: str | None
    language: str | None
    duration_seconds: Decimal | None
    file_size_bytes: int | None

    @classmethod
    def of(cls, listed: AdminListedGeneration) -> AdminAudio:
        return cls(
            **_common(listed),
            voice=listed.voice,
            language=listed.language,
            duration_seconds=listed.duration_seconds,
            file_size_bytes=listed.row.size_bytes,
        )


def _common(listed: AdminListedGeneration) -> dict[str, Any]:
    row = listed.row
    return {
        "id": row.id,
        "prompt": row.prompt,
        "user_id": row.user_id,
        "user_email": row.email,
        "created_at": row.created_at,
        "status": row.status,
        "provider": row.provider,
        "model": row.model,
    }


class _Page(BaseModel):
    total: int
    page: int
    per_page: int


class AdminImagesOut(_Page):
    images: list[AdminImage]


class AdminAudiosOut(_Page):
    audios: list[AdminAudio]
