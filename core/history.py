"""Where generations live in the object store, and each user's JSONL history index.

Layout per modality bucket (seed 000):
    requests/{yyyy}/{mm}/{dd}/{id}/input.json | record.json | <media>
    users/{userId}/{modality}/history/{yyyy}/{mm}/{dd}.jsonl     one line per kept generation

S3 has no append. A line is added by rewriting the day file with a conditional PUT (If-Match on
the version we read, If-None-Match for a new file) and retrying on conflict, so writers on any
number of processes never lose a line. Inside one process a striped lock keeps threads from
conflicting with each other, and the body we last wrote is remembered so the usual append is a
single PUT.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from core.errors import StorageUnavailable
from core.generation.status import Status
from core.modality import Modality
from storage.objects import ObjectInfo, ObjectMissing, ObjectStore, VersionConflict

if TYPE_CHECKING:
    from core.generation.records import GenerationRecord

log = logging.getLogger(__name__)

INDEX_CONTENT_TYPE = "application/x-ndjson"
_MAX_ATTEMPTS = 50
_LOCK_STRIPES = 64
# Day files fetched ahead of the reader: the first page is usually a few days, a search many.
_READ_AHEAD_DAYS = 4


def request_prefix(generation_id: uuid.UUID, created_at: datetime) -> str:
    return f"requests/{created_at:%Y/%m/%d}/{generation_id}/"


def thumbnail_key(media_key: str) -> str:
    """Where a generated image's preview sits: beside the image, in the same folder."""
    folder = media_key.rpartition("/")[0]
    return f"{folder}/thumbnail.webp" if folder else "thumbnail.webp"


def index_prefix(user_id: uuid.UUID, modality: Modality) -> str:
    # The owner becomes part of a key: only a real id, never text such as "../other".
    if not isinstance(user_id, uuid.UUID):
        raise TypeError(f"a history owner is a UUID, not {user_id!r}")
    return f"users/{user_id}/{modality}/history/"


def _appending(lines: bytes) -> Callable[[bytes], bytes]:
    return lambda body: body + lines


def index_key(user_id: uuid.UUID, modality: Modality, day: date) -> str:
    return f"{index_prefix(user_id, modality)}{day:%Y/%m/%d}.jsonl"


