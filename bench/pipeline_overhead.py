"""What the generation pipeline adds to a provider call, on PostgreSQL + SeaweedFS.

Overhead = the time a user waits beyond the provider's own time: input.json, media, thumbnail
and record.json writes, the history index append, the SQL row and usage event. Measured twice:
with an instant provider (everything counted), and with a provider that takes 200 ms (then
input.json is written while the provider works, as in real use), minus those 200 ms.
Next to it: the raw cost of one S3 PUT, one S3 GET and one SQL insert on the same stack.

    python -m bench.pipeline_overhead [--runs 200]
"""

from __future__ import annotations

import argparse
import io
import json
import time
import uuid
from decimal import Decimal

from PIL import Image
from sqlalchemy import insert

from bench.stack import percentiles, production_stack
from core.generation.records import GenerationContext, GenerationSpec, ProducedMedia
from core.modality import Modality
from storage.db import transaction
from storage.models import UsageEvent


def _png(side: int) -> bytes:
    """A noisy PNG: compresses like a generated picture, not like a flat test square."""
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 24).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--side", type=int, default=320, help="PNG side; 320 gives ~200 KB")
    arguments = parser.parse_args()
    runs = arguments.runs
    media = _png(arguments.side)
    thumbnail = media[: 20 * 1024]

    provider_seconds = 0.0

    def produce(_context: GenerationContext) -> ProducedMedia:
        time.sleep(provider_seconds)
        return ProducedMedia(media, "image/original.png", "image/png", thumbnail=thumbnail)

    with production_stack() as services:
        user_id = services.auth.register("bench@example.com", "correct horse 42", ip=None).id
        spec = GenerationSpec(Modality.IMAGE, "instant", "none", "bench", {"prompt": "bench"})
        for _ in range(10):  # warm connections and caches
            services.pipeline.run(user_id, spec, produce)

        overhead = []
        for _ in range(runs):
            started = time.perf_counter()
            services.pipeline.run(user_id, spec, produce)
            overhead.append((time.perf_counter() - started) * 1000)
        provider_seconds = 0.2
        beyond_provider = []
        for _ in range(max(20, runs // 4)):
            started = time.perf_counter()
            services.pipeline.run(user_id, spec, produce)
            beyond_provider.append((time.perf_counter() - started) * 1000 - 200)

        bucket = services.settings.s3_bucket_image
        put, get, sql = [], [], []
        for n in range(runs):
            key = f"bench/raw/{n}.png"
            started = time.perf_counter()
            services.objects.put(bucket, key, media, "image/png")
            put.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            services.objects.get(bucket, key)
            get.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with transaction(services.db) as db:
                db.execute(
                    insert(UsageEvent).values(
                        user_id=user_id, event_type="bench", quantity=Decimal(1),
                        cost_usd=Decimal(0), meta={}, created_at=services.pipeline._now(),
                    )
                )  # fmt: skip
            sql.append((time.perf_counter() - started) * 1000)

    print(
        json.dumps(
            {
                "benchmark": "pipeline_overhead",
                "stack": "PostgreSQL + SeaweedFS (weed mini), loopback",
                "media_bytes": len(media),
                "pipeline_overhead_ms": percentiles(overhead),
                "overhead_beyond_a_200ms_provider_ms": percentiles(beyond_provider),
                "goal_p50_ms": 15,
                "raw_s3_put_ms": percentiles(put),
                "raw_s3_get_ms": percentiles(get),
                "raw_sql_insert_ms": percentiles(sql),
                "run_id": str(uuid.uuid4()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
