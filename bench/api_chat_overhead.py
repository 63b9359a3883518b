"""What Atelier's `/v1/chat/completions` adds to the first token, over the provider alone.

The real app (`streamlit run app.py`) on PostgreSQL + SeaweedFS, its chat API provider pointed
at a local server speaking OpenAI's streaming format (tests/support/fake_openai.py). Each run
streams the same answer twice over HTTP with keep-alive connections: once straight from the
fake, once through Atelier's `/v1` (auth, limits, conversation row, pipeline, provider, SSE).
The time is from sending the request to the first `data:` event carrying text. Next to it,
the same server's `/_stcore/health` round trip on the same connection: the floor any response
of this server pays (about 2 ms; it was ~45 ms before TCP_NODELAY, see ui/server_socket.py).

    python -m bench.api_chat_overhead [--runs 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.stack import percentiles
from tests.support.app_server import start_app
from tests.support.fake_openai import MODEL, FakeOpenAI, Reply, answer_events
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import start_seaweedfs

PASSWORD = "correct horse 42"
BODY = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Name one colour of the sky."}],
    "stream": True,
}


def _first_text_ms(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    first: float | None = None
    with client.stream("POST", url, json=BODY, headers=headers) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and line.startswith("data: {") and _has_text(line):
                first = time.perf_counter()
    assert first is not None, "the stream carried no text"
    return (first - started) * 1000


def _round_trip_ms(client: httpx.Client) -> float:
    started = time.perf_counter()
    client.get("/_stcore/health").raise_for_status()
    return (time.perf_counter() - started) * 1000


def _has_text(line: str) -> bool:
    choices = json.loads(line.removeprefix("data: ")).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _api_key(client: httpx.Client) -> str:
    # The first account is an administrator: no per-minute generation limit in the way.
    account = {"email": "bench@example.com", "password": PASSWORD}
    client.post("/auth/register", json=account).raise_for_status()
    token = client.post("/auth/login", json=account).json()["accessToken"]
    created = client.post(
        "/users/me/api-keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"}
    )
    created.raise_for_status()
    key: str = created.json()["key"]
    return key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    runs = parser.parse_args().runs
    fake = FakeOpenAI().start()
    with tempfile.TemporaryDirectory() as workdir, temporary_database() as database_url:
        seaweed = start_seaweedfs(Path(workdir) / "seaweedfs")
        server = start_app(
            Path(workdir),
            {
                "DATABASE_URL": database_url,
                "S3_ENDPOINT_URL": seaweed.endpoint_url,
                "S3_PUBLIC_ENDPOINT_URL": seaweed.endpoint_url,
                "S3_ACCESS_KEY": seaweed.access_key,
                "S3_SECRET_KEY": seaweed.secret_key,
                "BCRYPT_ROUNDS": "4",
                "CHAT_API_BASE_URL": fake.base_url,
                "CHAT_API_KEY": "bench",
                "CHAT_API_MODELS": MODEL,
                "CHAT_DEFAULT_PROVIDER": "openai",
            },
        )
        try:
            with (
                httpx.Client(base_url=server.url, timeout=60) as atelier,
                httpx.Client(timeout=60) as direct,
            ):
                headers = {"Authorization": f"Bearer {_api_key(atelier)}"}
                bare, through, floor = [], [], []

                def reply() -> None:
                    fake.enqueue(Reply(events=answer_events(["Blue", " sky", "."]), delay=0.002))

                # One warm-up each: connections opened, first-request imports done.
                for _ in range(runs + 1):
                    reply()
                    bare.append(_first_text_ms(direct, f"{fake.base_url}/chat/completions", {}))
                    reply()
                    through.append(_first_text_ms(atelier, "/v1/chat/completions", headers))
                    floor.append(_round_trip_ms(atelier))
        finally:
            server.stop()
            seaweed.stop()
            fake.stop()
    bare_p, through_p = percentiles(bare[1:]), percentiles(through[1:])
    floor_p = percentiles(floor[1:])
    print(
        json.dumps(
            {
                "benchmark": "api_chat_first_token_overhead",
                "stack": "streamlit run app.py on PostgreSQL + SeaweedFS; fake OpenAI SSE server",
                "provider_alone_first_token_ms": bare_p,
                "through_v1_first_token_ms": through_p,
                "overhead_p50_ms": round(through_p["p50"] - bare_p["p50"], 2),
                "overhead_p95_ms": round(through_p["p95"] - bare_p["p95"], 2),
                # Streamlit's own health route on the same keep-alive connection: what any
                # response of this server costs before Atelier does anything.
                "server_round_trip_ms": floor_p,
                "overhead_beyond_server_round_trip_p50_ms": round(
                    through_p["p50"] - bare_p["p50"] - floor_p["p50"], 2
                ),
                "goal_overhead_ms": 10,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
