"""What imports did over a period, from the summaries of the import jobs that ended in it.

Failures exist only there (a failed URL has no generation row), so every figure is read from
the same place. Import jobs are few next to generations: their summaries are added up here.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs.model import JobKind
from core.periods import Window
from storage.models import Job

# What `import_usage` reads of a summary: all a deleted account's imports keep of theirs.
COUNTED = ("downloaded", "duplicates", "bytes", "failed", "reasons", "domains")


def counted(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures of a summary without what only its owner had use for (the documents a
    retry would try again)."""
    return {key: summary[key] for key in COUNTED if key in summary}


@dataclass(frozen=True)
class DomainUsage:
    domain: str
    downloads: int
    failures: int


@dataclass(frozen=True)
class ImportUsage:
    jobs: int
    downloads: int
    duplicates: int
    size_bytes: int
    failures: int
    # Most common first.
    reasons: list[tuple[str, int]]
    domains: list[DomainUsage]


def import_usage(db: Session, window: Window, user_id: uuid.UUID | None) -> ImportUsage:
    query = select(Job.summary).where(
        Job.kind == JobKind.IMPORT.value,
        Job.summary.is_not(None),
        *window.bounds(Job.finished_at),
    )
    if user_id is not None:
        query = query.where(Job.owner_id == user_id)
    summaries = [s for s in db.scalars(query) if s]
    reasons: Counter[str] = Counter()
    done: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for summary in summaries:
        reasons.update(summary.get("reasons", {}))
        for domain, counts in summary.get("domains", {}).items():
            done[domain] += counts.get("done", 0)
            failed[domain] += counts.get("failed", 0)
    domains = sorted(
        (DomainUsage(d, done[d], failed[d]) for d in done.keys() | failed.keys()),
        key=lambda u: (-(u.downloads + u.failures), u.domain),
    )
    return ImportUsage(
        jobs=len(summaries),
        downloads=sum(s.get("downloaded", 0) for s in summaries),
        duplicates=sum(s.get("duplicates", 0) for s in summaries),
        size_bytes=sum(s.get("bytes", 0) for s in summaries),
        failures=sum(s.get("failed", 0) for s in summaries),
        reasons=reasons.most_common(),
        domains=domains,
    )
