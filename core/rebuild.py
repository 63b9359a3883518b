"""Rebuilding the database's copy of every library from the object store, and checking the two.

The object store holds the truth of each generation: its record.json (the row and the usage
event are derived from it alone, `core/generation/rows.py`), its media, and its line in the
owner's history index. Three modes:

* rebuild: write the `generations` rows, usage events and conversations that are missing, into
  an empty or a partial database. What is there already stays: running it again adds nothing.
* check: say where the object store and the database disagree, changing nothing.
* repair: rebuild, then fix what the store still tells the truth of; the rest is reported
  for a person (`left`). Kind by kind (`Drift`):
  - records without rows, rows without usage events, conversations without rows: written,
    as a rebuild writes them;
  - rows without records: record.json is written back from the row (a faithful copy of it),
    unless nothing else of the generation is left (no media, no line: a delete that stopped
    half-way), when the row goes; an imported image's row gets its line back, or goes with
    its image;
  - index lines without media: the line goes, so the Gallery no longer offers what cannot
    open; the record and the row stay, and still count;
  - media without index lines: the line is written from the record; files no record
    describes are left alone (an interrupted write, or one under way).

Imported images keep no record.json of their own: their line in the owner's image history is
their record (their document's metadata.json adds the download's time), and their rows come
from the import library's own mapping. Chat conversations are rows kept in S3 only through
their exchanges: the exchanges' input.json give a conversation's settings, the newest answered
exchange's conversation.json its title.

Users are not in the object store. Generations are restored for accounts in the `users` table;
an account being deleted is left to its deletion, and a record whose owner has no row is
skipped and counted (a placeholder account would bring back someone who deleted theirs).

Generations touched in the last `grace` are not judged: the pipeline writes files, then the
index line and the row, and a run beside a working app must not race it. Usage events of
generations deleted since (kept, without their generation, for the quotas) are nowhere in the
store: a wiped `usage_events` table does not get those back.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.generation.chat import TITLE_CHARS
from core.generation.records import RECORD_FACTS, GenerationRecord
from core.generation.rows import generation_values, record_of_row, usage_event_values
from core.generation.status import Status
from core.history import HistoryIndex, IndexEntry

# An import's row and event come from the library's own mapping, not a copy of it here.
from core.imports.library import (
    IMPORT_PROVIDER,
    ImageOrigin,
    ImportLibrary,
    StoredImage,
    insert_rows,
)
from core.modality import Modality
from storage.db import transaction
from storage.models import Conversation, Generation, UsageEvent, User, utcnow
from storage.objects import ObjectMissing, ObjectStore

if TYPE_CHECKING:
    from core.services import Services

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RECORD = "record.json"
# Rows written per transaction, and objects read at once.
_BATCH = 1000
_READERS = 16
# Ids of each kind of drift kept in the summary, for a person to look at.
_EXAMPLES = 10


class Mode(StrEnum):
    REBUILD = "rebuild"
    CHECK = "check"
    REPAIR = "repair"


class Drift(StrEnum):
    """The ways the object store and the database can disagree about a generation."""

    ROWS_WITHOUT_RECORDS = "rows_without_records"
    RECORDS_WITHOUT_ROWS = "records_without_rows"
    INDEX_LINES_WITHOUT_MEDIA = "index_lines_without_media"
    MEDIA_WITHOUT_INDEX_LINES = "media_without_index_lines"
    ROWS_WITHOUT_USAGE_EVENTS = "rows_without_usage_events"
    CONVERSATIONS_WITHOUT_ROWS = "conversations_without_rows"


class Progress(Protocol):
    """Told how far a long run is: a stage with its size (None when unknown), then steps."""

    def stage(self, name: str, total: int | None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class _Quiet:
    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


@dataclass
class Summary:
    mode: Mode
    seen: Counter[str] = field(default_factory=Counter)
    drift: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    created: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    # Drift found that repair does not fix, by why.
    left: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def found(self, kind: Drift, what: uuid.UUID | str) -> None:
        """One more of `kind`: a generation's (or conversation's) id, or a file's key."""
        self.drift[kind] += 1
        if len(self.examples[kind]) < _EXAMPLES:
            self.examples[kind].append(str(what))

    @property
    def drift_total(self) -> int:
        return sum(self.drift.values())

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"mode": self.mode.value, "seen": dict(self.seen)}
        if self.mode is not Mode.REBUILD:
            document["drift"] = {kind.value: self.drift[kind] for kind in Drift}
            document["examples"] = {k: v for k, v in self.examples.items() if v}
        if self.mode is not Mode.CHECK:
            document["created"] = {
                name: self.created[name]
                for name in ("generations", "usage_events", "conversations")
            }
        if self.mode is Mode.REPAIR:
            document["repaired"] = {
                name: self.repaired[name]
                for name in (
                    "records_written_back",
                    "rows_deleted",
                    "index_lines_added",
                    "index_lines_removed",
                )
            }
            document["left"] = dict(self.left)
        document["skipped"] = dict(self.skipped)
        document["seconds"] = round(self.seconds, 2)
        return document


