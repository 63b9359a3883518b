"""Rebuilding the database from the object store: N generations from SeaweedFS into PostgreSQL.

The history is written with the real layout by `bench.seed_history` (rows loaded with COPY, then
`write_media` puts each of the N newest image and speech generations' media, input.json and
record.json in SeaweedFS through its filer and appends the lines to the owners' history indexes).
Then `generations` and `usage_events` are emptied and `core.rebuild` (what `python -m
storage.rebuild` runs) brings them back: generations per second, and the time of each stage.
A second run on the full database (which writes nothing: the scan alone) and a `--check` are
timed too. Writing the history is timed apart; it is not part of the rate.

    python -m bench.rebuild [--generations 10000] [--users 50] [--days 90]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bench.seed_history import FilerWriter, seed_history, write_media
from bench.stack import production_stack_and_seaweedfs
from core.modality import Modality
from core.rebuild import Mode, StoreRebuild, Summary
from core.services import Services
from tests.support.seaweedfs import SeaweedFS

# Every generation written is a settled one: the app is not writing while the bench runs.
NO_GRACE = timedelta(0)
# Image and speech generations that complete are about 80 % of the seeded mix.
_WITH_MEDIA_SHARE = 0.8


class StageTimes:
    """A progress listener that keeps how long each stage took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._current: str | None = None
        self._started = 0.0

    def stage(self, name: str, total: int | None) -> None:
        self._stop()
        self._current, self._started = name, time.perf_counter()

    def advance(self, steps: int = 1) -> None:
        pass

    def result(self) -> dict[str, float]:
        self._stop()
        return self.seconds

    def _stop(self) -> None:
        if self._current is not None:
            # "reading records (bucket)": the three buckets add up under one name.
            name = self._current.split(" (")[0]
            elapsed = time.perf_counter() - self._started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 2)
            self._current = None


def timed(rebuild: StoreRebuild, mode: Mode) -> tuple[Summary, dict[str, float]]:
    stages = StageTimes()
    summary = rebuild.run(mode, grace=NO_GRACE, progress=stages)
    return summary, stages.result()


def write_history(
    services: Services, seaweed: SeaweedFS, generations: int, users: int, days: int
) -> dict[str, Any]:
    engine, settings = services.engine, services.settings
    started = time.perf_counter()
    seed_history(
        engine,
        users=users,
        generations=round(generations / _WITH_MEDIA_SHARE) + 100,
        days=days,
        buckets={m.value: settings.bucket_for(m) for m in Modality},
    )
    seeded = time.perf_counter()
    writer = FilerWriter(seaweed.filer_url)
    try:
        written = write_media(engine, settings, generations, put=writer.put)
    finally:
        writer.close()
    done = time.perf_counter()
    with engine.begin() as db:
        db.execute(text("TRUNCATE usage_events, generations, conversations RESTART IDENTITY"))
    return {
        "generations_written": written,
        "rows_seed_seconds": round(seeded - started, 2),
        "objects_write_seconds": round(done - seeded, 2),
        "objects_per_second_written": round(written / (done - seeded), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    arguments = parser.parse_args()

    with production_stack_and_seaweedfs() as (services, seaweed):
        written = write_history(
            services, seaweed, arguments.generations, arguments.users, arguments.days
        )
        rebuild = StoreRebuild.of(services)
        rebuilt, rebuild_stages = timed(rebuild, Mode.REBUILD)
        again, again_stages = timed(rebuild, Mode.REBUILD)
        checked, check_stages = timed(rebuild, Mode.CHECK)

    created = rebuilt.created["generations"]
    print(
        json.dumps(
            {
                "benchmark": "rebuild",
                "stack": "PostgreSQL + SeaweedFS (weed mini), loopback, 2 cores shared",
                "users": arguments.users,
                "days": arguments.days,
                **written,
                "rebuild": {
                    "generations_created": created,
                    "usage_events_created": rebuilt.created["usage_events"],
                    "seconds": round(rebuilt.seconds, 2),
                    "generations_per_second": round(created / rebuilt.seconds, 1),
                    "stages_seconds": rebuild_stages,
                },
                "rebuild_again": {
                    "generations_created": again.created["generations"],
                    "seconds": round(again.seconds, 2),
                    "stages_seconds": again_stages,
                },
                "check": {
                    "drift": checked.drift_total,
                    "index_lines": checked.seen["index_lines"],
                    "seconds": round(checked.seconds, 2),
                    "generations_per_second": round(checked.seen["records"] / checked.seconds, 1),
                    "stages_seconds": check_stages,
                },
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
