"""A user's own generations: listed from their history index, searched, opened and deleted by id.

Every lookup is scoped to the asking user: the listing reads only their index prefix, and
searching, opening or deleting goes through their own `generations` rows. Someone else's id is
"not found".
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.errors import NotFound
from core.generation.status import Status
from core.history import HistoryIndex, IndexEntry, thumbnail_key
from core.modality import Modality
from core.storable import is_storable_text
from storage.db import reading, transaction
from storage.keyset import Cursor, Keyset
from storage.models import Generation
from storage.objects import ObjectMissing, ObjectStore
from storage.text_search import contains_any_case

log = logging.getLogger(__name__)

NOT_FOUND = "That generation does not exist or is not yours."


@dataclass(frozen=True)
class GalleryPage:
    entries: list[IndexEntry]
    # Pass back to get the next page; None when there is nothing older.
    next_cursor: str | None


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str


@dataclass(frozen=True)
class GalleryItem:
    entry: IndexEntry
    record: dict[str, Any]
    # A link the browser can open directly, when the object store can sign one.
    signed_url: str | None


class Gallery:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        history: HistoryIndex,
        *,
        presign_ttl_seconds: int,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._history = history
        self._presign_ttl = presign_ttl_seconds

    def page(
        self,
        user_id: uuid.UUID,
        *,
        modalities: list[Modality] | None = None,
        text: str = "",
        limit: int = 24,
        cursor: str | None = None,
    ) -> GalleryPage:
        """Newest first. The cursor is the id of the last entry of the previous page.

        `text` is found in the prompt, whatever its letter case. The plain listing reads the
        history index, whose first page costs a few small listings however long the history
        is; a search or a choice of kinds is answered from the rows instead, since walking the
        index for it reads every day file when little or nothing matches.
        """
        kinds = set(modalities or Modality)
        needle = text.strip()
        if not is_storable_text(needle):
            # No prompt holds such a character (the pipeline refuses them), and the database
            # could not even be asked (NUL, a lone surrogate): nothing matches.
            return GalleryPage([], None)
        if not needle and kinds == set(Modality):
            return self._listed(user_id, limit, cursor)
        return self._searched(user_id, kinds, needle, limit, cursor)

    def _listed(self, user_id: uuid.UUID, limit: int, cursor: str | None) -> GalleryPage:
        entries: list[IndexEntry] = []
        skipping = cursor is not None
        for entry in self._history.entries(user_id, list(Modality)):
            if skipping:
                skipping = str(entry.id) != cursor
                continue
            if len(entries) == limit:
                return GalleryPage(entries, str(entries[-1].id))
            entries.append(entry)
        return GalleryPage(entries, None)

    def _searched(
        self,
        user_id: uuid.UUID,
        kinds: set[Modality],
        needle: str,
        limit: int,
        cursor: str | None,
    ) -> GalleryPage:
        """The user's completed rows that match, keyset-paged on (created_at, id). PostgreSQL
        reads them from the index on (user_id, created_at, id), or, for a rarer text, from the
        pg_trgm index on the prompt together with the user's rows."""
        query = select(Generation).where(
            Generation.user_id == user_id, Generation.status == Status.COMPLETED
        )
        if kinds != set(Modality):
            query = query.where(Generation.modality.in_([kind.value for kind in kinds]))
        with reading(self._sessions) as db:
            after = None
            if cursor is not None:
                after = _position(db, user_id, cursor)
                if after is None:
                    # Like the listing: a position that is gone has nothing after it.
                    return GalleryPage([], None)
            if needle:
                query = query.where(contains_any_case(db, Generation.prompt, needle))
            keyset = Keyset(
                Generation.created_at, Generation.id, newest_first=True, cursor=after, limit=limit
            )
            found = keyset.page(
                list(db.scalars(keyset.query(query))), lambda row: (row.created_at, row.id)
            )
        entries = [_entry_of_row(row) for row in found.rows]
        return GalleryPage(entries, str(entries[-1].id) if found.next_cursor else None)

    def open(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, *, modality: Modality | None = None
    ) -> GalleryItem:
        """One of the user's completed generations; of `modality` only, when given."""
        row = self._own_row(user_id, generation_id, modality=modality)
        record = read_record(self._store, row)
        if record is None:
            raise NotFound(NOT_FOUND)
        return GalleryItem(entry_from_row(row, record), record, self._signed_url(row))

    def signed_url(self, user_id: uuid.UUID, generation_id: uuid.UUID) -> str | None:
        """A time-limited link to the media, when the object store can sign one."""
        return self._signed_url(self._own_row(user_id, generation_id))

    def download(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, *, modality: Modality | None = None
    ) -> str | MediaFile:
        """A signed link to the media when the object store can sign one, else its bytes."""
        row = self._own_row(user_id, generation_id, modality=modality)
        url = self._signed_url(row)
        if url is not None:
            return url
        data = read_generation_file(self._store, row, row.media_key or "")
        return MediaFile(data, row.content_type or "application/octet-stream")

    def media(self, user_id: uuid.UUID, generation_id: uuid.UUID, key: str) -> bytes:
        """Bytes of a file (media, thumbnail) inside the user's own generation folder."""
        return read_generation_file(self._store, self._own_row(user_id, generation_id), key)

    def delete(self, user_id: uuid.UUID, generation_id: uuid.UUID) -> None:
        self.delete_many(user_id, [generation_id])

    def delete_many(self, user_id: uuid.UUID, generation_ids: Collection[uuid.UUID]) -> None:
        """Remove the media, records, index lines and rows (failed ones too) of these
        generations: every one of them is the user's, or nothing is removed."""
        wanted = set(generation_ids)
        with self._sessions() as db:
            rows = db.scalars(
                select(Generation).where(Generation.id.in_(wanted), Generation.user_id == user_id)
            ).all()
        if len(rows) != len(wanted):
            raise NotFound(NOT_FOUND)
        # The index lines go first: from then on nothing points at the files being removed.
        by_day: dict[tuple[Modality, date], list[uuid.UUID]] = defaultdict(list)
        for row in rows:
            by_day[Modality(row.modality), row.created_at.date()].append(row.id)
        for (modality, day), ids in by_day.items():
            self._history.remove(user_id, modality, ids, day)
        for row in rows:
            for key in _files_of(self._store, row):
                self._store.delete(row.s3_bucket, key)
        with transaction(self._sessions) as db:
            db.execute(
                delete(Generation).where(Generation.id.in_(wanted), Generation.user_id == user_id)
            )
        log.info(
            "generations deleted",
            extra={"generation_ids": sorted(map(str, wanted)), "user_id": str(user_id)},
        )

    def _signed_url(self, row: Generation) -> str | None:
        return signed_media_url(self._store, row, self._presign_ttl)

    def _own_row(
        self,
        user_id: uuid.UUID,
        generation_id: uuid.UUID,
        *,
        any_status: bool = False,
        modality: Modality | None = None,
    ) -> Generation:
        with self._sessions() as db:
            row = db.scalars(
                select(Generation).where(
                    Generation.id == generation_id, Generation.user_id == user_id
                )
            ).one_or_none()
        if row is None or (row.status != Status.COMPLETED and not any_status):
            raise NotFound(NOT_FOUND)
        if modality is not None and row.modality != modality.value:
            raise NotFound(NOT_FOUND)
        return row


