"""After the login form, in a real browser: the script that sets the cookie posts each code once."""

from __future__ import annotations

from playwright.sync_api import Page, Request, Response

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email


def _is_session_post(message: Request | Response) -> bool:
    return message.url.endswith("/api/session")


def test_opening_pages_after_a_login_posts_no_used_code(page: Page, app_server: AppServer) -> None:
    session_posts: list[Request] = []

    def note(request: Request) -> None:
        if _is_session_post(request):
            session_posts.append(request)

    page.on("request", note)
    studio = Studio(page, app_server.url)
    studio.open()
    with page.expect_response(_is_session_post) as after_login:
        studio.register(new_email())

    # The script is kept on the page for a while, and each page opened meanwhile mounts it
    # again: it used to post the used code each time, answered 401.
    page.get_by_role("link", name="Gallery").click()
    studio.heading("🖼️ Gallery")
    page.get_by_role("link", name="Chat").click()
    studio.heading("💬 Chat")
    with page.expect_response(_is_session_post) as after_reload:
        page.reload()  # a new code, for the next rotation of the cookie

    assert len(session_posts) == 2
    assert after_login.value.status == after_reload.value.status == 204
