"""A generation's SQL row and usage event: the fast, countable copy of its record.json.

Both are derived from the record alone, here and nowhere else: the pipeline writes them when a
generation ends, and a rebuild from the object store (`core/rebuild.py`) writes the same ones
again from the stored record.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core.generation.records import GenerationRecord, Usage
from core.generation.status import Status, usage_event_type
from core.modality import Modality
from storage.models import Generation, UsageEvent


def generation_values(record: GenerationRecord) -> dict[str, Any]:
    """The `generations` row of a record, by attribute name."""
    usage = record.usage
    return {
        "id": record.id,
        "user_id": record.user_id,
        "modality": record.modality.value,
        "provider": record.provider,
        "model": record.model,
        "status": record.status,
        "prompt": record.prompt,
        "language": record.language,
        "voice": record.voice,
        "s3_bucket": record.bucket,
        "input_key": record.input_key,
        "record_key": record.record_key,
        "media_key": record.media_key,
        "content_type": record.content_type,
        "latency_ms": record.latency_ms,
        "size_bytes": record.size_bytes,
        "duration_seconds": _decimal(usage.duration_seconds),
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "time_to_first_token_ms": usage.time_to_first_token_ms,
        "cost_usd": usage.cost_usd,
        "error": record.error,
        "created_at": record.created_at,
        "completed_at": record.completed_at,
        "meta": {"params": record.params, **record.meta},
        "conversation_id": record.conversation_id,
    }


def usage_event_values(record: GenerationRecord) -> dict[str, Any]:
    """The usage event of a record, by attribute name."""
    return {
        "user_id": record.user_id,
        "generation_id": record.id,
        "event_type": usage_event_type(record.status),
        "modality": record.modality.value,
        "provider": record.provider,
        "model": record.model,
        "quantity": record.usage.quantity,
        "cost_usd": record.usage.cost_usd,
        "created_at": record.completed_at or record.created_at,
        "meta": {"latency_ms": record.latency_ms},
    }


def record_of_row(
    row: Generation, *, quantity: Decimal, thumbnail_key: str | None
) -> GenerationRecord:
    """The record a row was derived from (`generation_values` read back), for a record.json
    lost from storage. The row keeps neither the thumbnail's key nor the event's quantity."""
    if row.user_id is None:
        raise ValueError("a deleted account's row has no record to give back")
    meta = dict(row.meta)
    params = meta.pop("params", {})
    return GenerationRecord(
        id=row.id,
        user_id=row.user_id,
        modality=Modality(row.modality),
        status=Status(row.status),
        provider=row.provider,
        model=row.model,
        prompt=row.prompt,
        params=params,
        created_at=row.created_at,
        bucket=row.s3_bucket,
        input_key=row.input_key or "",
        record_key=row.record_key or "",
        media_key=row.media_key,
        thumbnail_key=thumbnail_key,
        content_type=row.content_type,
        completed_at=row.completed_at,
        latency_ms=row.latency_ms,
        size_bytes=row.size_bytes,
        meta=meta,
        error=row.error,
        language=row.language,
        voice=row.voice,
        conversation_id=row.conversation_id,
        usage=Usage(
            quantity=quantity,
            cost_usd=row.cost_usd,
            duration_seconds=None if row.duration_seconds is None else float(row.duration_seconds),
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            time_to_first_token_ms=row.time_to_first_token_ms,
        ),
    )


def insert_generation_row(db: Session, record: GenerationRecord) -> None:
    db.add(Generation(**generation_values(record)))
    # The generation row must exist before the event that points at it.
    db.flush()
    db.add(UsageEvent(**usage_event_values(record)))


def mark_generation_failed(db: Session, record: GenerationRecord) -> None:
    """A row already written for a generation that then failed: row and event become those of
    the failed record, so they no longer count and match what a rebuild derives from it."""
    row = generation_values(record)
    del row["id"]
    db.execute(update(Generation).where(Generation.id == record.id).values(**row))
    db.execute(
        update(UsageEvent)
        .where(UsageEvent.generation_id == record.id)
        .values(**usage_event_values(record))
    )


def find_generation_row(db: Session, generation_id: uuid.UUID) -> Generation | None:
    return db.get(Generation, generation_id)


def delete_generation_row(db: Session, generation_id: uuid.UUID) -> None:
    """An unfinished attempt's row and its event, before the same generation is tried again."""
    db.execute(delete(UsageEvent).where(UsageEvent.generation_id == generation_id))
    db.execute(delete(Generation).where(Generation.id == generation_id))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))