def _position(db: Session, user_id: uuid.UUID, cursor: str) -> Cursor | None:
    """Where the user's entry `cursor` (an id) sits in the newest-first order; None when no
    such entry of theirs is there any more."""
    try:
        generation_id = uuid.UUID(cursor)
    except ValueError:
        return None
    created_at = db.scalar(
        select(Generation.created_at).where(
            Generation.id == generation_id, Generation.user_id == user_id
        )
    )
    return None if created_at is None else Cursor(created_at, generation_id)


def _entry_of_row(row: Generation) -> IndexEntry:
    """A completed generation's card from its row alone: reading each record.json for it
    would cost a page of results more than the search itself."""
    entry = entry_from_row(row, read_record_of_row(row))
    if entry.modality is Modality.IMAGE and entry.thumbnail_key is None:
        # Only an import's row names its preview; a generated image's sits beside it.
        return replace(entry, thumbnail_key=thumbnail_key(entry.media_key))
    return entry


def _request_folder(row: Generation) -> str:
    return (row.record_key or "").rpartition("/")[0] + "/"


def _own_files(row: Generation) -> list[str] | None:
    """The files of a generation that shares its folder with others (an imported image sits
    beside the rest of its document); None for one that has a request folder to itself."""
    files = row.meta.get("files")
    return list(files) if isinstance(files, list) else None


