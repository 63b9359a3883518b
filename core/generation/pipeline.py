"""The one generation pipeline shared by image, speech and chat.

validate (done by the caller) -> produce (the provider, timed) -> write media, input.json,
record.json -> append a line to the user's history index -> `generations` row + usage event.

A failure at any step leaves a `failed` record.json and row with the reason, and never an index
line that points at missing media: the index line is written only after the media and record.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.errors import AtelierError
from core.generation.status import Status, usage_event_type
from core.history import HistoryIndex, IndexEntry, request_prefix
from core.modality import Modality
from storage.db import transaction
from storage.models import Generation, UsageEvent
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# Refuses a generation before it starts (limits and quotas) by raising an AtelierError.
Admission = Callable[[uuid.UUID, Modality], None]


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
    status: str
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


UNEXPECTED_FAILURE = "The generation failed unexpectedly. It has been logged; please try again."


class GenerationPipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        history: HistoryIndex,
        *,
        bucket_for: Callable[[Modality], str],
        now: Callable[[], datetime],
        admit: Admission | None = None,
        workers: int = 16,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._history = history
        self._bucket_for = bucket_for
        self._now = now
        self._admit = admit or (lambda _user_id, _modality: None)
        # Independent writes (S3 objects, the SQL row) go out in parallel.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipeline")

    def run(
        self,
        user_id: uuid.UUID,
        spec: GenerationSpec,
        produce: Callable[[GenerationContext], ProducedMedia],
        *,
        progress: Progress | None = None,
        admitted: bool = False,
    ) -> GenerationRecord:
        """Make one generation and keep it; raise `GenerationFailed` after recording a failure.

        A generation refused by `admit` leaves nothing behind. Callers that must know before
        they write anything of their own call `admit` first and pass `admitted=True`.
        """
        if not admitted:
            self.admit(user_id, spec.modality)
        say = progress or (lambda _message: None)
        generation_id = uuid.uuid4()
        created_at = self._now()
        prefix = request_prefix(generation_id, created_at)
        record = GenerationRecord(
            id=generation_id,
            user_id=user_id,
            modality=spec.modality,
            status="running",
            provider=spec.provider,
            model=spec.model,
            prompt=spec.prompt,
            params=spec.params,
            created_at=created_at,
            bucket=self._bucket_for(spec.modality),
            input_key=prefix + "input.json",
            record_key=prefix + "record.json",
        )
        # input.json does not depend on the result: write it while the provider works.
        input_written = self._pool.submit(
            self._put_json, record.bucket, record.input_key, spec.params
        )

        say(f"Generating with {spec.provider} · {spec.model}…")
        started = time.perf_counter()
        try:
            produced = produce(GenerationContext(generation_id, record.bucket, prefix))
        except AtelierError as error:
            return self._fail(record, spec, input_written, str(error), started)
        except Exception:
            log.exception("provider crashed", extra={"generation_id": str(generation_id)})
            return self._fail(record, spec, input_written, UNEXPECTED_FAILURE, started)
        latency_ms = _elapsed_ms(started)

        say("Saving to your history…")
        record = replace(
            record,
            status=Status.COMPLETED,
            model=produced.model or spec.model,
            media_key=prefix + produced.name,
            thumbnail_key=_thumbnail_key(prefix, produced),
            content_type=produced.content_type,
            completed_at=self._now(),
            latency_ms=latency_ms,
            size_bytes=len(produced.data),
            meta=produced.meta,
        )
        writes = [
            input_written,
            self._pool.submit(
                self._store.put,
                record.bucket,
                record.media_key or "",
                produced.data,
                produced.content_type,
            ),
            self._pool.submit(self._put_json, record.bucket, record.record_key, record.to_json()),
        ]
        if produced.thumbnail is not None and record.thumbnail_key:
            writes.append(
                self._pool.submit(
                    self._store.put,
                    record.bucket,
                    record.thumbnail_key,
                    produced.thumbnail,
                    "image/webp",
                )
            )
        try:
            _wait_all(*writes)
        except Exception as error:
            log.exception("could not store generation", extra={"generation_id": str(generation_id)})
            self._delete_media_quietly(record)
            message = str(error) if isinstance(error, AtelierError) else UNEXPECTED_FAILURE
            return self._fail(record, spec, None, message, started)

        # The media and record exist: now the index line and the row may point at them.
        index_written = self._pool.submit(self._history.append, user_id, _index_entry(record))
        row_written = self._pool.submit(self._insert_row, record, spec, produced)
        try:
            index_written.result()
        except Exception as error:
            log.exception("could not index generation", extra={"generation_id": str(generation_id)})
            _wait_all(row_written, quiet=True)
            self._delete_media_quietly(record)
            message = str(error) if isinstance(error, AtelierError) else UNEXPECTED_FAILURE
            return self._fail(record, spec, None, message, started, row_exists=True)
        try:
            row_written.result()
        except Exception:
            # The user has their result and it is in their history; only the counts miss it.
            log.exception(
                "could not record generation row", extra={"generation_id": str(generation_id)}
            )
        return record

    def admit(self, user_id: uuid.UUID, modality: Modality) -> None:
        self._admit(user_id, modality)

    def _fail(
        self,
        record: GenerationRecord,
        spec: GenerationSpec,
        input_written: Future[str] | None,
        reason: str,
        started: float,
        *,
        row_exists: bool = False,
    ) -> GenerationRecord:
        failed = replace(
            record,
            status=Status.FAILED,
            error=reason,
            completed_at=self._now(),
            latency_ms=_elapsed_ms(started),
            media_key=None,
            thumbnail_key=None,
            size_bytes=None,
        )
        try:
            if input_written is not None:
                _wait_all(input_written, quiet=True)
            self._put_json(failed.bucket, failed.record_key, failed.to_json())
        except Exception:
            log.exception("could not store failed record", extra={"generation_id": str(record.id)})
        try:
            if row_exists:
                self._mark_row_failed(failed)
            else:
                self._insert_row(failed, spec, None)
        except Exception:
            log.exception(
                "could not record failed generation", extra={"generation_id": str(record.id)}
            )
        log.info(
            "generation failed",
            extra={"generation_id": str(record.id), "provider": spec.provider, "reason": reason},
        )
        raise GenerationFailed(reason, failed)

    def _put_json(self, bucket: str, key: str, document: dict[str, Any]) -> str:
        body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        return self._store.put(bucket, key, body, "application/json")

    def _insert_row(
        self, record: GenerationRecord, spec: GenerationSpec, produced: ProducedMedia | None
    ) -> None:
        with transaction(self._sessions) as db:
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

    def _mark_row_failed(self, record: GenerationRecord) -> None:
        with transaction(self._sessions) as db:
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

    def _delete_media_quietly(self, record: GenerationRecord) -> None:
        for key in (record.media_key, record.thumbnail_key):
            if key is None:
                continue
            try:
                self._store.delete(record.bucket, key)
            except Exception:  # noqa: BLE001 - best effort; the failure itself is already reported
                log.warning("could not delete orphan media", extra={"key": key})

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _thumbnail_key(prefix: str, produced: ProducedMedia) -> str | None:
    if produced.thumbnail is None:
        return None
    folder = produced.name.rpartition("/")[0]
    return f"{prefix}{folder + '/' if folder else ''}thumbnail.webp"


def _index_entry(record: GenerationRecord) -> IndexEntry:
    return IndexEntry(
        id=record.id,
        created_at=record.created_at,
        modality=record.modality,
        provider=record.provider,
        model=record.model,
        prompt=record.prompt,
        media_key=record.media_key or "",
        thumbnail_key=record.thumbnail_key,
        record_key=record.record_key,
        content_type=record.content_type or "",
        params=record.params,
        meta=record.meta,
    )


def _wait_all(*futures: Future[Any], quiet: bool = False) -> None:
    """Wait for every future (so none is left running), then raise the first error unless quiet."""
    errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None and not quiet:
        raise first


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))
