"""Whether the three stores agree about generations: the history index lines, the files in the
object store (record.json, media, thumbnail) and the `generations` rows with their usage events.

What a user can see or is counted for must have all of its parts: every index line has a
completed row of the same owner, a completed record and its media; every completed row has
exactly one index line; a usage event counts as completed only what is completed. Files
without a line or a row (media a failed write could not take back) are invisible and are not
disagreements.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.gallery import read_record
from core.generation.status import Status, usage_event_type
from core.modality import Modality
from core.services import Services
from storage.models import Generation, UsageEvent

_HISTORY_FOLDER = re.compile(r"users/[^/]+/[^/]+/history/")
_DAY_FILE = re.compile(
    r"users/(?P<owner>[^/]+)/(?P<modality>[^/]+)/history/\d{4}/\d{2}/\d{2}\.jsonl"
)


@dataclass(frozen=True)
class Disagreement:
    generation_id: str
    problem: str


@dataclass(frozen=True)
class _Line:
    owner: str
    modality: str
    document: dict[str, Any]
    key: str


def disagreements(
    services: Services, users: Collection[uuid.UUID] | None = None
) -> list[Disagreement]:
    """Everything the stores disagree on, for these users (everyone when None)."""
    found: list[Disagreement] = []
    lines: list[_Line] = []
    for line in _index_lines(services, users):
        if isinstance(line, Disagreement):
            found.append(line)
        else:
            lines.append(line)
    rows = _rows(services, users)
    counted = Counter(line.document.get("id") for line in lines)
    for line in lines:
        found += _check_line(services, line, rows.get(str(line.document.get("id"))))
    for generation_id, times in counted.items():
        if times > 1:
            found.append(Disagreement(str(generation_id), f"{times} index lines"))
    for generation_id, row in rows.items():
        if row.status == Status.COMPLETED and generation_id not in counted:
            found.append(Disagreement(generation_id, "a completed row without an index line"))
    found += _miscounted(services, rows)
    return found


def _rows(services: Services, users: Collection[uuid.UUID] | None) -> dict[str, Generation]:
    query = select(Generation)
    if users is not None:
        query = query.where(Generation.user_id.in_(list(users)))
    with services.db() as db:
        return {str(row.id): row for row in db.scalars(query)}


def _index_lines(
    services: Services, users: Collection[uuid.UUID] | None
) -> Iterator[_Line | Disagreement]:
    store = services.objects
    for modality in Modality:
        bucket = services.settings.bucket_for(modality)
        prefixes = (
            ["users/"] if users is None else [f"users/{user}/{modality}/history/" for user in users]
        )
        for prefix in prefixes:
            for info in store.list_objects(bucket, prefix):
                match = _DAY_FILE.fullmatch(info.key)
                if match is None:
                    # A user's other files (an avatar) sit beside the history folders.
                    if _HISTORY_FOLDER.match(info.key):
                        yield Disagreement(
                            "", f"an unexpected object in a history folder: {info.key}"
                        )
                    continue
                body = store.get(bucket, info.key).data
                for number, raw in enumerate(body.splitlines(), start=1):
                    try:
                        document = json.loads(raw)
                    except ValueError:
                        yield Disagreement("", f"line {number} of {info.key} is not JSON")
                        continue
                    yield _Line(match["owner"], match["modality"], document, info.key)


def _check_line(services: Services, line: _Line, row: Generation | None) -> list[Disagreement]:
    generation_id = str(line.document.get("id"))

    def problem(text: str) -> list[Disagreement]:
        return [Disagreement(generation_id, f"{text} (index line in {line.key})")]

    if row is None:
        return problem("an index line without a row")
    if str(row.user_id) != line.owner or row.modality != line.modality:
        return problem(f"the row belongs to {row.user_id}'s {row.modality}")
    if row.status != Status.COMPLETED:
        return problem(f"an index line for a {row.status} row")
    s3 = line.document.get("s3", {})
    if s3.get("media") != row.media_key:
        return problem(f"the line's media {s3.get('media')!r} is not the row's {row.media_key!r}")
    record = read_record(services.objects, row)
    if record is None:
        return problem("no record.json")
    if record.get("status") != Status.COMPLETED:
        return problem(f"record.json says {record.get('status')!r}")
    named = [key for key in (row.media_key, s3.get("thumbnail")) if key is not None]
    # A listing per folder, rather than reading every file the line names.
    present = {
        info.key
        for folder in {key.rpartition("/")[0] + "/" for key in named}
        for info in services.objects.list_objects(row.s3_bucket, folder)
    }
    missing = [key for key in named if key not in present]
    return problem(f"{', '.join(missing)} missing") if missing else []


def _miscounted(services: Services, rows: dict[str, Generation]) -> list[Disagreement]:
    """Usage events (what quotas count) that disagree with their generation's row: one event
    per row, counted as the row ended."""
    if not rows:
        return []
    with services.db() as db:
        events = db.execute(
            select(UsageEvent.generation_id, UsageEvent.event_type).where(
                UsageEvent.generation_id.in_([row.id for row in rows.values()])
            )
        ).all()
    found = []
    per_row = Counter(str(generation_id) for generation_id, _ in events)
    for generation_id in rows:
        if per_row[generation_id] != 1:
            found.append(Disagreement(generation_id, f"{per_row[generation_id]} usage events"))
    for generation_id, event_type in events:
        row = rows[str(generation_id)]
        if event_type != usage_event_type(Status(row.status)):
            found.append(
                Disagreement(str(generation_id), f"a {event_type} event for a {row.status} row")
            )
    return found