@dataclass(frozen=True)
class _Folder:
    """A request folder: its files and, when it has a readable one, its record."""

    bucket: str
    prefix: str
    files: frozenset[str]
    record: GenerationRecord | None
    unreadable: bool = False
    # Its record was not read: a plain rebuild has nothing to write for it (row and event
    # are there).
    settled: bool = False


@dataclass(frozen=True)
class _Line:
    owner: uuid.UUID
    entry: IndexEntry

    @property
    def is_import(self) -> bool:
        return self.entry.provider == IMPORT_PROVIDER


@dataclass(frozen=True)
class _Row:
    """What the comparison needs of a `generations` row."""

    # None for a deleted account's row, kept for its counts.
    user_id: uuid.UUID | None
    provider: str
    status: str
    media_key: str | None
    latest: datetime

    @property
    def is_import(self) -> bool:
        return self.provider == IMPORT_PROVIDER


@dataclass
class _Database:
    users: set[uuid.UUID]
    deleting: set[uuid.UUID]
    rows: dict[uuid.UUID, _Row]
    with_events: set[uuid.UUID]
    conversations: set[uuid.UUID]


@dataclass
class _Store:
    folders: dict[uuid.UUID, _Folder]
    lines: dict[uuid.UUID, _Line]
    # Every key in the imports bucket, of the users who have imported.
    import_files: dict[str, int]
    # Whether every user's whole history was read (check and repair), or only imports' lines.
    all_lines: bool


@dataclass
class _Plan:
    """What rebuild and repair write; check only counts it."""

    rows: list[GenerationRecord] = field(default_factory=list)
    events: list[GenerationRecord] = field(default_factory=list)
    imports: list[_Line] = field(default_factory=list)
    # Import rows without their event: written again, with it.
    imports_again: list[_Line] = field(default_factory=list)
    conversations: dict[uuid.UUID, list[GenerationRecord]] = field(default_factory=dict)
    records_back: list[uuid.UUID] = field(default_factory=list)
    rows_gone: list[uuid.UUID] = field(default_factory=list)
    lines_back: list[GenerationRecord] = field(default_factory=list)
    import_lines_back: list[uuid.UUID] = field(default_factory=list)
    lines_gone: list[_Line] = field(default_factory=list)
    # Files no record, row or line points at: left for a person.
    orphans: int = 0


