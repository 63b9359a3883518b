"""Typed SQLAlchemy 2 models. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the account's deletion began: from then on nobody can sign in to it, and any
    # later attempt (or the sweep at start) finishes what an interrupted one left.
    deleting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthSession(Base):
    """One refresh token. Rotation retires a row and adds the next one in the same family;
    a family is everything that grew from one login."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # SHA-256 of the refresh token; empty until the browser has traded its handoff code.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (Index(None, "user_id", "revoked_at"),)


class Generation(Base):
    """One request to a provider, successful or not (fields of seed 002's `tts_conversions`)."""

    __tablename__ = "generations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # NULL once its account is deleted: the row stays for Analytics with nothing of the user's
    # (core/account_deletion.py blanks the words and the keys as it lets go of the owner).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(64))
    s3_bucket: Mapped[str] = mapped_column(String(128))
    input_key: Mapped[str | None] = mapped_column(String(512))
    record_key: Mapped[str | None] = mapped_column(String(512))
    media_key: Mapped[str | None] = mapped_column(String(512))
    content_type: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    time_to_first_token_ms: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)
    # Chat exchanges belong to a conversation; other modalities leave it empty.
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # The media's SHA-256, for imported images: the same file is kept once per user.
    content_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The admin list and the per-user views page by (created_at, id) under optional filters.
        Index(None, "created_at", "id"),
        Index(None, "user_id", "created_at", "id"),
        Index(None, "modality", "created_at"),
        Index(None, "status", "created_at"),
        Index(None, "provider", "model", "created_at"),
        Index(None, "conversation_id", "created_at"),
        Index(None, "user_id", "content_sha256"),
        # Analytics scan a period for everyone: on PostgreSQL this index answers it alone
        # (an index-only scan), without visiting a million heap rows.
        Index(
            "ix_generations_created_at_analytics",
            "created_at",
            postgresql_include=[
                "modality",
                "provider",
                "model",
                "status",
                "user_id",
                "latency_ms",
                "duration_seconds",
                "tokens_in",
                "tokens_out",
                "cost_usd",
            ],
        ),
    )


class Conversation(Base):
    """A chat thread. Its messages live in each exchange's conversation.json in the store."""

    __tablename__ = "conversations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    temperature: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "user_id", "updated_at"),)


class UsageEvent(Base):
    """An append-only fact for analytics: what was used, by whom, how much, at what cost."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # NULL once the account is deleted: the event still counts, for nobody.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    generation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    # Units depend on the modality: images, audio seconds, or output tokens.
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)

    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "event_type", "created_at"),
    )


class UserLimits(Base):
    """An administrator's override of the role's limits for one user; NULL keeps the role's."""

    __tablename__ = "user_limits"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    generations_per_minute: Mapped[int | None] = mapped_column(Integer)
    daily_image: Mapped[int | None] = mapped_column(Integer)
    daily_speech: Mapped[int | None] = mapped_column(Integer)
    daily_chat: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateLimitCounter(Base):
    """A fixed window per key: `count` hits since `window_started_at`."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)


class ApiKey(Base):
    """A personal API key: only its SHA-256 is kept; `prefix` lets its owner recognise it."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "user_id", "created_at"),)


class Job(Base):
    """A piece of queued work (seed 003's job): the source of truth for what its owner sees.
    The broker only carries the id; every change of state is a compare-and-set on this row."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # NULL for a deleted account's imports, kept (their request emptied) for their counts.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # The engine class whose workers may run it ("cpu", "gpu").
    queue: Mapped[str] = mapped_column(String(32))
    # The validated request, enough to run the job on any worker.
    request: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    generation_ids: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # What a long job has done so far, by its kind's own measure (an import's counts).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # First start: a retried attempt keeps it, so its files land in the same day folder.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Latest claim by a worker; the round robin between owners reads it.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "state", "queue", "created_at"),
        Index(None, "owner_id", "created_at"),
        Index(None, "owner_id", "state"),
        Index(None, "owner_id", "claimed_at"),
    )


class JobWorker(Base):
    """A worker process as it last advertised itself: the queues it listens on, its engines."""

    __tablename__ = "job_workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    queues: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    engines: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
