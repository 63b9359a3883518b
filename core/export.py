"""A user's generations as one ZIP archive, streamed: the Gallery's download and the API's.

`zipfile` writes into a small sink that is drained every `CHUNK` bytes, so what is held at any
time is the few generations being read ahead and one piece of output, however large the
archive. Inside, laid out for people who unpack it:

    {modality}/{yyyy-mm-dd}/{id}/input.json | record.json | image/original.png | ...
    index.csv      one row per generation: when, what, how it went, its parameters as columns
    missing.txt    what was asked for but could not be read (only when there is something)

Every generation of the owner's that the selection names goes in, failed ones too (their record
says why), oldest first. A browser cannot send the access token with a plain link, so the
Gallery's link carries a ticket instead: signed, five minutes long, naming the owner and the
selection (core/auth/tokens.py `Tickets`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import posixpath
import tempfile
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth.tokens import TicketExpired, Tickets
from core.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from core.gallery import generation_files, read_record
from core.modality import Modality
from core.periods import Window, utc_days
from storage.db import reading
from storage.keyset import Cursor, Keyset
from storage.models import Generation, User
from storage.objects import ObjectMissing, ObjectStore

log = logging.getLogger(__name__)

# The most generations one export names by id: a ticket carrying them stays a short link.
MAX_IDS = 100
TICKET_PURPOSE = "atelier:export"
TICKET_TTL_SECONDS = 5 * 60
TICKET_EXPIRED = "This export link has expired. Open Export in the Gallery again for a new one."
TICKET_INVALID = "This export link is not valid. Open Export in the Gallery for a new one."
MEDIA_TYPE = "application/zip"

# Output is handed on once this much is waiting, and members are fed to zipfile in pieces of
# this size, so no piece handed on is much larger.
CHUNK = 256 * 1024
# Generations whose files are read while the one before is written: S3 round trips overlap.
_READ_AHEAD = 4
_ROWS_PER_QUERY = 500
# index.csv's rows wait aside until every parameter's column is known: in memory up to this,
# then in a temporary file.
_INDEX_IN_MEMORY = 1024 * 1024
# Already compressed (PNG, WebP, JPEG, MP3): stored as they are, not deflated again.
_DEFLATED = (".json", ".jsonl", ".csv", ".txt")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_COLUMNS = ("id", "created", "modality", "provider", "model", "status", "prompt", "error", "folder")


@dataclass(frozen=True)
class ExportSelection:
    """Which of the owner's generations: all of them, narrowed by every field that is set."""

    ids: tuple[uuid.UUID, ...] = ()
    # Whole UTC days, both included.
    first_day: date | None = None
    last_day: date | None = None
    # Empty: every kind.
    modalities: tuple[Modality, ...] = ()

    def __post_init__(self) -> None:
        if len(self.ids) > MAX_IDS:
            raise InvalidInput(
                f"Choose at most {MAX_IDS} generations by id; for more, export a date range."
            )
        try:
            # Refuses a last day before the first, in the words every period is refused with.
            utc_days(self.first_day, self.last_day)
        except OverflowError:
            # The day after the last one is where the window ends.
            raise InvalidInput("to: choose a day before 9999-12-31.") from None

    @property
    def window(self) -> Window:
        return utc_days(self.first_day, self.last_day)

    @classmethod
    def parse(
        cls,
        *,
        ids: Sequence[str] = (),
        first_day: str | None = None,
        last_day: str | None = None,
        modalities: Sequence[str] = (),
    ) -> ExportSelection:
        """From the words of a query string; ids may also come comma-separated."""
        words = [word.strip() for value in ids for word in value.split(",") if word.strip()]
        try:
            parsed_ids = tuple(dict.fromkeys(uuid.UUID(word) for word in words))
        except ValueError:
            raise InvalidInput(
                "ids: each one must be a generation's id, such as "
                "3f2b8c1e-0d4a-4e6b-9a7c-2b1d5e8f9a01."
            ) from None
        kinds = {kind.value for kind in Modality}
        if any(m not in kinds for m in modalities):
            raise InvalidInput(f"modality: each one must be one of {', '.join(sorted(kinds))}.")
        return cls(
            ids=parsed_ids,
            first_day=_day("from", first_day),
            last_day=_day("to", last_day),
            modalities=tuple(dict.fromkeys(Modality(m) for m in modalities)),
        )

    def to_claims(self) -> dict[str, Any]:
        return {
            "ids": [str(i) for i in self.ids],
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            "modality": [m.value for m in self.modalities],
        }

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> ExportSelection:
        return cls.parse(
            ids=claims["ids"],
            first_day=claims["from"],
            last_day=claims["to"],
            modalities=claims["modality"],
        )


