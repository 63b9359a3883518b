"""Personal API keys in a real browser: made on Home, used by a script, revoked on Home."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email

KEY_NAME = "nightly script"


def _signed_in_sessions(app_server: AppServer) -> float:
    text = httpx.get(f"{app_server.url}/metrics", timeout=30).text
    family = next(
        f for f in text_string_to_metric_families(text) if f.name.endswith("sessions_active")
    )
    return family.samples[0].value


def test_a_key_made_in_the_browser_works_until_it_is_revoked_there(
    page: Page, app_server: AppServer
) -> None:
    email = new_email("scripter")
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    studio.expect_signed_in_as(email)
    assert _signed_in_sessions(app_server) >= 1

    page.get_by_role("textbox", name="Key name").fill(KEY_NAME)
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    secret = page.get_by_test_id("stCode").locator("code").inner_text().strip()
    assert secret.startswith("atelier_")

    with httpx.Client(base_url=app_server.url, timeout=30) as script:
        me = script.get("/users/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email
        assert script.get("/users/me", headers={"X-API-Key": secret}).status_code == 200

        page.get_by_role("button", name=f"Revoke {KEY_NAME}").click()
        expect(page.get_by_text(f"“{KEY_NAME}” is revoked: it no longer works.")).to_be_visible()
        expect(page.get_by_role("button", name=f"Revoke {KEY_NAME}")).to_have_count(0)

        refused = script.get("/users/me", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
        assert refused.json() == {"detail": "This API key is not valid, or it was revoked."}
