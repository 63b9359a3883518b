"""The gallery's first page for a user with 10,000 generations, on PostgreSQL + SeaweedFS.

The user's history index is written the way the pipeline leaves it (one JSONL file per day),
spread over a year and three modalities. Then we time the first page of 24: cold (nothing
parsed yet), warm (the same process again: only the listing is new), and a text search that
finds nothing, so it has to read every day file (the worst case).

    python -m bench.gallery_page [--generations 10000] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import cycle

from bench.stack import percentiles, production_stack
from core.history import IndexEntry, index_key
from core.modality import Modality


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generations", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=50)
    arguments = parser.parse_args()

    with production_stack() as services:
        user_id = services.auth.register("collector@example.com", "correct horse 42", ip=None).id
        newest = datetime(2026, 11, 22, 12, tzinfo=UTC)
        days: dict[tuple[Modality, str], list[bytes]] = {}
        modalities = cycle([Modality.IMAGE, Modality.IMAGE, Modality.SPEECH, Modality.CHAT])
        for n in range(arguments.generations):
            created = newest - timedelta(days=n % arguments.days, minutes=n)
            modality = next(modalities)
            entry = IndexEntry(
                id=uuid.uuid4(), created_at=created, modality=modality, provider="sketch",
                model="sketch-v1", prompt=f"generation number {n} of a long history",
                media_key=f"requests/{created:%Y/%m/%d}/{n}/media", record_key="record.json",
                content_type="image/png", params={"seed": n, "size": "512x512"},
            )  # fmt: skip
            key = index_key(user_id, modality, created.date())
            days.setdefault((modality, key), []).append(entry.to_line())
        for (modality, key), lines in days.items():
            services.objects.put(
                services.settings.bucket_for(modality), key, b"".join(lines), "application/x-ndjson"
            )

        def first_page(text: str = "", expected: int = 24) -> float:
            started = time.perf_counter()
            page = services.gallery.page(user_id, limit=24, text=text)
            assert len(page.entries) == expected
            return (time.perf_counter() - started) * 1000

        cold = first_page()
        warm = [first_page() for _ in range(arguments.runs)]
        services.history._parse_day.cache_clear()
        # A word no prompt has: the search reads every day file, the worst case.
        search_cold = first_page("zebra", expected=0)
        search_warm = [first_page("zebra", expected=0) for _ in range(5)]

    print(
        json.dumps(
            {
                "benchmark": "gallery_first_page",
                "stack": "PostgreSQL + SeaweedFS (weed mini), loopback",
                "generations": arguments.generations,
                "day_files": len(days),
                "page_size": 24,
                "cold_ms": round(cold, 2),
                "warm_ms": percentiles(warm),
                "goal_warm_ms": 150,
                "text_search_all_days_cold_ms": round(search_cold, 2),
                "text_search_all_days_warm_ms": percentiles(search_warm),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
