"""A job as the API answers it (seed 003 names its state `status`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.generations import ImageOut, SpeechOut


class JobProgress(BaseModel):
    fraction: float = Field(ge=0, le=1)
    message: str


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
    # What it made, once completed.
    generations: list[ImageOut | SpeechOut] = []


class JobsOut(BaseModel):
    data: list[JobOut]
