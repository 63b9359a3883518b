"""Seed 003's import API over HTTP, with a personal API key in `X-API-Key`, against the real
app on PostgreSQL + SeaweedFS downloading from local image hosts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Caller, sign_up
from tests.support.image_hosts import ImageHosts, Reply, image_bytes


@pytest.fixture
def hosts() -> Iterator[ImageHosts]:
    with ImageHosts(2) as running:
        running.script("/one.jpg", Reply(body=image_bytes("JPEG", 30, 20)))
        running.script("/two.png", Reply(body=image_bytes("PNG", 20, 30), content_type="image/png"))
        running.script("/slow.png", Reply(body=image_bytes("PNG", 5, 5), delay=2.0))
        yield running


@pytest.fixture
def key_headers(http: httpx.Client, caller: Caller) -> dict[str, str]:
    created = http.post("/users/me/api-keys", json={"name": "importer"}, headers=caller.headers)
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["key"]}


def _follow(http: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] not in ("pending", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_batch_of_documents_is_a_job_with_counts(
    http: httpx.Client, key_headers: dict[str, str], hosts: ImageHosts
) -> None:
    documents = [
        {"ref": "a", "photos": [hosts.url(0, "/one.jpg"), hosts.url(1, "/two.png")]},
        {"ref": "b", "photos": [hosts.url(1, "/gone.jpg")]},
    ]
    answer = http.post(
        "/api/v1/download/batch",
        json={
            "collection": "trips",
            "documents": documents,
            "id_field": "ref",
            "url_field": "photos",
        },
        headers=key_headers,
    )

    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["kind"] == "import" and job["status"] in ("pending", "running")
    done = _follow(http, key_headers, job["id"])
    assert done["status"] == "completed", done
    counts = done["counts"]
    assert (counts["total"], counts["done"], counts["failed"]) == (3, 2, 1)
    assert counts["reasons"] == {"http_error": 1}
    assert counts["domains"][hosts.authority(1)] == {"done": 1, "failed": 1, "in_flight": 0}
    assert len(done["image_ids"]) == 2
    listed = http.get("/api/v1/jobs?status=completed", headers=key_headers).json()["data"]
    assert job["id"] in [j["id"] for j in listed]

    # One document alone, later: its images are already in the library, so none is stored again.
    alone = http.post("/api/v1/download/document/trips/a", headers=key_headers)
    assert alone.status_code == 202, alone.text
    again = _follow(http, key_headers, alone.json()["id"])
    assert again["counts"]["duplicates"] == 2 and again["counts"]["downloaded"] == 0

    # The kept images are the caller's, downloadable like any image.
    image_id = done["image_ids"][0]
    assert http.get(f"/image/{image_id}/download", headers=key_headers).status_code == 200


def test_a_url_list_can_be_cancelled(
    http: httpx.Client, key_headers: dict[str, str], hosts: ImageHosts
) -> None:
    urls = [hosts.url(0, "/slow.png")]
    job = http.post("/api/v1/download/batch", json={"urls": urls}, headers=key_headers).json()

    cancelled = http.post(f"/api/v1/jobs/{job['id']}/cancel", headers=key_headers)

    assert cancelled.status_code == 200, cancelled.text
    assert _follow(http, key_headers, job["id"])["status"] == "cancelled"


def test_bad_bodies_get_plain_answers(http: httpx.Client, key_headers: dict[str, str]) -> None:
    both = http.post(
        "/api/v1/download/batch",
        json={"urls": ["http://x/a.png"], "documents": []},
        headers=key_headers,
    )
    assert both.status_code == 422
    assert "either 'documents' or 'urls'" in both.text
    empty = http.post("/api/v1/download/batch", json={"urls": []}, headers=key_headers)
    assert empty.status_code == 400 and "at least one image URL" in empty.json()["detail"]
    unknown = http.post("/api/v1/download/document/nope/1", headers=key_headers)
    assert unknown.status_code == 400 and "no collection named 'nope'" in unknown.json()["detail"]
    assert http.post("/api/v1/download/batch", json={"urls": ["http://x/a.png"]}).status_code == 401
    broken = http.post(
        "/api/v1/download/batch",
        content=b'{"documents": [{"_id": "1", "photo": "http://a/\\ud800.jpg"}]}',
        headers={**key_headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and "cannot be kept" in broken.json()["detail"]


def test_nobody_follows_or_cancels_someone_elses_import(
    http: httpx.Client, key_headers: dict[str, str], hosts: ImageHosts
) -> None:
    job = http.post(
        "/api/v1/download/batch", json={"urls": [hosts.url(0, "/one.jpg")]}, headers=key_headers
    ).json()
    stranger = sign_up(http, "stranger")

    assert http.get(f"/api/v1/jobs/{job['id']}", headers=stranger.headers).status_code == 404
    assert (
        http.post(f"/api/v1/jobs/{job['id']}/cancel", headers=stranger.headers).status_code == 404
    )
    assert http.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=key_headers).status_code == 404


def test_metrics_count_downloads_by_outcome(
    http: httpx.Client, key_headers: dict[str, str], hosts: ImageHosts
) -> None:
    job = http.post(
        "/api/v1/download/batch", json={"urls": [hosts.url(1, "/two.png")]}, headers=key_headers
    ).json()
    _follow(http, key_headers, job["id"])

    text = http.get("/metrics").text

    assert 'atelier_import_downloads_total{outcome="' in text
    assert "atelier_import_bytes_total" in text
