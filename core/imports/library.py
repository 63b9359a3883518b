"""Where imported images are kept, and how they join the user's library.

In the imports bucket, seed 003's layout under the owner's id:
    {userId}/{collection}/{documentId}-{field}/original/img_001.jpg    the file as it arrived
                                              /processed/img_001.webp  its thumbnail
                                              /records/img_001.json    its record
                                              /metadata.json           every URL's outcome
    {userId}/{collection}/collection.json                              the uploaded documents

Each kept image is also a `generations` row (provider "import") and a line in the owner's image
history, so the Gallery lists it, opens it and offers it as a reference. The files go first,
then the rows, then the index lines: nothing the user can see exists before what it points at.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InvalidInput
from core.gallery import entry_from_row, read_record_of_row
from core.generation.records import GenerationRecord, Source
from core.generation.status import Status
from core.history import HistoryIndex, IndexEntry
from core.imports.sources import CsvRow, document_folder, key_segment
from core.imports.validate import InspectedImage
from core.modality import Modality
from storage.db import transaction
from storage.models import Generation, UsageEvent
from storage.objects import ObjectMissing, ObjectStore

log = logging.getLogger(__name__)

IMPORT_PROVIDER = "import"
IMPORT_EVENT = "import.completed"
METADATA = "metadata.json"


@dataclass(frozen=True)
class ImageOrigin:
    """Where an imported image came from and how getting it went."""

    collection: str
    document_id: str
    field: str
    number: int
    url: str
    final_url: str
    domain: str
    attempts: int
    elapsed_ms: int


@dataclass(frozen=True)
class StoredImage:
    """An image whose files are in the bucket, not yet in the library."""

    record: GenerationRecord
    origin: ImageOrigin
    sha256: str


def document_prefix(user_id: uuid.UUID, collection: str, document_id: str, field: str) -> str:
    return f"{user_id}/{document_folder(collection, document_id, field)}"


def image_stem(number: int) -> str:
    return f"img_{number:03d}"


class ImportLibrary:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        history: HistoryIndex,
        *,
        bucket: str,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._history = history
        self.bucket = bucket

    # --- what is there already ---

    def kept_hashes(self, user_id: uuid.UUID) -> dict[str, uuid.UUID]:
        """The SHA-256 of every file the user has imported, and which image holds it."""
        with self._sessions() as db:
            found = db.execute(
                select(Generation.content_sha256, Generation.id).where(
                    Generation.user_id == user_id,
                    Generation.content_sha256.is_not(None),
                    Generation.status == Status.COMPLETED.value,
                )
            ).all()
        return {sha: generation_id for sha, generation_id in found if sha}

    def existing(self, generation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Generation]:
        """Rows an earlier attempt of the same job already wrote (ids are derived from it)."""
        if not generation_ids:
            return {}
        with self._sessions() as db:
            rows = db.scalars(select(Generation).where(Generation.id.in_(generation_ids))).all()
            db.expunge_all()
        return {row.id: row for row in rows}

    def reindex(self, user_id: uuid.UUID, rows: Sequence[Generation]) -> None:
        """An earlier attempt may have died between rows and their index lines: write the
        lines again, once (any already there go first), one rewrite per day file."""
        by_day: dict[date, list[uuid.UUID]] = defaultdict(list)
        for row in rows:
            by_day[row.created_at.date()].append(row.id)
        for day, ids in by_day.items():
            self._history.remove(user_id, Modality.IMAGE, ids, day)
        self._history.append_many(user_id, [_entry_of_row(row) for row in rows])

    # --- keeping ---

    def store_files(
        self,
        user_id: uuid.UUID,
        generation_id: uuid.UUID,
        data: bytes,
        image: InspectedImage,
        origin: ImageOrigin,
        now: datetime,
    ) -> StoredImage:
        prefix = document_prefix(user_id, origin.collection, origin.document_id, origin.field)
        # The image's id in its name: a later import of the same document (whose images take
        # the same numbers) never overwrites a file an earlier image's row points at.
        stem = f"{image_stem(origin.number)}-{generation_id.hex[:8]}"
        media_key = f"{prefix}original/{stem}.{image.extension}"
        # A small image is its own thumbnail.
        thumbnail_key = f"{prefix}processed/{stem}.webp" if image.thumbnail else media_key
        # No record file per image (a PUT cost more than the download): the row is the
        # image's record, and its document's metadata.json the whole truth in S3.
        record_key = f"{prefix}{METADATA}"
        record = GenerationRecord(
            id=generation_id,
            user_id=user_id,
            modality=Modality.IMAGE,
            status=Status.COMPLETED,
            provider=IMPORT_PROVIDER,
            model=origin.domain,
            prompt=f"{origin.document_id} · {origin.url}"[:2000],
            params={
                "sourceUrl": origin.url,
                "finalUrl": origin.final_url,
                "collection": origin.collection,
                "documentId": origin.document_id,
                "field": origin.field,
                "number": origin.number,
            },
            created_at=now,
            bucket=self.bucket,
            input_key=record_key,
            record_key=record_key,
            media_key=media_key,
            thumbnail_key=thumbnail_key,
            content_type=image.content_type,
            completed_at=now,
            latency_ms=origin.elapsed_ms,
            size_bytes=image.size_bytes,
            meta={
                "source": Source.IMPORT.value,
                "width": image.width,
                "height": image.height,
                "format": image.format,
                "sha256": image.sha256,
                "attempts": origin.attempts,
                "thumbnail": thumbnail_key,
                # Its own files, beside the other images of its document (core/gallery.py).
                "files": list(dict.fromkeys([media_key, thumbnail_key])),
            },
        )
        self._store.put(self.bucket, media_key, data, image.content_type)
        if image.thumbnail:
            self._store.put(self.bucket, thumbnail_key, image.thumbnail, "image/webp")
        return StoredImage(record, origin, image.sha256)

    def add_to_library(self, user_id: uuid.UUID, images: Sequence[StoredImage]) -> None:
        """Rows (one transaction) then index lines (one rewrite per day) for stored images.
        If either fails, what was written of these images goes again and the error rises."""
        if not images:
            return
        try:
            with transaction(self._sessions) as db:
                insert_rows(db, images)
        except IntegrityError:
            # Another attempt of the same job (it took over while this one still ran) may
            # have kept some of these images first, under the same ids and file names: those
            # rows and files are its own and stay. The rest are added without them.
            kept = self.existing([image.record.id for image in images])
            if not kept:
                self.discard(images)
                raise
            self.add_to_library(user_id, [i for i in images if i.record.id not in kept])
            return
        except Exception:
            self.discard(images)
            raise
        try:
            self._history.append_many(user_id, [_entry(image.record) for image in images])
        except Exception:
            with transaction(self._sessions) as db:
                ids = [image.record.id for image in images]
                db.execute(delete(UsageEvent).where(UsageEvent.generation_id.in_(ids)))
                db.execute(delete(Generation).where(Generation.id.in_(ids)))
            self.discard(images)
            raise

    def discard(self, images: Sequence[StoredImage]) -> None:
        for image in images:
            for key in image.record.meta["files"]:
                try:
                    self._store.delete(self.bucket, key)
                except Exception:  # noqa: BLE001 - best effort; nothing points at this file
                    log.warning("could not delete an unkept import file", extra={"key": key})

    # --- metadata.json and the uploaded collection ---

    def write_metadata(
        self,
        user_id: uuid.UUID,
        collection: str,
        document_id: str,
        field: str,
        entries: Sequence[Mapping[str, Any]],
        *,
        job_id: uuid.UUID,
        now: datetime,
    ) -> None:
        """Every URL's outcome, merged with an earlier import of the same document: a retry
        replaces the entries of the images it tried again, by number."""
        key = document_prefix(user_id, collection, document_id, field) + METADATA
        earlier = self._get_json(key) or {}
        by_number = {entry["number"]: entry for entry in earlier.get("images", [])}
        by_number.update({entry["number"]: dict(entry) for entry in entries})
        document = {
            "collection": collection,
            "documentId": document_id,
            "field": field,
            "updatedAt": now.isoformat(),
            "jobIds": [*dict.fromkeys([*earlier.get("jobIds", []), str(job_id)])],
            "images": [by_number[number] for number in sorted(by_number)],
        }
        self._put_json(key, document)

    def metadata(
        self, user_id: uuid.UUID, collection: str, document_id: str, field: str
    ) -> dict[str, Any] | None:
        return self._get_json(
            document_prefix(user_id, collection, document_id, field) + "metadata.json"
        )

    def save_collection(
        self,
        user_id: uuid.UUID,
        collection: str,
        documents: Sequence[Mapping[str, Any]],
        *,
        id_field: str,
        url_field: str,
    ) -> None:
        """Kept so one document can be imported again later by its id. CSV rows are marked as
        such: their cells are read by CSV's rules (several URLs in one cell, "4" equals 4)."""
        self._put_json(
            _collection_key(user_id, collection),
            {
                "idField": id_field,
                "urlField": url_field,
                "csv": bool(documents) and isinstance(documents[0], CsvRow),
                "documents": list(documents),
            },
        )

    def load_collection(self, user_id: uuid.UUID, collection: str) -> dict[str, Any]:
        found = self._get_json(_collection_key(user_id, collection))
        if found is None:
            raise InvalidInput(
                f"You have no collection named '{collection}'. Import it first "
                "(POST /api/v1/download/batch with its documents)."
            )
        if found.get("csv"):
            found["documents"] = [CsvRow(document) for document in found["documents"]]
        return found

    def _put_json(self, key: str, document: Mapping[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        self._store.put(self.bucket, key, body, "application/json")

    def _get_json(self, key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads(self._store.get(self.bucket, key).data)
        except ObjectMissing:
            return None
        return found


def _collection_key(user_id: uuid.UUID, collection: str) -> str:
    return f"{user_id}/{key_segment(collection)}/collection.json"


def insert_rows(db: Session, images: Sequence[StoredImage]) -> None:
    """The rows and usage events of kept images, in the caller's transaction: also how a
    rebuild from the object store restores them (core/rebuild.py)."""
    # Plain rows through one INSERT per table: ORM objects and their unit of work cost three
    # times the CPU, held under the GIL that an import's downloads wait for.
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for image in images:
        record = image.record
        rows.append(
            dict(
                id=record.id,
                user_id=record.user_id,
                modality=Modality.IMAGE.value,
                provider=IMPORT_PROVIDER,
                model=record.model,
                status=Status.COMPLETED.value,
                prompt=record.prompt,
                s3_bucket=record.bucket,
                input_key=record.input_key,
                record_key=record.record_key,
                media_key=record.media_key,
                content_type=record.content_type,
                latency_ms=record.latency_ms,
                size_bytes=record.size_bytes,
                cost_usd=Decimal(0),
                created_at=record.created_at,
                completed_at=record.completed_at,
                meta={"params": record.params, **record.meta},
                content_sha256=image.sha256,
            )
        )
        # Not a generation: the daily image quota, which counts generation events, ignores it.
        events.append(
            dict(
                user_id=record.user_id,
                generation_id=record.id,
                event_type=IMPORT_EVENT,
                modality=Modality.IMAGE.value,
                provider=IMPORT_PROVIDER,
                model=record.model,
                quantity=Decimal(1),
                cost_usd=Decimal(0),
                created_at=record.created_at,
                meta={"bytes": record.size_bytes, "domain": record.model},
            )
        )
    db.execute(insert(Generation), rows)
    db.execute(insert(UsageEvent), events)


def _entry(record: GenerationRecord) -> IndexEntry:
    # Which files are the image's own stays in its row: the index line needs none of it.
    meta = {k: v for k, v in record.meta.items() if k not in ("files", "thumbnail")}
    return replace(IndexEntry.of(record), meta=meta)


def _entry_of_row(row: Generation) -> IndexEntry:
    return entry_from_row(row, read_record_of_row(row))