class StoreRebuild:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        history: HistoryIndex,
        library: ImportLibrary,
        *,
        buckets: dict[Modality, str],
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._history = history
        self._library = library
        self._buckets = buckets
        self._now = now

    @classmethod
    def of(cls, services: Services, *, now: Callable[[], datetime] = utcnow) -> StoreRebuild:
        settings = services.settings
        return cls(
            services.db,
            services.objects,
            services.history,
            services.import_library,
            buckets={modality: settings.bucket_for(modality) for modality in Modality},
            now=now,
        )

    def run(self, mode: Mode, *, grace: timedelta, progress: Progress | None = None) -> Summary:
        """Compare the object store with the database and, unless checking, write to the
        database (rebuild) and to both (repair). Returns what was found and done."""
        started = time.perf_counter()
        say = progress or _Quiet()
        summary = Summary(mode)
        with ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="rebuild") as pool:
            database = self._read_database()
            stored = self._read_store(pool, database, say, all_lines=mode is not Mode.REBUILD)
            summary.seen.update(
                records=sum(1 for f in stored.folders.values() if f.record or f.settled),
                index_lines=len(stored.lines),
                rows=len(database.rows),
            )
            plan = self._judge(stored, database, self._now() - grace, summary)
            if mode is not Mode.CHECK:
                self._write_rows(pool, plan, stored, say, summary)
            if mode is Mode.REPAIR:
                self._repair(plan, stored, say, summary)
        summary.seconds = time.perf_counter() - started
        log.info("rebuild finished", extra={"mode": mode.value, **summary.drift})
        return summary

    # --- reading ---

    def _read_database(self) -> _Database:
        with self._sessions() as db:
            users = db.execute(select(User.id, User.deleting_since)).all()
            rows = db.execute(
                select(
                    Generation.id,
                    Generation.user_id,
                    Generation.provider,
                    Generation.status,
                    Generation.media_key,
                    Generation.created_at,
                    Generation.completed_at,
                )
            ).all()
            with_events = set(
                db.scalars(
                    select(UsageEvent.generation_id)
                    .where(UsageEvent.generation_id.is_not(None))
                    .distinct()
                )
            )
            conversations = set(db.scalars(select(Conversation.id)))
        return _Database(
            users={user_id for user_id, deleting in users if deleting is None},
            deleting={user_id for user_id, deleting in users if deleting is not None},
            rows={
                r.id: _Row(
                    r.user_id, r.provider, r.status, r.media_key, r.completed_at or r.created_at
                )
                for r in rows
            },
            with_events={i for i in with_events if i is not None},
            conversations=conversations,
        )

    def _read_store(
        self, pool: ThreadPoolExecutor, database: _Database, say: Progress, *, all_lines: bool
    ) -> _Store:
        # A plain rebuild reads only the records it may write rows from. Chat records are all
        # read: their conversations may be missing although their rows are there.
        settled = set() if all_lines else database.rows.keys() & database.with_events
        folders: dict[uuid.UUID, _Folder] = {}
        for modality in Modality:
            skip = set() if modality is Modality.CHAT else settled
            folders.update(self._read_folders(pool, self._buckets[modality], skip, say))
        importers = self._importers()
        # A plain rebuild needs the history only for imports, whose lines are their records.
        owners = sorted(database.users if all_lines else database.users & importers)
        lines: dict[uuid.UUID, _Line] = {}
        say.stage("reading history indexes", len(owners))
        for owner, entries in zip(owners, pool.map(self._entries_of, owners), strict=True):
            for entry in entries:
                if all_lines or entry.provider == IMPORT_PROVIDER:
                    lines[entry.id] = _Line(owner, entry)
            say.advance()
        import_files: dict[str, int] = {}
        for owner in sorted(database.users & importers):
            for info in self._store.list_objects(self._library.bucket, f"{owner}/"):
                import_files[info.key] = info.size
        return _Store(folders, lines, import_files, all_lines)

    def _read_folders(
        self, pool: ThreadPoolExecutor, bucket: str, settled: set[uuid.UUID], say: Progress
    ) -> dict[uuid.UUID, _Folder]:
        days = list(self._day_prefixes(bucket))
        say.stage(f"listing requests ({bucket})", len(days))
        files: dict[str, set[str]] = defaultdict(set)
        for listed in pool.map(lambda day: list(self._store.list_objects(bucket, day)), days):
            for info in listed:
                # requests/yyyy/mm/dd/{id}/...: the folder is the first five parts.
                folder = "/".join(info.key.split("/")[:5]) + "/"
                files[folder].add(info.key)
            say.advance()
        say.stage(f"reading records ({bucket})", len(files))
        folders: dict[uuid.UUID, _Folder] = {}
        for chunk in _chunks(pool.map(lambda p: self._folder(bucket, p, files[p], settled), files)):
            folders.update(found for found in chunk if found is not None)
            say.advance(len(chunk))
        return folders

    def _day_prefixes(self, bucket: str) -> Iterator[str]:
        for year in self._store.list_level(bucket, "requests/").prefixes:
            for month in self._store.list_level(bucket, year).prefixes:
                yield from self._store.list_level(bucket, month).prefixes

    def _folder(
        self, bucket: str, prefix: str, files: set[str], settled: set[uuid.UUID]
    ) -> tuple[uuid.UUID, _Folder] | None:
        try:
            generation_id = uuid.UUID(prefix.rstrip("/").rpartition("/")[2])
        except ValueError:
            log.warning("not a generation's folder", extra={"bucket": bucket, "prefix": prefix})
            return None
        if generation_id in settled and prefix + RECORD in files:
            return generation_id, _Folder(bucket, prefix, frozenset(files), None, settled=True)
        record, unreadable = None, False
        if prefix + RECORD in files:
            try:
                document = json.loads(self._store.get(bucket, prefix + RECORD).data)
                record = GenerationRecord.from_json(document)
            except ObjectMissing:
                pass  # deleted since it was listed
            except (ValueError, KeyError, TypeError) as error:
                log.warning(
                    "unreadable record",
                    extra={"bucket": bucket, "key": prefix + RECORD, "error": str(error)},
                )
                unreadable = True
        return generation_id, _Folder(bucket, prefix, frozenset(files), record, unreadable)

    def _importers(self) -> set[uuid.UUID]:
        """Users with a folder in the imports bucket."""
        owners = set()
        for prefix in self._store.list_level(self._library.bucket, "").prefixes:
            try:
                owners.add(uuid.UUID(prefix.rstrip("/")))
            except ValueError:
                continue
        return owners

    def _entries_of(self, owner: uuid.UUID) -> list[IndexEntry]:
        return list(self._history.entries(owner, list(Modality)))

    # --- comparing ---

    def _judge(
        self, stored: _Store, database: _Database, settled_before: datetime, summary: Summary
    ) -> _Plan:
        plan = _Plan()
        chats: dict[uuid.UUID, list[GenerationRecord]] = defaultdict(list)
        for generation_id in stored.folders.keys() | stored.lines.keys() | database.rows.keys():
            folder = stored.folders.get(generation_id)
            line = stored.lines.get(generation_id)
            row = database.rows.get(generation_id)
            record = folder.record if folder else None
            if folder is not None and folder.settled:
                continue
            if folder is not None and folder.unreadable:
                summary.skipped["unreadable_records"] += 1
                continue
            owner = _owner(record, line, row)
            if owner is None and folder is not None:
                self._judge_orphan(generation_id, folder, stored, settled_before, plan, summary)
                continue
            if owner is None:
                # Nothing of it is in the store any more: only its counts are kept.
                summary.skipped["rows_of_deleted_accounts"] += 1
                continue
            if owner in database.deleting:
                summary.skipped["users_being_deleted"] += 1
                continue
            if owner not in database.users:
                summary.skipped["unknown_users"] += 1
                continue
            if _latest(record, line, row) >= settled_before:
                summary.skipped["recent"] += 1
                continue
            if (line is not None and line.is_import) or (row is not None and row.is_import):
                self._judge_import(generation_id, line, row, stored, database, plan, summary)
                continue
            self._judge_generation(
                generation_id, folder, line, row, stored, database, plan, summary
            )
            if record is not None and record.conversation_id is not None:
                chats[record.conversation_id].append(record)
        for conversation_id, exchanges in chats.items():
            if conversation_id not in database.conversations:
                summary.found(Drift.CONVERSATIONS_WITHOUT_ROWS, conversation_id)
                plan.conversations[conversation_id] = sorted(exchanges, key=lambda r: r.created_at)
        if stored.all_lines:
            self._judge_import_files(stored, database, plan, summary)
        return plan

    def _judge_orphan(
        self,
        generation_id: uuid.UUID,
        folder: _Folder,
        stored: _Store,
        settled_before: datetime,
        plan: _Plan,
        summary: Summary,
    ) -> None:
        """A request folder without record, row or line: the files of a generation that
        stopped before its record was written (or is being written now)."""
        if _folder_day(folder) >= settled_before.date():
            summary.skipped["recent"] += 1
        elif stored.all_lines and any(not key.endswith("/input.json") for key in folder.files):
            summary.found(Drift.MEDIA_WITHOUT_INDEX_LINES, generation_id)
            plan.orphans += 1

    def _judge_import_files(
        self, stored: _Store, database: _Database, plan: _Plan, summary: Summary
    ) -> None:
        """Imported images in the bucket that no line or row points at."""
        kept: set[str | None] = {line.entry.media_key for line in stored.lines.values()}
        kept |= {row.media_key for row in database.rows.values() if row.is_import}
        for key in sorted(stored.import_files):
            if "/original/" in key and key not in kept:
                summary.found(Drift.MEDIA_WITHOUT_INDEX_LINES, key)
                plan.orphans += 1

    def _judge_generation(
        self,
        generation_id: uuid.UUID,
        folder: _Folder | None,
        line: _Line | None,
        row: _Row | None,
        stored: _Store,
        database: _Database,
        plan: _Plan,
        summary: Summary,
    ) -> None:
        files = folder.files if folder else frozenset()
        record = folder.record if folder else None
        if record is None and row is not None:
            summary.found(Drift.ROWS_WITHOUT_RECORDS, generation_id)
            if row.status == Status.COMPLETED and row.media_key not in files and line is None:
                # All that is left of it: a delete that stopped after the files went.
                plan.rows_gone.append(generation_id)
            elif generation_id in database.with_events:
                plan.records_back.append(generation_id)
            else:
                summary.left["rows_without_records_or_events"] += 1
        if record is not None and row is None:
            summary.found(Drift.RECORDS_WITHOUT_ROWS, generation_id)
            plan.rows.append(record)
        elif record is not None and generation_id not in database.with_events:
            summary.found(Drift.ROWS_WITHOUT_USAGE_EVENTS, generation_id)
            plan.events.append(record)
        if not stored.all_lines:
            return
        if line is not None and line.entry.media_key not in files:
            summary.found(Drift.INDEX_LINES_WITHOUT_MEDIA, generation_id)
            plan.lines_gone.append(line)
        elif (
            line is None
            and record is not None
            and record.status == Status.COMPLETED
            and record.media_key in files
        ):
            summary.found(Drift.MEDIA_WITHOUT_INDEX_LINES, generation_id)
            plan.lines_back.append(record)

    def _judge_import(
        self,
        generation_id: uuid.UUID,
        line: _Line | None,
        row: _Row | None,
        stored: _Store,
        database: _Database,
        plan: _Plan,
        summary: Summary,
    ) -> None:
        media_key = line.entry.media_key if line else row.media_key if row else None
        media_left = media_key in stored.import_files
        if line is not None and not media_left:
            summary.found(Drift.INDEX_LINES_WITHOUT_MEDIA, generation_id)
            plan.lines_gone.append(line)
            if row is not None:
                # The image itself is gone: its row has nothing left to describe.
                plan.rows_gone.append(generation_id)
        elif line is not None and row is None:
            summary.found(Drift.RECORDS_WITHOUT_ROWS, generation_id)
            plan.imports.append(line)
        elif line is not None and generation_id not in database.with_events:
            summary.found(Drift.ROWS_WITHOUT_USAGE_EVENTS, generation_id)
            plan.imports_again.append(line)
        elif line is None and row is not None and stored.all_lines:
            summary.found(Drift.ROWS_WITHOUT_RECORDS, generation_id)
            if media_left:
                plan.import_lines_back.append(generation_id)
            else:
                plan.rows_gone.append(generation_id)

    # --- writing ---

    def _write_rows(
        self, pool: ThreadPoolExecutor, plan: _Plan, stored: _Store, say: Progress, summary: Summary
    ) -> None:
        """The rows, usage events and conversations the store has and the database lacks."""
        say.stage("writing conversations", len(plan.conversations))
        titles = pool.map(self._title, plan.conversations.values())
        with transaction(self._sessions) as db:
            for (conversation_id, exchanges), title in zip(
                plan.conversations.items(), titles, strict=True
            ):
                values = _conversation_values(conversation_id, exchanges, title)
                inserted = db.execute(
                    _insert(db, Conversation)
                    .values(**values)
                    .on_conflict_do_nothing()
                    .returning(Conversation.id)
                ).first()
                summary.created["conversations"] += inserted is not None
                say.advance()
        say.stage(
            "writing generations",
            len(plan.rows) + len(plan.events) + len(plan.imports) + len(plan.imports_again),
        )
        for batch in _batches(plan.rows):
            with transaction(self._sessions) as db:
                written = set(
                    db.scalars(
                        _insert(db, Generation)
                        .on_conflict_do_nothing(index_elements=["id"])
                        .returning(Generation.id),
                        [generation_values(record) for record in batch],
                    )
                )
                # Only rows this run wrote get an event: another writer's row has its own.
                self._add_events(db, [r for r in batch if r.id in written], summary)
            summary.created["generations"] += len(written)
            say.advance(len(batch))
        for batch in _batches(plan.events):
            with transaction(self._sessions) as db:
                self._add_events(db, batch, summary)
            say.advance(len(batch))
        self._write_imports(plan, stored, say, summary)

    def _add_events(
        self, db: Session, records: Sequence[GenerationRecord], summary: Summary
    ) -> None:
        if records:
            db.execute(_insert(db, UsageEvent), [usage_event_values(r) for r in records])
        summary.created["usage_events"] += len(records)

    def _write_imports(self, plan: _Plan, stored: _Store, say: Progress, summary: Summary) -> None:
        """Import rows through the library's own mapping (rows and events together): a row
        that lost its event is replaced by the same row with it."""
        documents: dict[str, dict[str, dict[str, Any]]] = {}

        def image(line: _Line) -> StoredImage:
            key = line.entry.record_key
            if key not in documents:
                documents[key] = self._download_facts(key)
            facts = documents[key].get(str(line.entry.id), {})
            return self._import_image(line, facts, stored.import_files)

        for lines, replacing in ((plan.imports, False), (plan.imports_again, True)):
            for batch in _batches(lines):
                with transaction(self._sessions) as db:
                    if replacing:
                        ids = [line.entry.id for line in batch]
                        db.execute(delete(Generation).where(Generation.id.in_(ids)))
                    insert_rows(db, [image(line) for line in batch])
                summary.created["generations"] += 0 if replacing else len(batch)
                summary.created["usage_events"] += len(batch)
                say.advance(len(batch))

    def _download_facts(self, metadata_key: str) -> dict[str, dict[str, Any]]:
        """An import document's metadata.json entries, by the id of the image each one kept."""
        try:
            document = json.loads(self._store.get(self._library.bucket, metadata_key).data)
        except (ObjectMissing, ValueError):
            return {}
        return {
            entry["generationId"]: entry
            for entry in document.get("images", [])
            if entry.get("generationId")
        }

    def _import_image(
        self, line: _Line, facts: dict[str, Any], import_files: dict[str, int]
    ) -> StoredImage:
        """An imported image as the library kept it, from its line (which drops the image's own
        files) and its download's entry in metadata.json (time and size)."""
        entry = line.entry
        thumbnail = entry.thumbnail_key or entry.media_key
        params = entry.params
        record = GenerationRecord(
            id=entry.id,
            user_id=line.owner,
            modality=Modality.IMAGE,
            status=Status.COMPLETED,
            provider=entry.provider,
            model=entry.model,
            prompt=entry.prompt,
            params=params,
            created_at=entry.created_at,
            bucket=self._library.bucket,
            input_key=entry.record_key,
            record_key=entry.record_key,
            media_key=entry.media_key,
            thumbnail_key=thumbnail,
            content_type=entry.content_type,
            completed_at=entry.created_at,
            latency_ms=facts.get("elapsedMs"),
            size_bytes=facts.get("bytes", import_files.get(entry.media_key)),
            meta={
                # A line the library wrote again from a row (`reindex`) also carries the
                # record's own facts in its meta: they are columns of the row, not the image's.
                **{k: v for k, v in entry.meta.items() if k not in RECORD_FACTS},
                "thumbnail": thumbnail,
                "files": list(dict.fromkeys([entry.media_key, thumbnail])),
            },
        )
        origin = ImageOrigin(
            collection=params["collection"],
            document_id=params["documentId"],
            field=params["field"],
            number=params["number"],
            url=params["sourceUrl"],
            final_url=params["finalUrl"],
            domain=entry.model,
            attempts=entry.meta.get("attempts", 1),
            elapsed_ms=record.latency_ms or 0,
        )
        return StoredImage(record, origin, entry.meta.get("sha256", ""))

    def _title(self, exchanges: list[GenerationRecord]) -> str:
        """The conversation's title: kept in every answered exchange's conversation.json; a
        conversation never answered is titled by its first message, as the chat titles it."""
        answered = [r for r in exchanges if r.status == Status.COMPLETED and r.media_key]
        if answered:
            try:
                document = json.loads(
                    self._store.get(answered[-1].bucket, answered[-1].media_key or "").data
                )
                return str(document["title"])
            except (ObjectMissing, ValueError, KeyError):
                pass
        return " ".join(str(exchanges[0].params.get("message", "")).split())[:TITLE_CHARS]

    # --- repairing ---

    def _repair(self, plan: _Plan, stored: _Store, say: Progress, summary: Summary) -> None:
        say.stage(
            "repairing",
            len(plan.rows_gone)
            + len(plan.records_back)
            + len(plan.lines_gone)
            + len(plan.lines_back)
            + len(plan.import_lines_back),
        )
        by_day: dict[tuple[uuid.UUID, Modality, date], list[uuid.UUID]] = defaultdict(list)
        for line in plan.lines_gone:
            by_day[line.owner, line.entry.modality, line.entry.created_at.date()].append(
                line.entry.id
            )
        for (owner, modality, day), ids in by_day.items():
            self._history.remove(owner, modality, ids, day)
            say.advance(len(ids))
        summary.repaired["index_lines_removed"] += len(plan.lines_gone)
        if plan.rows_gone:
            with transaction(self._sessions) as db:
                db.execute(delete(Generation).where(Generation.id.in_(plan.rows_gone)))
            summary.repaired["rows_deleted"] += len(plan.rows_gone)
            say.advance(len(plan.rows_gone))
        for row, quantity in self._rows_with_quantities(plan.records_back):
            folder = stored.folders.get(row.id)
            record = record_of_row(row, quantity=quantity, thumbnail_key=_thumbnail(row, folder))
            body = json.dumps(record.to_json(), ensure_ascii=False, indent=2).encode()
            self._store.put(record.bucket, record.record_key, body, "application/json")
            summary.repaired["records_written_back"] += 1
            say.advance()
        by_owner: dict[uuid.UUID, list[IndexEntry]] = defaultdict(list)
        for record in plan.lines_back:
            by_owner[record.user_id].append(IndexEntry.of(record))
        for owner, entries in by_owner.items():
            self._history.append_many(owner, entries)
            say.advance(len(entries))
        summary.repaired["index_lines_added"] += len(plan.lines_back)
        self._reindex_imports(plan.import_lines_back, summary)
        say.advance(len(plan.import_lines_back))
        if plan.orphans:
            # Nothing says what they are: an interrupted write, or one under way right now.
            summary.left["files_without_records"] += plan.orphans

    def _rows_with_quantities(
        self, generation_ids: list[uuid.UUID]
    ) -> Iterator[tuple[Generation, Any]]:
        for batch in _batches(generation_ids):
            with self._sessions() as db:
                rows = db.scalars(select(Generation).where(Generation.id.in_(batch))).all()
                quantities = dict(
                    db.execute(
                        select(UsageEvent.generation_id, UsageEvent.quantity).where(
                            UsageEvent.generation_id.in_(batch)
                        )
                    ).all()
                )
            for row in rows:
                yield row, quantities[row.id]

    def _reindex_imports(self, generation_ids: list[uuid.UUID], summary: Summary) -> None:
        by_owner: dict[uuid.UUID, list[Generation]] = defaultdict(list)
        for batch in _batches(generation_ids):
            with self._sessions() as db:
                rows = db.scalars(select(Generation).where(Generation.id.in_(batch))).all()
                db.expunge_all()
            for row in rows:
                # Judged with its owner; an account deleted since has none.
                if row.user_id is not None:
                    by_owner[row.user_id].append(row)
        for owner, rows in by_owner.items():
            self._library.reindex(owner, rows)
            summary.repaired["index_lines_added"] += len(rows)


