"""Jobs over HTTP: `?async=true` answers 202 with the job, `GET /jobs/{id}` follows it, and a
caller sees and touches only their own."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.api.conftest import Caller, sign_up


def _follow(http: httpx.Client, caller: Caller, url: str) -> dict[str, Any]:
    """The job at `url` once it has ended."""
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = http.get(url, headers=caller.headers).json()
        if job["status"] not in ("pending", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_an_async_image_is_a_job_to_follow(http: httpx.Client, caller: Caller) -> None:
    answer = http.post(
        "/image/generate?async=true",
        json={"prompt": "a kite in the wind", "size": "128x128", "seed": 5},
        headers=caller.headers,
    )

    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] in ("pending", "running") and job["kind"] == "image"
    assert answer.headers["location"] == job["url"] and job["url"].endswith(f"/jobs/{job['id']}")
    done = _follow(http, caller, job["url"])
    assert done["status"] == "completed" and done["progress"]["fraction"] == 1.0
    [image] = done["generations"]
    assert image["id"] == job["id"] and image["meta"]["seed"] == 5
    assert http.get(image["download_url"], headers=caller.headers).status_code == 200


def test_an_async_speech_is_a_job_too(http: httpx.Client, caller: Caller) -> None:
    answer = http.post(
        "/tts/generate?async=true",
        json={"prompt": "Hola, esto es una prueba", "voice": "es"},
        headers=caller.headers,
    )

    assert answer.status_code == 202, answer.text
    done = _follow(http, caller, answer.json()["url"])
    assert done["status"] == "completed"
    assert done["generations"][0]["voice"] == "es"


def test_the_synchronous_route_waits_for_its_job(http: httpx.Client, caller: Caller) -> None:
    made = http.post(
        "/image/generate", json={"prompt": "a red door", "size": "64x64"}, headers=caller.headers
    )

    assert made.status_code == 200, made.text
    job = http.get(f"/jobs/{made.json()['id']}", headers=caller.headers).json()
    assert job["status"] == "completed" and job["attempts"] == 1


def test_jobs_are_listed_by_state_and_only_the_callers(http: httpx.Client, caller: Caller) -> None:
    other = sign_up(http, "other")
    made = http.post(
        "/image/generate", json={"prompt": "mine", "size": "64x64"}, headers=caller.headers
    ).json()

    mine = http.get("/jobs?status=completed", headers=caller.headers).json()["data"]
    theirs = http.get("/jobs", headers=other.headers).json()["data"]

    assert [job["id"] for job in mine] == [made["id"]]
    assert theirs == []
    for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry")):
        answer = http.request(method, f"/jobs/{made['id']}{path}", headers=other.headers)
        assert answer.status_code == 404, (method, path, answer.text)
    assert http.get("/jobs?all=true", headers=other.headers).status_code == 403


def test_an_admin_lists_everyones_jobs(http: httpx.Client, caller: Caller, admin: Caller) -> None:
    made = http.post(
        "/image/generate", json={"prompt": "for the admin", "size": "64x64"}, headers=caller.headers
    ).json()

    everyone = http.get("/jobs?all=true&limit=200", headers=admin.headers).json()["data"]
    seen = http.get(f"/jobs/{made['id']}", headers=admin.headers)

    assert made["id"] in [job["id"] for job in everyone]
    assert seen.status_code == 200


def test_cancelling_a_finished_job_changes_nothing_and_it_cannot_be_retried(
    http: httpx.Client, caller: Caller
) -> None:
    made = http.post(
        "/image/generate", json={"prompt": "done", "size": "64x64"}, headers=caller.headers
    ).json()

    cancelled = http.post(f"/jobs/{made['id']}/cancel", headers=caller.headers)
    retried = http.post(f"/jobs/{made['id']}/retry", headers=caller.headers)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "completed"
    assert retried.status_code == 400
    assert "Only a failed or cancelled job" in retried.json()["detail"]


def test_an_unknown_job_is_404(http: httpx.Client, caller: Caller) -> None:
    answer = http.get(f"/jobs/{uuid.uuid4()}", headers=caller.headers)
    assert answer.status_code == 404
