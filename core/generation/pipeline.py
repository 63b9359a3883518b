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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.errors import AtelierError
from core.generation.records import (
    UNEXPECTED_FAILURE,
    Cancelled,
    GenerationCancelled,
    GenerationContext,
    GenerationFailed,
    GenerationRecord,
    GenerationSpec,
    ProducedMedia,
    Progress,
    Usage,
)
from core.generation.rows import (
    delete_generation_row,
    find_generation_row,
    insert_generation_row,
    mark_generation_failed,
)
from core.generation.status import Status
from core.history import HistoryIndex, IndexEntry, request_prefix, thumbnail_key
from core.modality import Modality
from core.storable import require_storable
from storage.db import transaction
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

DATABASE_DOWN = "The database is not answering, so the result could not be kept. Try again soon."

# Refuses a generation before it starts (limits and quotas) by raising an AtelierError.
Admission = Callable[[uuid.UUID, Modality], None]


@dataclass(frozen=True)
class Attempt:
    """A queued job's run of a generation: admitted when queued, cancellable meanwhile."""

    # The job's first start: every attempt files the generation under the same day.
    started_at: datetime
    cancelled: Cancelled


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
        generation_id: uuid.UUID | None = None,
        progress: Progress | None = None,
        attempt: Attempt | None = None,
    ) -> GenerationRecord:
        """Admit, make one generation and keep it; raise `GenerationFailed` after recording a
        failure. A generation refused by the limits leaves nothing behind.

        `generation_id` is the caller's when the same work may be attempted again (a queued job
        delivered twice keeps one id); a new one is drawn otherwise. A queued job passes its
        `attempt`: it was admitted when it was queued, and may be cancelled while it runs.
        """
        require_storable(spec.prompt, "The prompt")
        require_storable(spec.params)
        if attempt is None:
            self._admit(user_id, spec.modality)
        say = progress or (lambda _message: None)
        record = self._new_record(
            user_id, spec, generation_id or uuid.uuid4(), attempt.started_at if attempt else None
        )

        def write_input() -> Future[str]:
            # Sent with the other files once the provider is done, not while it works: signing
            # and sending it then took CPU from a streamed answer's first token (2 cores).
            return self._pool.submit(self._put_json, record.bucket, record.input_key, spec.params)

        say(f"Generating with {spec.provider} · {spec.model}…")
        started = time.perf_counter()
        try:
            produced = produce(GenerationContext(record.id, record.bucket, _prefix(record)))
        except AtelierError as error:
            self._fail(record, spec, write_input(), str(error), started)
        except Exception:
            log.exception("provider crashed", extra={"generation_id": str(record.id)})
            self._fail(record, spec, write_input(), UNEXPECTED_FAILURE, started)
        if attempt is not None and attempt.cancelled():
            self._drop(record)

        say("Saving to your history…")
        record = self._completed(record, produced, _elapsed_ms(started))
        self._store_files(record, spec, produced, write_input(), started)
        self._index_and_count(record, spec, started)
        _count(record, started)
        return record

    def settle_earlier_attempt(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, modality: Modality, attempt: Attempt
    ) -> bool:
        """Before a generation is attempted again under the same id: True if an earlier
        attempt finished it (its row says completed). Otherwise what that attempt may have
        left (a failed row, an index line written before it died) is taken away, so the new
        attempt writes the only ones; its files are overwritten under the same keys."""
        with transaction(self._sessions) as db:
            row = find_generation_row(db, generation_id)
            if row is not None and row.user_id != user_id:
                raise AtelierError("That generation belongs to someone else.")
            if row is not None and row.status == Status.COMPLETED:
                return True
            if row is not None:
                delete_generation_row(db, generation_id)
        self._history.remove(user_id, modality, [generation_id], attempt.started_at.date())
        return False

    def _new_record(
        self,
        user_id: uuid.UUID,
        spec: GenerationSpec,
        generation_id: uuid.UUID,
        created_at: datetime | None,
    ) -> GenerationRecord:
        created_at = created_at or self._now()
        prefix = request_prefix(generation_id, created_at)
        return GenerationRecord(
            id=generation_id,
            user_id=user_id,
            modality=spec.modality,
            status=Status.RUNNING,
            provider=spec.provider,
            model=spec.model,
            prompt=spec.prompt,
            params=spec.params,
            created_at=created_at,
            bucket=self._bucket_for(spec.modality),
            input_key=prefix + "input.json",
            record_key=prefix + "record.json",
            meta={"source": spec.source.value},
            language=spec.language,
            voice=spec.voice,
            conversation_id=spec.conversation_id,
        )

    def _completed(
        self, record: GenerationRecord, produced: ProducedMedia, latency_ms: int
    ) -> GenerationRecord:
        media_key = _prefix(record) + produced.name
        return replace(
            record,
            status=Status.COMPLETED,
            model=produced.model or record.model,
            media_key=media_key,
            thumbnail_key=None if produced.thumbnail is None else thumbnail_key(media_key),
            content_type=produced.content_type,
            completed_at=self._now(),
            latency_ms=latency_ms,
            size_bytes=len(produced.data),
            meta={**record.meta, **produced.meta},
            usage=Usage.of(produced),
        )

    def _store_files(
        self,
        record: GenerationRecord,
        spec: GenerationSpec,
        produced: ProducedMedia,
        input_written: Future[str],
        started: float,
    ) -> None:
        """The media, its thumbnail, record.json and input.json, in parallel."""
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
            log.exception("could not store generation", extra={"generation_id": str(record.id)})
            self._delete_media_quietly(record)
            self._fail(record, spec, None, _plain(error), started)

    def _index_and_count(
        self, record: GenerationRecord, spec: GenerationSpec, started: float
    ) -> None:
        """The media and record exist: now the index line and the row may point at them."""
        index_written = self._pool.submit(
            self._history.append, record.user_id, IndexEntry.of(record)
        )
        row_written = self._pool.submit(self._insert_row, record)
        try:
            index_written.result()
        except Exception as error:
            log.exception("could not index generation", extra={"generation_id": str(record.id)})
            _wait_all(row_written, quiet=True)
            self._delete_media_quietly(record)
            self._fail(record, spec, None, _plain(error), started, row_exists=True)
        try:
            row_written.result()
        except Exception as error:
            # The Gallery, Home and the quotas read the rows: nothing the user sees may exist
            # without one. The index line and the media go again, and the generation failed.
            log.exception(
                "could not record generation row", extra={"generation_id": str(record.id)}
            )
            self._unindex_quietly(record)
            self._delete_media_quietly(record)
            self._fail(record, spec, None, _plain(error), started)

    def _fail(
        self,
        record: GenerationRecord,
        spec: GenerationSpec,
        input_written: Future[str] | None,
        reason: str,
        started: float,
        *,
        row_exists: bool = False,
    ) -> NoReturn:
        failed = replace(
            record,
            status=Status.FAILED,
            error=reason,
            completed_at=self._now(),
            latency_ms=_elapsed_ms(started),
            media_key=None,
            thumbnail_key=None,
            size_bytes=None,
            usage=Usage(),
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
                self._insert_row(failed)
        except Exception:
            log.exception(
                "could not record failed generation", extra={"generation_id": str(record.id)}
            )
        log.info(
            "generation failed",
            extra={"generation_id": str(record.id), "provider": spec.provider, "reason": reason},
        )
        _count(failed, started)
        raise GenerationFailed(reason, failed)

    def _drop(self, record: GenerationRecord) -> NoReturn:
        """Cancelled while the provider worked: keep none of it (a reference it stored goes)."""
        prefix = _prefix(record)
        try:
            for info in self._store.list_objects(record.bucket, prefix):
                self._store.delete(record.bucket, info.key)
        except Exception:  # noqa: BLE001 - best effort; nothing points at these files
            log.warning("could not clear cancelled files", extra={"generation_id": str(record.id)})
        log.info("generation cancelled", extra={"generation_id": str(record.id)})
        raise GenerationCancelled()

    def _put_json(self, bucket: str, key: str, document: dict[str, Any]) -> str:
        body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        return self._store.put(bucket, key, body, "application/json")

    def _insert_row(self, record: GenerationRecord) -> None:
        with transaction(self._sessions) as db:
            insert_generation_row(db, record)

    def _mark_row_failed(self, record: GenerationRecord) -> None:
        with transaction(self._sessions) as db:
            mark_generation_failed(db, record)

    def _unindex_quietly(self, record: GenerationRecord) -> None:
        try:
            self._history.remove(
                record.user_id, record.modality, [record.id], record.created_at.date()
            )
        except Exception:  # noqa: BLE001 - best effort; the failure itself is already reported
            log.warning("could not remove index line", extra={"generation_id": str(record.id)})

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


def _count(record: GenerationRecord, started: float) -> None:
    metrics.record_generation(
        record.modality.value,
        record.provider,
        record.model,
        record.status.value,
        time.perf_counter() - started,
    )


def _prefix(record: GenerationRecord) -> str:
    return request_prefix(record.id, record.created_at)


def _plain(error: Exception) -> str:
    if isinstance(error, AtelierError):
        return str(error)
    if isinstance(error, OperationalError):
        return DATABASE_DOWN
    return UNEXPECTED_FAILURE


def _wait_all(*futures: Future[Any], quiet: bool = False) -> None:
    """Wait for every future (so none is left running), then raise the first error unless quiet."""
    errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None and not quiet:
        raise first


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
