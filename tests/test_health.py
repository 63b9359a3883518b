import httpx
import pytest

from core.health import check_health
from core.services import Services
from tests.support.app_server import AppServer


def test_health_is_ok_when_database_and_store_answer(services: Services) -> None:
    report = check_health(services)
    assert report.ok
    assert set(report.checks) == {"database", "object_store"}


def test_health_reports_a_broken_object_store(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.settings, "s3_bucket_image", "bucket-that-does-not-exist")
    report = check_health(services)
    assert not report.ok
    assert report.as_json()["status"] == "unavailable"
    assert report.checks["database"]["ok"] is True
    assert report.checks["object_store"]["ok"] is False


def test_healthz_route_answers_json(app_server: AppServer) -> None:
    response = httpx.get(f"{app_server.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_cookie_routes_refuse_cross_site_and_bad_codes(app_server: AppServer) -> None:
    cross_site = httpx.post(
        f"{app_server.url}/api/session",
        json={"code": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    bogus = httpx.post(f"{app_server.url}/api/session", json={"code": "not-a-real-code"})
    assert bogus.status_code == 401
    assert "set-cookie" not in bogus.headers
    malformed = httpx.post(f"{app_server.url}/api/session", content=b"{")
    assert malformed.status_code == 400


def test_the_session_route_refuses_foreign_origins_and_odd_bodies(app_server: AppServer) -> None:
    url = f"{app_server.url}/api/session"
    # No Sec-Fetch-Site (an older browser or a script), but a foreign page's Origin.
    foreign = httpx.post(url, json={"code": "x" * 43}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    ours = httpx.post(url, json={"code": "x" * 43}, headers={"Origin": app_server.url})
    assert ours.status_code == 401
    for body in (
        b'{"code": "\\ud800"}',
        b"[" * 500 + b"]" * 500,
        b'{"code": 5}',
        b'{"code": "' + b"a" * 500 + b'"}',
    ):
        odd = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
        assert odd.status_code == 400, body[:40]
    huge = httpx.post(url, content=b'{"code": "' + b"a" * 10_000_000 + b'"}')
    assert huge.status_code == 413