def _owner(
    record: GenerationRecord | None, line: _Line | None, row: _Row | None
) -> uuid.UUID | None:
    owners = [
        record.user_id if record else None,
        row.user_id if row else None,
        line.owner if line else None,
    ]
    return next((owner for owner in owners if owner is not None), None)


def _latest(record: GenerationRecord | None, line: _Line | None, row: _Row | None) -> datetime:
    """When the generation last changed, as far as the stores say."""
    times = []
    if record is not None:
        times.append(record.completed_at or record.created_at)
    if line is not None:
        times.append(line.entry.created_at)
    if row is not None:
        times.append(row.latest)
    return max(times)


def _folder_day(folder: _Folder) -> date:
    _, year, month, day = folder.prefix.split("/")[:4]
    return date(int(year), int(month), int(day))


def _thumbnail(row: Generation, folder: _Folder | None) -> str | None:
    """The thumbnail the pipeline keeps beside an image's media, if it is still there."""
    if folder is None or not row.media_key:
        return None
    key = f"{row.media_key.rpartition('/')[0]}/thumbnail.webp"
    return key if key in folder.files else None


def _conversation_values(
    conversation_id: uuid.UUID, exchanges: list[GenerationRecord], title: str
) -> dict[str, Any]:
    """A conversation's row as the chat leaves it: created at its first exchange, with the
    settings of its newest one, and the provider, model and time of its newest answer."""
    first, newest = exchanges[0], exchanges[-1]
    answered = [r for r in exchanges if r.status == Status.COMPLETED]
    chosen = answered[-1] if answered else first
    created_at = first.completed_at or first.created_at
    return {
        "id": conversation_id,
        "user_id": first.user_id,
        "title": title,
        "system_prompt": newest.params.get("system", ""),
        "provider": chosen.params.get("provider", chosen.provider),
        "model": chosen.params.get("model", chosen.model),
        "temperature": newest.params.get("temperature", 0.7),
        "created_at": created_at,
        "updated_at": (answered[-1].completed_at or created_at) if answered else created_at,
    }


def _insert(
    db: Session, table: type[Generation] | type[UsageEvent] | type[Conversation]
) -> postgresql.Insert | sqlite.Insert:
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


def _chunks(results: Iterable[R], size: int = 100) -> Iterator[list[R]]:
    """A lazy map's results a few at a time, so progress moves while they arrive."""
    chunk: list[R] = []
    for result in results:
        chunk.append(result)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
