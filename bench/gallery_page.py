"""The Gallery of a user with 10,000 generations among other users, on PostgreSQL + SeaweedFS.

The rows come from `bench.seed_history`: the collector's 10,000, then four times as many for
other users, so every query has to find one user's rows among several. The collector's completed
rows also get their history index lines, one JSONL file per day as the pipeline leaves them:
rows and index describe the same generations, as in a real library.

Each case asks `Gallery.page` for 24 items (what the page does when its query changes): cold
(the engine's connections and the parsed day files dropped first), then warm. The cases: the
listing; a text that matches nothing (the worst case for the index walk); a common word; one
modality; a word within one modality; the fifth page of the common word through the cursor
("Load more"). Every answer is checked against the rows.

    python -m bench.gallery_page [--generations 10000] [--others 4] [--days 365] [--runs 30]
        [--embedded]    (SQLite + a local folder instead)
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bench.seed_history import seed_history, vacuum_analyze
from bench.stack import embedded_stack, percentiles, production_stack
from core.history import IndexEntry, index_key
from core.modality import Modality
from core.services import Services
from storage.models import Generation, User

PAGE = 24
NEWEST = datetime(2026, 11, 22, 12, tzinfo=UTC)
COLLECTOR_DOMAIN = "collector.example.com"


@dataclass(frozen=True)
class Case:
    modalities: list[Modality] | None = None
    text: str = ""
    # Which page to time: 1 is the first, 5 the one "Load more" shows after four.
    page: int = 1


CASES = {
    "listing": Case(),
    # No prompt has it: the old search had to read every day file before answering "none".
    "search_no_match": Case(text="zebra"),
    "search_common_word": Case(text="Fox"),
    "filter_speech": Case(modalities=[Modality.SPEECH]),
    "search_word_in_chat": Case(modalities=[Modality.CHAT], text="poem"),
    "search_common_word_page_5": Case(text="fox", page=5),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generations", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=4, help="other users, 1x the rows each")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--embedded", action="store_true", help="SQLite + a local folder")
    arguments = parser.parse_args()

    stack = embedded_stack() if arguments.embedded else production_stack()
    with stack as services:
        started = time.perf_counter()
        user_id, rows = _seed(services, arguments)
        seconds = time.perf_counter() - started
        results = {
            name: _measure(services, user_id, rows, case, arguments.runs)
            for name, case in CASES.items()
        }

    print(
        json.dumps(
            {
                "benchmark": "gallery_page",
                "stack": "SQLite + local folder"
                if arguments.embedded
                else "PostgreSQL + SeaweedFS (weed mini), loopback",
                "generations": arguments.generations,
                "completed_in_gallery": len(rows),
                "other_users_generations": arguments.generations * arguments.others,
                "page_size": PAGE,
                "seed_seconds": round(seconds, 1),
                "goal_warm_ms": 150,
                "cases": results,
            },
            indent=2,
        )
    )


def _seed(services: Services, arguments: argparse.Namespace) -> tuple[uuid.UUID, list[Generation]]:
    """The collector's rows and index lines, and the other users' rows; the collector's
    completed rows newest first (the Gallery's order)."""
    buckets = {m.value: services.settings.bucket_for(m) for m in Modality}
    common = {"days": arguments.days, "now": NEWEST, "buckets": buckets}
    seed_history(
        services.engine,
        users=1,
        generations=arguments.generations,
        email_domain=COLLECTOR_DOMAIN,
        **common,
    )
    seed_history(
        services.engine,
        users=arguments.others,
        generations=arguments.generations * arguments.others,
        seed=8,
        **common,
    )
    vacuum_analyze(services.engine)
    with services.db() as db:
        user_id = db.scalars(select(User.id).where(User.email.endswith(COLLECTOR_DOMAIN))).one()
        rows = list(
            db.scalars(
                select(Generation)
                .where(Generation.user_id == user_id, Generation.status == "completed")
                .order_by(Generation.created_at.desc(), Generation.id.desc())
            )
        )
    days: dict[tuple[Modality, str], list[bytes]] = {}
    for row in rows:
        modality = Modality(row.modality)
        # The line the pipeline would have written for this row (seeded rows keep no params).
        entry = IndexEntry(
            id=row.id, created_at=row.created_at, modality=modality, provider=row.provider,
            model=row.model, prompt=row.prompt, media_key=row.media_key or "",
            record_key=row.record_key or "", content_type=row.content_type or "",
            meta={k: v for k, v in row.meta.items() if k != "params"},
        )  # fmt: skip
        key = index_key(user_id, modality, row.created_at.date())
        days.setdefault((modality, key), []).append(entry.to_line())
    for (modality, key), lines in days.items():
        # A day file lists its lines oldest first, as appends leave it.
        body = b"".join(reversed(lines))
        services.objects.put(
            services.settings.bucket_for(modality), key, body, "application/x-ndjson"
        )
    return user_id, rows


def _measure(
    services: Services, user_id: uuid.UUID, rows: list[Generation], case: Case, runs: int
) -> dict[str, Any]:
    kinds = {m.value for m in case.modalities or Modality}
    needle = case.text.strip().casefold()
    matching = [r.id for r in rows if r.modality in kinds and needle in r.prompt.casefold()]
    expected = matching[(case.page - 1) * PAGE : case.page * PAGE]
    if not expected:
        # A small history has no such page, and "Load more" is not offered on the last one.
        return {"matches": len(matching), "skipped": f"fewer than {case.page} pages of matches"}
    # The cursor "Load more" hands back after the pages before the timed one.
    cursor = None
    for _ in range(case.page - 1):
        cursor = _page(services, user_id, case, cursor).next_cursor

    def timed() -> float:
        started = time.perf_counter()
        page = _page(services, user_id, case, cursor)
        elapsed = (time.perf_counter() - started) * 1000
        assert [e.id for e in page.entries] == expected, "the page differs from the rows"
        assert (page.next_cursor is not None) == (len(matching) > case.page * PAGE)
        return elapsed

    services.engine.dispose()
    services.history._parse_day.cache_clear()
    cold = timed()
    warm = [timed() for _ in range(runs)]
    return {"matches": len(matching), "cold_ms": round(cold, 2), "warm_ms": percentiles(warm)}


def _page(services: Services, user_id: uuid.UUID, case: Case, cursor: str | None) -> Any:
    return services.gallery.page(
        user_id, modalities=case.modalities, text=case.text, limit=PAGE, cursor=cursor
    )


if __name__ == "__main__":
    main()
