"""Export of a user's 1,000 images as one streamed ZIP, on PostgreSQL + SeaweedFS.

The images go through the generation pipeline (media, thumbnail, input.json, record.json, index
line, row), each a distinct noisy PNG (~200 KB, as a generated picture compresses), for one user
among others. Then `Exports.archive` is read to the end as the HTTP answer would read it:
wall time and MB/s (median of the runs), the pieces' sizes, and memory: tracemalloc's peak
(a run of its own, since tracing slows it) and the growth of the resident set over the run.
Next to it, the floor: every object of the export read once from S3, one after another.

    python -m bench.export [--images 1000] [--side 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import threading
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from bench.stack import production_stack
from core.export import CHUNK, Exports, ExportSelection
from core.gallery import generation_files
from core.generation.records import GenerationContext, GenerationSpec, ProducedMedia
from core.limits import UNLIMITED, LimitOverrides
from core.modality import Modality
from core.services import Services
from storage.models import Generation

PASSWORD = "correct horse 42"
_PAGE_SIZE = 4096


def _noisy_png(side: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _seed(services: Services, owner: uuid.UUID, images: int, side: int) -> None:
    def make(number: int) -> None:
        media = _noisy_png(side, number)
        spec = GenerationSpec(
            Modality.IMAGE,
            "bench",
            "noise",
            f"noise {number}",
            {"prompt": f"noise {number}", "size": f"{side}x{side}", "seed": number},
        )

        def produce(_context: GenerationContext) -> ProducedMedia:
            return ProducedMedia(
                media, "image/original.png", "image/png", thumbnail=_noisy_png(64, number)
            )

        services.pipeline.run(owner, spec, produce)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(make, range(images)))


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE_SIZE


@contextmanager
def _rss_peak() -> Iterator[dict[str, int]]:
    """The resident set's growth while the block runs, sampled every 5 ms."""
    found = {"before": _rss_bytes(), "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            found["peak"] = max(found["peak"], _rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        stop.set()
        sampler.join()
        found["peak"] = max(found["peak"], _rss_bytes())


def _read_archive(exports: Exports, owner: uuid.UUID) -> dict[str, float]:
    started = time.perf_counter()
    sizes = [len(piece) for piece in exports.archive(owner, ExportSelection())]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": sum(sizes), "pieces": len(sizes), "max": max(sizes)}


def _store_floor(services: Services, owner: uuid.UUID) -> dict[str, float]:
    """Every file of the owner's generations listed and read once, one after another."""
    with services.db() as db:
        rows = list(db.scalars(select(Generation).where(Generation.user_id == owner)))
    started = time.perf_counter()
    read = 0
    for row in rows:
        for key in generation_files(services.objects, row):
            read += len(services.objects.get(row.s3_bucket, key).data)
    return {"seconds": time.perf_counter() - started, "bytes": read}


def _checked_members(exports: Exports, owner: uuid.UUID) -> int:
    """The archive written to disk and read back by zipfile, every CRC checked."""
    with tempfile.TemporaryFile() as spool:
        for piece in exports.archive(owner, ExportSelection()):
            spool.write(piece)
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            if (bad := archive.testzip()) is not None:
                raise SystemExit(f"the archive's member {bad} is damaged")
            return len(archive.namelist())


def _mb(value: float) -> float:
    return round(value / 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--side", type=int, default=256, help="PNG side; 256 gives ~200 KB")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    with production_stack() as services:
        # The first account is the admin; the owner is a plain user with a neighbour, both
        # without the per-minute limit so the seeding is not refused.
        admin = services.auth.register("admin@example.com", PASSWORD, ip=None)
        owner = services.auth.register("owner@example.com", PASSWORD, ip=None).id
        neighbour = services.auth.register("neighbour@example.com", PASSWORD, ip=None).id
        for user_id in (owner, neighbour):
            services.limits.set_overrides(
                admin, user_id, LimitOverrides(generations_per_minute=UNLIMITED)
            )
        started = time.perf_counter()
        _seed(services, owner, arguments.images, arguments.side)
        _seed(services, neighbour, arguments.images // 10, arguments.side)
        seeding = time.perf_counter() - started
        exports = services.exports

        members = _checked_members(exports, owner)
        floor = _store_floor(services, owner)
        runs = []
        for _ in range(arguments.runs):
            with _rss_peak() as rss:
                run = _read_archive(exports, owner)
            runs.append(run | {"rss_growth": rss["peak"] - rss["before"]})
        tracemalloc.start()
        traced = _read_archive(exports, owner)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    seconds = statistics.median(r["seconds"] for r in runs)
    archive_bytes = runs[0]["bytes"]
    print(
        json.dumps(
            {
                "images": arguments.images,
                "stack": "PostgreSQL + SeaweedFS",
                "seeding_seconds": round(seeding, 1),
                "archive_mb": _mb(archive_bytes),
                "members": members,
                "export": {
                    "seconds_p50": round(seconds, 2),
                    "mb_per_s": round(archive_bytes / seconds / 1e6, 1),
                    "images_per_s": round(arguments.images / seconds),
                    "runs_seconds": [round(r["seconds"], 2) for r in runs],
                    "pieces": runs[0]["pieces"],
                    "largest_piece_kb": round(runs[0]["max"] / 1024, 1),
                    "chunk_kb": CHUNK // 1024,
                },
                "memory": {
                    "tracemalloc_peak_mb": _mb(traced_peak),
                    "rss_growth_mb_max": _mb(max(r["rss_growth"] for r in runs)),
                    "archive_to_peak_ratio": round(archive_bytes / traced_peak),
                    "traced_run_seconds": round(traced["seconds"], 2),
                },
                "store_floor": {
                    "seconds": round(floor["seconds"], 2),
                    "mb_per_s": round(floor["bytes"] / floor["seconds"] / 1e6, 1),
                    "what": "every file read once, one after another",
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
