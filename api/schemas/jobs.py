"""A job as the API answers it (seed 003 names its state `status`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.generations import ImageOut, SpeechOut


class JobProgress(BaseModel):
    fraction: float = Field(ge=0, le=1)
    message: str


class DomainCounts(BaseModel):
    done: int
    failed: int
    in_flight: int = Field(alias="inFlight", serialization_alias="in_flight")


class ImportCounts(BaseModel):
    """An import's counts (seed 003): done = downloaded + duplicates (kept once)."""

    total: int
    done: int
    downloaded: int
    duplicates: int
    failed: int
    cancelled: int
    bytes: int
    domains: dict[str, DomainCounts]
    # Failures by reason (e.g. "timeout", "not_an_image").
    reasons: dict[str, int]


class JobOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(examples=["image", "speech"])
    status: str = Field(examples=["pending", "running", "completed", "failed", "cancelled"])
    # The engine class of the workers that run it.
    queue: str
    progress: JobProgress
    # Jobs ahead of it while pending (an estimate under the round robin between users).
    position: int | None
    attempts: int
    cancel_requested: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # Where to follow it.
    url: str
    # What it made, once completed (an import lists its images' ids instead).
    generations: list[ImageOut | SpeechOut] = []
    # An import's counts, live while it runs.
    counts: ImportCounts | None = None
    image_ids: list[uuid.UUID] = []


class JobsOut(BaseModel):
    data: list[JobOut]
