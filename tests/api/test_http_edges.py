"""What every API request meets before its route: CORS for browsers, and the body size limit."""

from __future__ import annotations

import httpx

from tests.api.conftest import ALLOWED_ORIGIN, Caller

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}


def test_only_the_configured_origin_may_call_from_a_browser(http: httpx.Client) -> None:
    allowed = http.options("/image/generate", headers={"Origin": ALLOWED_ORIGIN} | PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN

    foreign = http.options("/image/generate", headers={"Origin": "http://evil.example"} | PREFLIGHT)
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers


def test_a_body_over_the_limit_is_refused_whole(http: httpx.Client, caller: Caller) -> None:
    too_big = b'{"prompt": "' + b"x" * (16 * 1024 * 1024) + b'"}'
    refused = http.post(
        "/image/generate",
        content=too_big,
        headers=caller.headers | {"Content-Type": "application/json"},
    )
    # Refused from its Content-Length, before any byte of it is read (a plain-text answer).
    assert refused.status_code == 413
    assert "Too Large" in refused.text
    # The server is still there for the next request.
    assert http.get("/users/me", headers=caller.headers).status_code == 200