def _day(name: str, value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: give a day as YYYY-MM-DD, such as 2026-11-03.") from None


@dataclass(frozen=True)
class ExportTicket:
    """What a checked ticket allows: this owner's export of this selection."""

    owner: uuid.UUID
    selection: ExportSelection


@dataclass(frozen=True)
class _Member:
    name: str
    # None: listed or pointed at, but not in storage when read.
    data: bytes | None


class Exports:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        tickets: Tickets,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._tickets = tickets
        self._now = now

    def count(self, owner: uuid.UUID, selection: ExportSelection) -> int:
        with reading(self._sessions) as db:
            query = select(func.count()).select_from(Generation).where(*_chosen(owner, selection))
            return db.scalar(query) or 0

    def ticket(self, owner: uuid.UUID, selection: ExportSelection) -> str:
        claims = {"selection": selection.to_claims()}
        return self._tickets.issue(TICKET_PURPOSE, owner, claims, ttl_seconds=TICKET_TTL_SECONDS)

    def redeem(self, ticket: str) -> ExportTicket:
        """Whose export a ticket allows and of what; its owner must still be an active account."""
        try:
            found = self._tickets.verify(TICKET_PURPOSE, ticket)
            selection = ExportSelection.from_claims(found.claims["selection"])
        except TicketExpired:
            raise AuthenticationFailed(TICKET_EXPIRED) from None
        except (AuthenticationFailed, InvalidInput, KeyError, TypeError, AttributeError):
            raise PermissionDenied(TICKET_INVALID) from None
        with reading(self._sessions) as db:
            user = db.get(User, found.user_id)
            if user is None or not user.is_active:
                raise PermissionDenied(TICKET_INVALID)
        return ExportTicket(found.user_id, selection)

    def file_name(self) -> str:
        return f"atelier-export-{self._now():%Y-%m-%d-%H%M%S}.zip"

    def archive(self, owner: uuid.UUID, selection: ExportSelection) -> Iterator[bytes]:
        """The ZIP, in pieces of about `CHUNK` bytes. Only `owner`'s generations are read."""
        sink = _Sink()
        missing: list[str] = []
        unseen = set(selection.ids)
        readers = ThreadPoolExecutor(max_workers=_READ_AHEAD, thread_name_prefix="export")
        rows = _read_ahead(readers, self._members, self._rows(owner, selection))
        try:
            with _spool() as spool, zipfile.ZipFile(sink, "w") as archive:
                index = _Index(spool)
                for row, members in rows:
                    unseen.discard(row.id)
                    folder = _folder(row)
                    index.add(row, folder)
                    for member in members:
                        if member.data is None:
                            missing.append(f"{folder}{member.name}: not in storage")
                            continue
                        info = _info(folder + member.name, row.created_at, len(member.data))
                        yield from _write(archive, sink, info, _pieces(member.data))
                missing += [
                    f"{i}: not among your generations (deleted, or not yours)"
                    for i in selection.ids
                    if i in unseen
                ]
                now = self._now()
                yield from _write(archive, sink, _info("index.csv", now), index.lines())
                if missing:
                    text = "These were asked for but could not be read:\n\n" + "\n".join(missing)
                    info = _info("missing.txt", now)
                    yield from _write(archive, sink, info, [text.encode() + b"\n"])
            yield sink.take()
        finally:
            # A client that stops reading leaves nothing running for it.
            readers.shutdown(wait=False, cancel_futures=True)
        log.info(
            "export written",
            extra={"user_id": str(owner), "generations": index.rows, "missing": len(missing)},
        )

    def _rows(self, owner: uuid.UUID, selection: ExportSelection) -> Iterator[Generation]:
        """The chosen rows, oldest first, a batch per query: no connection is held while the
        archive is written, and no more than a batch of rows is in memory."""
        cursor: Cursor | None = None
        while True:
            keyset = Keyset(
                Generation.created_at,
                Generation.id,
                newest_first=False,
                cursor=cursor,
                limit=_ROWS_PER_QUERY,
            )
            with reading(self._sessions) as db:
                query = keyset.query(select(Generation).where(*_chosen(owner, selection)))
                found = keyset.page(list(db.scalars(query)), lambda r: (r.created_at, r.id))
            yield from found.rows
            if found.next_cursor is None:
                return
            cursor = Cursor.decode(found.next_cursor)

    def _members(self, row: Generation) -> list[_Member]:
        """The files of one generation, named inside its folder of the archive."""
        files = generation_files(self._store, row)
        base = posixpath.commonpath([posixpath.dirname(key) for key in files]) if files else ""
        members = [_Member(_relative(key, base), self._read(row.s3_bucket, key)) for key in files]
        if row.record_key not in files:
            # An imported image keeps its record in its row (read_record answers it from
            # there); for any other generation this is a record.json gone from storage.
            record = read_record(self._store, row)
            data = None if record is None else json.dumps(record, indent=2).encode()
            members.append(_Member("record.json", data))
        pointed_at = [row.input_key, row.media_key]
        members += [
            _Member(_relative(key, base), None)
            for key in pointed_at
            if key and key != row.record_key and key not in files
        ]
        return members

    def _read(self, bucket: str, key: str) -> bytes | None:
        try:
            return self._store.get(bucket, key).data
        except ObjectMissing:
            # Deleted between the listing and the read: one missing file must not end the
            # archive; missing.txt names it.
            return None


def _chosen(owner: uuid.UUID, selection: ExportSelection) -> list[ColumnElement[bool]]:
    # The owner is always the first condition: no selection reaches anyone else's rows.
    conditions = [Generation.user_id == owner, *selection.window.bounds(Generation.created_at)]
    if selection.ids:
        conditions.append(Generation.id.in_(selection.ids))
    if selection.modalities:
        conditions.append(Generation.modality.in_([m.value for m in selection.modalities]))
    return conditions


def _read_ahead(
    readers: ThreadPoolExecutor,
    read: Callable[[Generation], list[_Member]],
    rows: Iterable[Generation],
) -> Iterator[tuple[Generation, list[_Member]]]:
    """Each row with its files, in order, the next few read while the caller writes this one."""
    pending: deque[tuple[Generation, Future[list[_Member]]]] = deque()
    for row in rows:
        pending.append((row, readers.submit(read, row)))
        if len(pending) > _READ_AHEAD:
            done, members = pending.popleft()
            yield done, members.result()
    while pending:
        done, members = pending.popleft()
        yield done, members.result()


def _folder(row: Generation) -> str:
    return f"{row.modality}/{row.created_at:%Y-%m-%d}/{row.id}/"


def _relative(key: str, base: str) -> str:
    if base and key.startswith(base + "/"):
        return key[len(base) + 1 :]
    return posixpath.basename(key)


def _info(name: str, when: datetime, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(_DEFLATED) else zipfile.ZIP_STORED
    # Known up front for media, so zipfile picks ZIP64 headers only when a member needs them.
    info.file_size = size
    info.external_attr = 0o644 << 16
    return info


def _pieces(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield view[start : start + CHUNK]


def _write(
    archive: zipfile.ZipFile,
    sink: _Sink,
    info: zipfile.ZipInfo,
    pieces: Iterable[bytes | memoryview],
) -> Iterator[bytes]:
    with archive.open(info, "w") as member:
        for piece in pieces:
            member.write(piece)
            if sink.size >= CHUNK:
                yield sink.take()
    if sink.size >= CHUNK:
        yield sink.take()


class _Sink:
    """Where zipfile writes: kept until taken. It cannot seek, so zipfile writes each member's
    sizes after its data (a data descriptor) and never goes back."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def size(self) -> int:
        return len(self._buffer)

    def write(self, data: bytes | memoryview) -> int:
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        taken = bytes(self._buffer)
        self._buffer.clear()
        return taken

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Index:
    """index.csv: one row per generation, its parameters (the `input` of record.json) as
    columns. The header comes first but names every parameter any row has, so the rows wait
    in `spool` (in memory while small, then a temporary file) until the last one is added."""

    def __init__(self, spool: tempfile.SpooledTemporaryFile[str]) -> None:
        self._spool = spool
        # Parameter names in the order they first appear: a row's related ones stay together.
        self._params: dict[str, None] = {}
        self.rows = 0

    def add(self, row: Generation, folder: str) -> None:
        params = row.meta.get("params") or {}
        self._params.update(dict.fromkeys(params))
        fixed = {
            "id": str(row.id),
            "created": row.created_at.isoformat(),
            "modality": row.modality,
            "provider": row.provider,
            "model": row.model,
            "status": row.status,
            "prompt": row.prompt,
            "error": row.error,
            "folder": folder,
        }
        self._spool.write(json.dumps([fixed, params], ensure_ascii=False) + "\n")
        self.rows += 1

    def lines(self) -> Iterator[bytes]:
        # A parameter named like a fixed column ("model": the one asked for, where the column
        # says the one that answered) keeps the name record.json gives it.
        names = {name: f"input.{name}" if name in _COLUMNS else name for name in self._params}
        text = io.StringIO()
        writer = csv.writer(text)
        # The byte order mark tells spreadsheets the file is UTF-8.
        writer.writerow(["\ufeff" + _COLUMNS[0], *_COLUMNS[1:], *names.values()])
        self._spool.seek(0)
        for line in self._spool:
            fixed, params = json.loads(line)
            writer.writerow(
                [_cell(fixed[c]) for c in _COLUMNS] + [_cell(params.get(p)) for p in names]
            )
            if text.tell() >= CHUNK:
                yield text.getvalue().encode()
                text.seek(0)
                text.truncate()
        yield text.getvalue().encode()


def _spool() -> tempfile.SpooledTemporaryFile[str]:
    return tempfile.SpooledTemporaryFile(
        max_size=_INDEX_IN_MEMORY, mode="w+", encoding="utf-8", newline=""
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text
