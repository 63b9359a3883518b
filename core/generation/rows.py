"""A generation's SQL row and usage event: the fast, countable copy of its record.json."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core.generation.records import GenerationRecord, GenerationSpec, ProducedMedia
from core.generation.status import Status, usage_event_type
from storage.models import Generation, UsageEvent


def insert_generation_row(
    db: Session, record: GenerationRecord, spec: GenerationSpec, produced: ProducedMedia | None
) -> None:
    db.add(
        Generation(
            id=record.id,
            user_id=record.user_id,
            modality=record.modality.value,
            provider=record.provider,
            model=record.model,
            status=record.status,
            prompt=record.prompt,
            language=spec.language,
            voice=spec.voice,
            s3_bucket=record.bucket,
            input_key=record.input_key,
            record_key=record.record_key,
            media_key=record.media_key,
            content_type=record.content_type,
            latency_ms=record.latency_ms,
            size_bytes=record.size_bytes,
            duration_seconds=_decimal(produced.duration_seconds) if produced else None,
            tokens_in=produced.tokens_in if produced else None,
            tokens_out=produced.tokens_out if produced else None,
            time_to_first_token_ms=produced.time_to_first_token_ms if produced else None,
            cost_usd=produced.cost_usd if produced else Decimal(0),
            error=record.error,
            created_at=record.created_at,
            completed_at=record.completed_at,
            meta={"params": record.params, **record.meta},
            conversation_id=spec.conversation_id,
        )
    )
    # The generation row must exist before the event that points at it.
    db.flush()
    db.add(
        UsageEvent(
            user_id=record.user_id,
            generation_id=record.id,
            event_type=usage_event_type(record.status),
            modality=record.modality.value,
            provider=record.provider,
            model=record.model,
            quantity=produced.usage_quantity if produced else Decimal(0),
            cost_usd=produced.cost_usd if produced else Decimal(0),
            created_at=record.completed_at or record.created_at,
            meta={"latency_ms": record.latency_ms},
        )
    )


def mark_generation_failed(db: Session, record: GenerationRecord) -> None:
    """A row already written for a generation that then failed: it no longer counts."""
    db.execute(
        update(Generation)
        .where(Generation.id == record.id)
        .values(status=Status.FAILED, error=record.error, media_key=None)
    )
    db.execute(
        update(UsageEvent)
        .where(UsageEvent.generation_id == record.id)
        .values(
            event_type=usage_event_type(Status.FAILED),
            quantity=Decimal(0),
            cost_usd=Decimal(0),
        )
    )


def find_generation_row(db: Session, generation_id: uuid.UUID) -> Generation | None:
    return db.get(Generation, generation_id)


def delete_generation_row(db: Session, generation_id: uuid.UUID) -> None:
    """An unfinished attempt's row and its event, before the same generation is tried again."""
    db.execute(delete(UsageEvent).where(UsageEvent.generation_id == generation_id))
    db.execute(delete(Generation).where(Generation.id == generation_id))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))