def _files_of(store: ObjectStore, row: Generation) -> list[str]:
    own = _own_files(row)
    if own is not None:
        return own
    return [info.key for info in store.list_objects(row.s3_bucket, _request_folder(row))]


def generation_files(store: ObjectStore, row: Generation) -> list[str]:
    """Keys of every file a generation keeps (media, thumbnail, inputs, record.json), for a
    caller that has checked the row (an owner's export, an account's deletion)."""
    return _files_of(store, row)


# Reading a generation's files once its row has been found (and checked by the caller: the
# owner here, an administrator in `core.admin`).


def read_record(store: ObjectStore, row: Generation) -> dict[str, Any] | None:
    """The generation's record.json, or None when it is not in storage."""
    if _own_files(row) is not None:
        return read_record_of_row(row)
    if not row.record_key:
        return None
    try:
        record: dict[str, Any] = json.loads(store.get(row.s3_bucket, row.record_key).data)
    except ObjectMissing:
        return None
    return record


def read_generation_file(store: ObjectStore, row: Generation, key: str) -> bytes:
    """Bytes of a file (media, thumbnail) inside the generation's own request folder."""
    own = _own_files(row)
    allowed = key in own if own is not None else key.startswith(_request_folder(row))
    if not allowed or ".." in key:
        raise NotFound(NOT_FOUND)
    try:
        return store.get(row.s3_bucket, key).data
    except ObjectMissing:
        raise NotFound("This file is no longer in storage.") from None


def signed_media_url(store: ObjectStore, row: Generation, ttl_seconds: int) -> str | None:
    """A time-limited link to the media, when the object store can sign one."""
    if not row.media_key:
        return None
    return store.presigned_url(row.s3_bucket, row.media_key, ttl_seconds)


def read_record_of_row(row: Generation) -> dict[str, Any]:
    """The record of a generation that keeps none of its own (an imported image), in
    record.json's shape, from its row."""
    meta = {k: v for k, v in row.meta.items() if k not in ("params", "files", "thumbnail")}
    return {
        "id": str(row.id),
        "userId": str(row.user_id),
        "modality": row.modality,
        "status": row.status,
        "createdAt": row.created_at.isoformat(),
        "completedAt": row.completed_at.isoformat() if row.completed_at else None,
        "prompt": row.prompt,
        "input": row.meta.get("params", {}),
        "s3": {
            "bucket": row.s3_bucket,
            "input": row.input_key,
            "record": row.record_key,
            "media": row.media_key,
            "thumbnail": row.meta.get("thumbnail"),
        },
        "meta": {
            "provider": row.provider,
            "model": row.model,
            "latencyMs": row.latency_ms,
            "contentType": row.content_type,
            "sizeBytes": row.size_bytes,
            **meta,
        },
        "error": row.error,
    }


def entry_from_row(row: Generation, record: dict[str, Any]) -> IndexEntry:
    s3 = record.get("s3", {})
    return IndexEntry(
        id=row.id,
        created_at=row.created_at,
        modality=Modality(row.modality),
        provider=row.provider,
        model=row.model,
        prompt=row.prompt,
        media_key=row.media_key or "",
        record_key=row.record_key or "",
        content_type=row.content_type or "",
        thumbnail_key=s3.get("thumbnail"),
        params=record.get("input", {}),
        meta=dict(record.get("meta", {})),
    )
