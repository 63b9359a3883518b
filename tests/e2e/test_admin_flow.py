"""The Admin page in a real browser: filter, open, disable a user whose session is open."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, select, update

from storage.db import create_session_factory, transaction
from storage.models import Generation, User
from tests.e2e.conftest import _loopback_only
from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email
from ui.routes import REFRESH_COOKIE

PROMPT = "A copper kettle on a windowsill"


def _wait_for_cookie(studio: Studio, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while studio.cookie(REFRESH_COOKIE) is None:
        if time.monotonic() > deadline:
            raise AssertionError("the refresh cookie was never set")
        time.sleep(0.1)


def _promote_and_add_speech_row(app_server: AppServer, admin: str, owner: str) -> None:
    """The shared server's first account may be anyone's: make ours an admin in its database.

    A speech row for the owner (no files needed) gives the modality filter something to drop.
    """
    engine = create_engine(app_server.env["DATABASE_URL"])
    with transaction(create_session_factory(engine)) as db:
        db.execute(update(User).where(User.email == admin).values(role="admin"))
        owner_id = db.scalar(select(User.id).where(User.email == owner))
        db.add(
            Generation(
                id=uuid.uuid4(), user_id=owner_id, modality="speech", provider="offline",
                model="espeak-ng", status="completed", prompt="a spoken line", s3_bucket="unused",
                created_at=datetime.now(UTC), meta={},
            )
        )  # fmt: skip
    engine.dispose()


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()


def test_admin_filters_opens_and_disables_a_user_whose_session_ends(
    browser: Browser, page: Page, app_server: AppServer
) -> None:
    # The admin signs up first, so the user below is never the server's first account.
    admin_email = new_email("admin")
    admin = Studio(page, app_server.url)
    admin.open()
    admin.register(admin_email)
    admin.expect_signed_in_as(admin_email)
    _wait_for_cookie(admin)

    # The user: makes one image, has no Admin page, and a deep link is refused.
    user_email = new_email("maker")
    user_context = browser.new_context(viewport={"width": 1280, "height": 900})
    user_context.route("**/*", _loopback_only)
    user_context.set_default_timeout(20_000)
    user = Studio(user_context.new_page(), app_server.url)
    user.open("/image")
    user.register(user_email)
    user.heading("🎨 Image Studio")
    user.page.get_by_role("textbox", name="Prompt").fill(PROMPT)
    user.page.get_by_role("textbox", name="Seed").fill("4242")
    user.page.get_by_role("button", name="Generate").click()
    expect(user.page.get_by_text("seed 4242")).to_be_visible(timeout=60_000)
    assert "Admin" not in user.nav_labels()
    _wait_for_cookie(user)
    user.open("/admin")
    expect(user.page.get_by_text("This page is for administrators only.")).to_be_visible()
    # Analytics shows the user's own single generation, whatever everyone else made.
    user.open("/analytics")
    user.heading("📊 Analytics")
    generations = user.page.get_by_test_id("stMetric").filter(has_text="Generations")
    expect(generations.get_by_test_id("stMetricValue")).to_have_text("1")
    expect(user.page.get_by_text("Whose generations")).to_have_count(0)

    _promote_and_add_speech_row(app_server, admin_email, user_email)
    admin.open("/admin")
    admin.heading("🛡️ Admin")
    assert "Admin" in admin.nav_labels()

    _choose(page, "User", user_email)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("Page 1 · 2 shown")).to_be_visible()
    _choose(page, "Modality", "image")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("Page 1 · 1 shown")).to_be_visible()

    _choose(page, "Open a generation", PROMPT[:20])
    expect(page.get_by_role("heading", name="Generation", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stImage")).to_be_visible()
    expect(page.get_by_text(user_email).last).to_be_visible()
    expect(page.get_by_text("record.json")).to_be_visible()

    page.get_by_role("tab", name="Users").click()
    _choose(page, "Pick a user", user_email)
    page.get_by_role("button", name=f"Disable {user_email}").click()
    page.get_by_role("button", name="Yes, disable").click()
    expect(page.get_by_text(f"{user_email} is disabled.")).to_be_visible()

    # The user's open page: the next click ends the session.
    user.page.get_by_test_id("stSidebarNav").get_by_role("link", name="Gallery").click()
    user.expect_login_page()
    expect(user.page.get_by_text("Your session has ended.")).to_be_visible()
    user_context.close()
