"""Accounts in a real browser: register, log out, log in, reload, deep link, errors, roles."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, select

from core.auth.rate_limit import limit_key
from storage.models import AuthSession, RateLimitCounter, User
from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email
from ui.routes import REFRESH_COOKIE


def test_register_log_out_log_in_and_stay_logged_in_across_reloads(
    page: Page, app_server: AppServer
) -> None:
    studio = Studio(page, app_server.url)
    email = new_email("ada")
    studio.open()
    studio.register(email)
    studio.expect_signed_in_as(email)
    assert {"Image Studio", "Speech Studio", "Chat", "Gallery", "Analytics"} <= set(
        studio.nav_labels()
    )

    studio.log_out()
    studio.log_in(email)
    studio.expect_signed_in_as(email)

    expect(page.get_by_test_id("stSidebar")).to_contain_text(email)
    page.reload()
    studio.expect_signed_in_as(email)
    page.reload()
    studio.expect_signed_in_as(email)


def test_refresh_cookie_is_httponly_strict_and_rotates(page: Page, app_server: AppServer) -> None:
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(new_email())
    cookie = _wait_for_cookie(studio)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "atelier_refresh" not in page.evaluate("document.cookie")

    page.reload()
    studio.heading("🎨 Atelier")
    rotated = _wait_for_cookie(studio, other_than=str(cookie["value"]))
    assert rotated["value"] != cookie["value"]


def test_deep_link_lands_on_the_page_after_login(page: Page, app_server: AppServer) -> None:
    email = new_email()
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    studio.log_out()

    studio.open("/gallery")
    studio.expect_login_page()
    studio.log_in(email)

    studio.heading("🖼️ Gallery")
    assert page.url.endswith("/gallery")


def test_wrong_password_is_reported_in_plain_words(page: Page, app_server: AppServer) -> None:
    email = new_email()
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    studio.log_out()

    studio.log_in(email, "not my password 1")

    expect(page.get_by_text("Wrong email or password.")).to_be_visible()


def test_too_many_attempts_get_a_try_again_message(page: Page, app_server: AppServer) -> None:
    email = new_email()
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    studio.log_out()

    # Signing up logged in once; five wrong passwords make six attempts. Each must be counted
    # before the next: the previous error stays on screen, so it cannot tell that a run ended.
    for attempt in range(2, 7):
        studio.log_in(email, "not my password 1")
        _wait_until(lambda n=attempt: _login_attempts(app_server, email) == n)
    studio.log_in(email)

    expect(page.get_by_text("Too many login attempts. Try again in")).to_be_visible()


def test_log_out_revokes_the_session_and_removes_the_cookie(
    page: Page, app_server: AppServer
) -> None:
    email = new_email()
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    _wait_for_cookie(studio)

    studio.log_out()

    _wait_until(lambda: studio.cookie(REFRESH_COOKIE) is None)
    engine = create_engine(app_server.env["DATABASE_URL"])
    with engine.connect() as connection:
        revoked = (
            connection.execute(
                select(AuthSession.revoked_at)
                .join(User, User.id == AuthSession.user_id)
                .where(User.email == email)
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert revoked and all(revoked)
    page.reload()
    studio.expect_login_page()


def test_a_user_sees_no_admin_page_and_a_deep_link_is_refused(
    browser: Browser, page: Page, app_server: AppServer
) -> None:
    # Make sure an admin exists, so the account below is an ordinary user.
    first = Studio(browser.new_page(), app_server.url)
    first.open()
    first.register(new_email("admin"))
    first.page.close()

    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(new_email("user"))
    studio.expect_signed_in_as("@example.com")
    assert "Admin" not in studio.nav_labels()

    studio.open("/admin")

    expect(page.get_by_text("This page is for administrators only.")).to_be_visible()


def _login_attempts(app_server: AppServer, email: str) -> int:
    engine = create_engine(app_server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            count = connection.execute(
                select(RateLimitCounter.count).where(
                    RateLimitCounter.key == limit_key("login", f"account:{email}")
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(count or 0)


def _wait_until(condition: object, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _wait_for_cookie(studio: Studio, other_than: str | None = None) -> dict[str, object]:
    found: dict[str, dict[str, object]] = {}

    def present() -> bool:
        cookie = studio.cookie(REFRESH_COOKIE)
        if cookie and cookie["value"] != other_than:
            found["cookie"] = cookie
            return True
        return False

    _wait_until(present)
    return found["cookie"]
