"""The seeds' limits and the embedded backend, on a second small server (SQLite + the local
folder store) with seed 002's anonymous limit (2 a minute per IP) and a low admin limit; and
anonymous generation turned off, the default, on the API in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.deps import SIGN_IN_FIRST, get_services
from core.config import Settings
from core.services import start_services
from tests.api.conftest import Caller, sign_up
from tests.support.app_server import AppServer, start_app

ADMIN_LIMIT = 3


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    # No DATABASE_URL and no S3 endpoint: the embedded SQLite file and local folder store.
    server = start_app(
        tmp_path_factory.mktemp("api-local"),
        {
            "BCRYPT_ROUNDS": "4",
            "LOGIN_IP_LIMIT_PER_MINUTE": "10000",
            "REGISTER_LIMIT_PER_MINUTE": "10000",
            "ANONYMOUS_GENERATION": "true",
            "LIMIT_ANONYMOUS_GENERATIONS_PER_MINUTE": "2",
            "LIMIT_ADMIN_REQUESTS_PER_MINUTE": str(ADMIN_LIMIT),
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_admin(local_server: AppServer) -> Caller:
    """The first account on this server, so every later one is a plain user."""
    with httpx.Client(base_url=local_server.url, timeout=60) as client:
        return sign_up(client, "root")


@pytest.fixture(scope="module")
def local_http(local_server: AppServer, local_admin: Caller) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_server.url, timeout=60) as client:
        yield client


def test_local_store_downloads_are_the_bytes(local_http: httpx.Client) -> None:
    owner = sign_up(local_http, "local")
    made = local_http.post(
        "/image/generate", json={"prompt": "a red kite", "size": "128x128"}, headers=owner.headers
    )
    assert made.status_code == 200, made.text
    image = made.json()
    # No signing on a folder: the link is this API's own download route.
    assert image["download_url"].endswith(f"/image/{image['id']}/download")
    download = local_http.get(image["download_url"], headers=owner.headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert download.content.startswith(b"\x89PNG")

    audio = local_http.post(
        "/tts/generate", json={"prompt": "Hello", "voice": "en"}, headers=owner.headers
    ).json()
    spoken = local_http.get(f"/tts/{audio['id']}/download", headers=owner.headers)
    assert spoken.headers["content-type"] == "audio/mpeg" and len(spoken.content) > 1000
    assert "attachment" in spoken.headers["content-disposition"]


def test_anonymous_generations_are_limited_per_ip(local_http: httpx.Client) -> None:
    body = {"prompt": "simple landscape", "size": "64x64"}
    answers = [local_http.post("/image/generate", json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert "Sign in for more" in answers[2].json()["detail"]
    # A signed-in caller from the same IP is not held back by the anonymous limit.
    someone = sign_up(local_http, "signed")
    assert local_http.post("/image/generate", json=body, headers=someone.headers).is_success


def test_admin_endpoints_are_limited_per_admin(
    local_http: httpx.Client, local_admin: Caller
) -> None:
    admin = local_admin
    answers = [local_http.get("/admin/images", headers=admin.headers) for _ in range(ADMIN_LIMIT)]
    assert {a.status_code for a in answers} == {200}
    refused = local_http.get("/admin/audios", headers=admin.headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert f"{ADMIN_LIMIT} admin requests a minute" in refused.json()["detail"]
    # A plain user is refused as such, not counted.
    plain = sign_up(local_http, "plain")
    assert local_http.get("/admin/images", headers=plain.headers).status_code == 403


def test_without_anonymous_generation_no_credential_is_401(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, bcrypt_rounds=4)  # type: ignore[call-arg]
    assert not settings.anonymous_generation
    app = start_services(settings)
    api = create_api(settings)
    api.dependency_overrides[get_services] = lambda: app
    try:
        with TestClient(api) as client:
            for method, path, body in (
                ("POST", "/image/generate", {"prompt": "x"}),
                ("POST", "/tts/generate", {"prompt": "x"}),
                ("GET", "/image/00000000-0000-4000-8000-000000000001", None),
                ("GET", "/tts/00000000-0000-4000-8000-000000000001/download", None),
            ):
                answer = client.request(method, path, json=body)
                assert answer.status_code == 401, path
                assert answer.json()["detail"] == SIGN_IN_FIRST
    finally:
        app.close()
