"""`/metrics` on the running server: Prometheus text that counts API requests by route
template and status, and refusals by limit."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Caller


def _samples(http: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _requests(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], route: str, status: str
) -> float:
    labels = frozenset({("route", route), ("status", status)})
    return samples.get(("atelier_api_requests_total", labels), 0.0)


def test_api_requests_are_counted_by_route_template_and_status(
    http: httpx.Client, caller: Caller
) -> None:
    before = _samples(http)

    assert http.get("/users/me", headers=caller.headers).status_code == 200
    assert http.get("/users/me").status_code == 401
    for _ in range(2):
        missing = http.delete(f"/users/me/api-keys/{uuid.uuid4()}", headers=caller.headers)
        assert missing.status_code == 404

    after = _samples(http)
    assert _requests(after, "/users/me", "200") == _requests(before, "/users/me", "200") + 1
    assert _requests(after, "/users/me", "401") == _requests(before, "/users/me", "401") + 1
    # Two different ids, one series: the template, not the path.
    template = "/users/me/api-keys/{key_id}"
    assert _requests(after, template, "404") == _requests(before, template, "404") + 2


def test_refusals_are_counted_by_limit_and_the_gauges_are_there(
    http: httpx.Client, caller: Caller
) -> None:
    refused = ("atelier_limit_refusals_total", frozenset({("limit", "login")}))
    before = _samples(http).get(refused, 0.0)

    wrong = {"email": caller.email, "password": "not the password 1"}
    # Signing up logged in once already: the limit of 5 a minute refuses the 5th try on.
    answers = [http.post("/auth/login", json=wrong).status_code for _ in range(6)]

    assert answers == [401] * 4 + [429] * 2
    after = _samples(http)
    assert after[refused] == before + 2
    assert ("atelier_ui_sessions_active", frozenset()) in after
