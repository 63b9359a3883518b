"""API fixtures: the real app (`streamlit run app.py`) on PostgreSQL + SeaweedFS, called over
HTTP with httpx, as a script, curl or the `openai` SDK would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.app_server import AppServer, stack_settings, start_app
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import SeaweedFS

PASSWORD = "correct horse 42"
# The one browser origin the test server lets call its API.
ALLOWED_ORIGIN = "http://studio.example"


def api_settings(database_url: str, seaweedfs: SeaweedFS, prefix: str) -> dict[str, str]:
    return stack_settings(database_url, seaweedfs, prefix) | {
        # An API client keeps its refresh token itself; no browser race to forgive.
        "REFRESH_TOKEN_REUSE_LEEWAY_SECONDS": "0",
        "ANONYMOUS_GENERATION": "true",
        "LIMIT_ANONYMOUS_GENERATIONS_PER_MINUTE": "1000",
        "CORS_ORIGINS": ALLOWED_ORIGIN,
    }


@pytest.fixture(scope="session")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS
) -> Iterator[AppServer]:
    prefix = f"api-{uuid.uuid4().hex[:8]}"
    with temporary_database() as database_url:
        server = start_app(
            tmp_path_factory.mktemp("api"), api_settings(database_url, seaweedfs, prefix)
        )
        yield server
        server.stop()


@pytest.fixture
def http(api_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.url, timeout=60) as client:
        yield client


@dataclass
class Caller:
    """A signed-in user of the API: their account and the headers that prove it."""

    id: uuid.UUID
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def sign_up(http: httpx.Client, name: str = "user") -> Caller:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    registered = http.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    body = login.json()
    return Caller(uuid.UUID(body["user"]["id"]), email, body["accessToken"], body["refreshToken"])


@pytest.fixture(scope="session")
def admin(api_server: AppServer) -> Caller:
    """The first account on the server, so every later one is a plain user."""
    with httpx.Client(base_url=api_server.url, timeout=60) as client:
        return sign_up(client, "root")


@pytest.fixture
def caller(http: httpx.Client, admin: Caller) -> Caller:
    """A plain user (the admin exists before them)."""
    return sign_up(http)
