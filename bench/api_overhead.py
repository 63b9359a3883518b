"""What the HTTP API adds to an image generation, over the same generation called in process.

The real app (`streamlit run app.py`) on PostgreSQL + SeaweedFS, with the offline sketch engine:
`POST /image/generate` over HTTP (keep-alive, Bearer token; routing, auth check in the database,
validation, the signed link, JSON) against `ImageStudio.generate` called in this process on the
same database and buckets. Runs alternate so both see the same machine. Goal: <= 1.15x at p50.

    python -m bench.api_overhead [--runs 100] [--size 512x512]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.stack import percentiles
from core.generation.image import ImageOrder
from core.generation.records import Source
from tests.support.app_server import start_app
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import start_seaweedfs
from tests.support.server_core import server_services

PROMPT = "A lighthouse on a cliff at dusk, seen from the sea"
PASSWORD = "correct horse 42"


def _server_env(database_url: str, endpoint: str, key: str, secret: str) -> dict[str, str]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    return {
        "DATABASE_URL": database_url,
        "S3_ENDPOINT_URL": endpoint,
        "S3_PUBLIC_ENDPOINT_URL": endpoint,
        "S3_ACCESS_KEY": key,
        "S3_SECRET_KEY": secret,
        "S3_BUCKET_IMAGE": f"{prefix}-image",
        "S3_BUCKET_SPEECH": f"{prefix}-tts",
        "S3_BUCKET_CHAT": f"{prefix}-chat",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--size", default="512x512")
    arguments = parser.parse_args()
    width, height = (int(side) for side in arguments.size.split("x"))

    with tempfile.TemporaryDirectory() as workdir, temporary_database() as database_url:
        seaweed = start_seaweedfs(Path(workdir) / "seaweedfs")
        env = _server_env(
            database_url, seaweed.endpoint_url, seaweed.access_key, seaweed.secret_key
        )
        (Path(workdir) / "app").mkdir()
        server = start_app(Path(workdir) / "app", env)
        try:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                # The first account is an administrator: no per-minute limit gets in the way.
                email = "bench@example.com"
                http.post("/auth/register", json={"email": email, "password": PASSWORD})
                login = http.post("/auth/login", json={"email": email, "password": PASSWORD})
                login.raise_for_status()
                headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
                user_id = uuid.UUID(login.json()["user"]["id"])
                with server_services(server) as services:

                    def over_http(seed: int) -> float:
                        body = {
                            "prompt": PROMPT,
                            "size": arguments.size,
                            "seed": seed,
                            "model": "sketch-v2",
                        }
                        started = time.perf_counter()
                        answer = http.post("/image/generate", json=body, headers=headers)
                        elapsed = (time.perf_counter() - started) * 1000
                        answer.raise_for_status()
                        assert answer.json()["id"]
                        return elapsed

                    def in_process(seed: int) -> float:
                        order = ImageOrder(
                            PROMPT, width, height, seed, "sketch-v2", None, "sketch",
                            source=Source.API,
                        )  # fmt: skip
                        started = time.perf_counter()
                        services.images.generate(user_id, order)
                        return (time.perf_counter() - started) * 1000

                    for seed in range(10):  # warm connections, pools and caches on both sides
                        over_http(seed)
                        in_process(seed)
                    http_ms, direct_ms, floor_ms = [], [], []
                    for seed in range(arguments.runs):
                        http_ms.append(over_http(seed))
                        direct_ms.append(in_process(seed))
                        # The API's floor: one authenticated round trip that generates nothing.
                        started = time.perf_counter()
                        http.get("/users/me", headers=headers).raise_for_status()
                        floor_ms.append((time.perf_counter() - started) * 1000)
        finally:
            server.stop()
            seaweed.stop()

    direct, api = percentiles(direct_ms), percentiles(http_ms)
    print(
        json.dumps(
            {
                "benchmark": "api_overhead",
                "backend": "PostgreSQL + SeaweedFS S3",
                "engine": "offline sketch (sketch-v2)",
                "size": arguments.size,
                "runs": arguments.runs,
                "in_process_ms": direct,
                "http_ms": api,
                "ratio_p50": round(api["p50"] / direct["p50"], 3),
                "ratio_p95": round(api["p95"] / direct["p95"], 3),
                "added_p50_ms": round(api["p50"] - direct["p50"], 2),
                "users_me_ms": percentiles(floor_ms),
                "goal_ratio_p50": 1.15,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
