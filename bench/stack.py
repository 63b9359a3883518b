"""The production-shaped stack for benchmarks: PostgreSQL + a real SeaweedFS S3 server."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.config import Settings
from core.services import Services, start_services
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs

# What every benchmark's app shares: test mode, a fixed HS256 secret, cheap bcrypt.
_BENCH_SETTINGS: dict[str, Any] = {
    "_env_file": None,
    "app_env": "test",
    "jwt_algorithm": "HS256",
    "jwt_secret": "bench-" + "x" * 40,
    "bcrypt_rounds": 4,
}


@contextmanager
def _started(settings: Settings) -> Iterator[Services]:
    services = start_services(settings)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def production_stack(**overrides: Any) -> Iterator[Services]:
    with production_stack_and_seaweedfs(**overrides) as (services, _):
        yield services


@contextmanager
def production_stack_and_seaweedfs(**overrides: Any) -> Iterator[tuple[Services, SeaweedFS]]:
    with tempfile.TemporaryDirectory() as workdir, temporary_database() as database_url:
        # A benchmark's few buckets take volumes sized as on a server, not the tests' small ones.
        seaweed = start_seaweedfs(Path(workdir) / "seaweedfs", volume_size_limit_mb=256)
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        settings = Settings(
            **_BENCH_SETTINGS,
            data_dir=Path(workdir) / "data",
            database_url=database_url,
            s3_endpoint_url=seaweed.endpoint_url,
            s3_access_key=seaweed.access_key,
            s3_secret_key=seaweed.secret_key,
            s3_bucket_image=f"{prefix}-image",
            s3_bucket_speech=f"{prefix}-tts",
            s3_bucket_chat=f"{prefix}-chat",
            **overrides,
        )
        try:
            with _started(settings) as services:
                yield services, seaweed
        finally:
            seaweed.stop()


@contextmanager
def embedded_stack(**overrides: Any) -> Iterator[Services]:
    """The embedded defaults (SQLite and a local folder) in a temporary folder."""
    with tempfile.TemporaryDirectory() as workdir:
        settings = Settings(**_BENCH_SETTINGS, data_dir=Path(workdir), **overrides)
        with _started(settings) as services:
            yield services


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "max": round(ordered[-1], 2), "n": len(ordered)}
