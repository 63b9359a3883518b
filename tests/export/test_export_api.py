"""`GET /users/me/export` for scripts: the caller's own generations as a streamed ZIP, chosen
by query parameters; a bad parameter is a 400 that says what to change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.deps import SIGN_IN_FIRST, get_services
from core.auth.account import Account
from core.export import MAX_IDS
from core.services import Services
from tests.export.conftest import PASSWORD, folder, index_rows, make, unzip

EXPORT = "/users/me/export"


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    app = create_api(services.settings)
    app.dependency_overrides[get_services] = lambda: services
    with TestClient(app) as client:
        yield client


def _caller(services: Services, name: str) -> tuple[Account, dict[str, str]]:
    """A new account and the bearer header that signs it in."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    account = services.auth.register(email, PASSWORD, ip=None)
    token = services.auth.login(email, PASSWORD, ip=None).access_token
    return account, {"Authorization": f"Bearer {token}"}


def test_the_caller_gets_their_own_generations_and_no_one_else_s(
    services: Services, api: TestClient
) -> None:
    ada, _ = _caller(services, "ada")
    bob, bob_bearer = _caller(services, "bob")
    hers = make(services, ada.id, "ada's garden", data=b"garden")
    his = make(services, bob.id, "bob's boat")
    key = services.api_keys.create(ada, "script").secret

    # Bob names Ada's generation beside his own, comma-separated.
    answer = api.get(EXPORT, params={"ids": f"{hers.id},{his.id}"}, headers=bob_bearer)
    by_key = api.get(EXPORT, headers={"X-API-Key": key})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith('attachment; filename="atelier-export-')
    assert "content-length" not in answer.headers
    archive = unzip([answer.content])
    assert [r["id"] for r in index_rows(archive)] == [str(his.id)]
    assert not [n for n in archive.namelist() if n.startswith(folder(hers))]
    assert f"{hers.id}: not among your generations" in archive.read("missing.txt").decode()

    assert by_key.status_code == 200, by_key.text
    hers_only = unzip([by_key.content])
    assert [r["id"] for r in index_rows(hers_only)] == [str(hers.id)]
    assert hers_only.read(folder(hers) + "image/original.png") == b"garden"


@pytest.mark.parametrize("backend", ["embedded"])
@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"ids": "not-an-id"}, "ids: each one must be a generation's id"),
        ({"from": "2026-13-01"}, "from: give a day as YYYY-MM-DD"),
        ({"to": "yesterday"}, "to: give a day as YYYY-MM-DD"),
        ({"to": "9999-12-31"}, "to: choose a day before 9999-12-31"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "must not be after the last day"),
        ({"modality": "video"}, "modality: each one must be one of chat, image, speech"),
        ({"ids": [str(uuid.uuid4()) for _ in range(MAX_IDS + 1)]}, f"at most {MAX_IDS}"),
    ],
)
def test_a_bad_parameter_is_a_400_that_says_what_to_change(
    services: Services, api: TestClient, query: dict[str, str | list[str]], says: str
) -> None:
    _, bearer = _caller(services, "ada")

    answer = api.get(EXPORT, params=query, headers=bearer)

    assert answer.status_code == 400
    assert list(answer.json()) == ["detail"] and says in answer.json()["detail"]


@pytest.mark.parametrize("backend", ["embedded"])
def test_without_a_credential_nothing_is_exported(api: TestClient) -> None:
    answer = api.get(EXPORT)

    assert answer.status_code == 401
    assert answer.json() == {"detail": SIGN_IN_FIRST}


@pytest.mark.parametrize("backend", ["embedded"])
def test_the_schema_says_it_answers_a_zip(api: TestClient) -> None:
    operation = api.get("/api/openapi.json").json()["paths"][EXPORT]["get"]

    assert list(operation["responses"]["200"]["content"]) == ["application/zip"]
    assert {p["name"] for p in operation["parameters"]} == {"ids", "from", "to", "modality"}
