"""A NUL character (U+0000) anywhere a client can put text is a plain 400, never a 500 from
the database deep inside a write (found by schemathesis: PostgreSQL text cannot hold it)."""

from __future__ import annotations

import httpx
import pytest

from api.input_guard import NUL_REFUSED
from tests.api.conftest import PASSWORD, Caller


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/login", {"email": "\u0000ada@example.com", "password": PASSWORD}),
        ("/auth/register", {"email": "ada\u0000@example.com", "password": PASSWORD}),
        ("/users/me/api-keys", {"name": "bot\u0000"}),
        ("/image/generate", {"prompt": "a lighthouse\u0000", "size": "256x256", "seed": 1}),
    ],
)
def test_nul_in_a_body_is_refused_in_words(
    http: httpx.Client, caller: Caller, path: str, body: dict[str, object]
) -> None:
    answer = http.post(path, json=body, headers=caller.headers)

    assert answer.status_code == 400, answer.text
    assert answer.json() == {"detail": NUL_REFUSED}


def test_nul_is_refused_in_openai_shape_under_v1(http: httpx.Client, caller: Caller) -> None:
    body = {"model": "image/sketch/sketch-v2", "prompt": "\u0000", "response_format": "b64_json"}
    answer = http.post("/v1/images/generations", json=body, headers=caller.headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"] == NUL_REFUSED


def test_nul_in_a_query_is_refused_and_an_escaped_backslash_is_not_a_nul(
    http: httpx.Client, caller: Caller
) -> None:
    assert http.get("/admin/images?page=1%00", headers=caller.headers).status_code == 400
    # The text `\u0000` (a backslash, then "u0000") is ordinary text.
    named = http.post(
        "/users/me/api-keys",
        content=b'{"name": "literally \\\\u0000"}',
        headers=caller.headers | {"Content-Type": "application/json"},
    )
    assert named.status_code == 201, named.text
    assert named.json()["name"] == "literally \\u0000"