@dataclass(frozen=True)
class IndexEntry:
    """One line of a history index: enough to draw a gallery card and replay the settings."""

    id: uuid.UUID
    created_at: datetime
    modality: Modality
    provider: str
    model: str
    prompt: str
    media_key: str
    record_key: str
    content_type: str
    thumbnail_key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_line(self) -> bytes:
        document = {
            "id": str(self.id),
            "createdAt": self.created_at.isoformat(),
            "modality": self.modality.value,
            "status": Status.COMPLETED,
            "provider": self.provider,
            "model": self.model,
            "prompt": self.prompt,
            "contentType": self.content_type,
            "s3": {
                "record": self.record_key,
                "media": self.media_key,
                "thumbnail": self.thumbnail_key,
            },
            "input": self.params,
            "meta": self.meta,
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def of(cls, record: GenerationRecord) -> IndexEntry:
        """The line of a kept generation."""
        return cls(
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

    @classmethod
    def from_line(cls, line: bytes) -> IndexEntry:
        document = json.loads(line)
        return cls(
            id=uuid.UUID(document["id"]),
            created_at=datetime.fromisoformat(document["createdAt"]),
            modality=Modality(document["modality"]),
            provider=document["provider"],
            model=document["model"],
            prompt=document["prompt"],
            media_key=document["s3"]["media"],
            record_key=document["s3"]["record"],
            thumbnail_key=document["s3"].get("thumbnail"),
            content_type=document["contentType"],
            params=document.get("input", {}),
            meta=document.get("meta", {}),
        )


class HistoryIndex:
    def __init__(
        self,
        store: ObjectStore,
        bucket_for: Callable[[Modality], str],
        *,
        parsed_cache_size: int = 4096,
        written_cache_size: int = 512,
    ) -> None:
        self._store = store
        self._bucket_for = bucket_for
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        # (bucket, key) -> (version, body) of the day files this process wrote last.
        self._written: OrderedDict[tuple[str, str], tuple[str, bytes]] = OrderedDict()
        self._written_cache_size = written_cache_size
        self._written_lock = threading.Lock()
        # A day file's parsed lines, keyed by its version: a changed file is simply a new key.
        self._parse_day = lru_cache(maxsize=parsed_cache_size)(self._parse_day_uncached)
        self._readers = ThreadPoolExecutor(
            max_workers=_READ_AHEAD_DAYS, thread_name_prefix="history"
        )

    def append(self, user_id: uuid.UUID, entry: IndexEntry) -> None:
        self.append_many(user_id, [entry])

    def append_many(self, user_id: uuid.UUID, entries: Collection[IndexEntry]) -> None:
        """Add lines with one rewrite per day file: a batch of imports is not n rewrites of a
        growing file."""
        by_day: dict[tuple[Modality, date], list[bytes]] = {}
        for entry in entries:
            by_day.setdefault((entry.modality, entry.created_at.date()), []).append(entry.to_line())
        for (modality, day), lines in by_day.items():
            self._rewrite(user_id, modality, day, _appending(b"".join(lines)))

    def remove(
        self, user_id: uuid.UUID, modality: Modality, entry_ids: Collection[uuid.UUID], day: date
    ) -> None:
        """Drop the lines of these entries from one day file, in one rewrite."""
        markers = [f'"id":"{entry_id}"'.encode() for entry_id in entry_ids]

        def without_entry(body: bytes) -> bytes:
            return b"".join(
                line
                for line in body.splitlines(keepends=True)
                if not any(marker in line for marker in markers)
            )

        self._rewrite(user_id, modality, day, without_entry)

    def entries(self, user_id: uuid.UUID, modalities: list[Modality]) -> Iterator[IndexEntry]:
        """The user's entries, newest first, listing and reading only as far as the caller reads.

        Day files sit under yyyy/ and mm/ "folders": walking them newest first, one level at a
        time, means the first page costs a few small listings however long the history is.
        """
        walks = [self._days_newest_first(user_id, modality) for modality in modalities]
        merged = heapq.merge(*walks, key=lambda item: item[0], reverse=True)
        days = (
            [(bucket, info) for _, bucket, info in files]
            for _, files in itertools.groupby(merged, key=lambda item: item[0])
        )
        for entries in self._read_ahead(days):
            yield from sorted(entries, key=lambda e: e.created_at, reverse=True)

    def _read_ahead(
        self, days: Iterator[list[tuple[str, ObjectInfo]]]
    ) -> Iterator[list[IndexEntry]]:
        """Parse day files in order, fetching the next few while the caller reads this one."""
        pending: deque[Future[list[IndexEntry]]] = deque()

        def parse(files: list[tuple[str, ObjectInfo]]) -> list[IndexEntry]:
            return [
                e for bucket, info in files for e in self._parse_day(bucket, info.key, info.version)
            ]

        try:
            for files in days:
                pending.append(self._readers.submit(parse, files))
                if len(pending) > _READ_AHEAD_DAYS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # The caller stopped early (a page is full): drop what it will not read.
            for future in pending:
                future.cancel()

    def _days_newest_first(
        self, user_id: uuid.UUID, modality: Modality
    ) -> Iterator[tuple[str, str, ObjectInfo]]:
        """(day as "yyyy/mm/dd.jsonl", bucket, file) for one modality, newest day first."""
        bucket = self._bucket_for(modality)
        root = index_prefix(user_id, modality)

        def walk(prefix: str, depth: int) -> Iterator[tuple[str, str, ObjectInfo]]:
            listing = self._store.list_level(bucket, prefix)
            if depth == 2:  # inside a month: the day files themselves
                for info in sorted(listing.objects, key=lambda i: i.key, reverse=True):
                    yield info.key.removeprefix(root), bucket, info
                return
            for child in sorted(listing.prefixes, reverse=True):
                yield from walk(child, depth + 1)

        return walk(root, 0)

    def close(self) -> None:
        self._readers.shutdown(wait=False, cancel_futures=True)

    def _rewrite(
        self, user_id: uuid.UUID, modality: Modality, day: date, change: Callable[[bytes], bytes]
    ) -> None:
        bucket = self._bucket_for(modality)
        key = index_key(user_id, modality, day)
        with self._locks[hash(key) % _LOCK_STRIPES]:
            known = self._remembered(bucket, key)
            for attempt in range(_MAX_ATTEMPTS):
                if known is None:
                    known = self._read(bucket, key)
                version, body = known
                new_body = change(body)
                if new_body == body:
                    return
                try:
                    new_version = self._store.put(
                        bucket,
                        key,
                        new_body,
                        INDEX_CONTENT_TYPE,
                        expected_version=version or None,
                        must_not_exist=not version,
                    )
                except VersionConflict:
                    # Another process wrote first: read its version and apply our change again.
                    known = None
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                self._remember(bucket, key, (new_version, new_body))
                return
        log.error("history index stayed contended", extra={"key": key, "attempts": _MAX_ATTEMPTS})
        raise StorageUnavailable("Your history is busy right now. Please try again.")

    def _read(self, bucket: str, key: str) -> tuple[str, bytes]:
        try:
            stored = self._store.get(bucket, key)
        except ObjectMissing:
            return "", b""
        return stored.version, stored.data

    def _remembered(self, bucket: str, key: str) -> tuple[str, bytes] | None:
        with self._written_lock:
            return self._written.get((bucket, key))

    def _remember(self, bucket: str, key: str, value: tuple[str, bytes]) -> None:
        with self._written_lock:
            self._written[(bucket, key)] = value
            self._written.move_to_end((bucket, key))
            while len(self._written) > self._written_cache_size:
                self._written.popitem(last=False)

    def _parse_day_uncached(self, bucket: str, key: str, version: str) -> tuple[IndexEntry, ...]:
        try:
            body = self._store.get(bucket, key).data
        except ObjectMissing:
            return ()
        entries = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(IndexEntry.from_line(line))
            except (ValueError, KeyError) as error:
                # One damaged line must not hide the rest of the user's history.
                log.warning(
                    "skipped a bad history line",
                    extra={"key": key, "line": number, "error": str(error)},
                )
        return tuple(entries)
