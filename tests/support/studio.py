"""What a user does in the browser, in their words: log in, open a page, log out."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

PASSWORD = "correct horse 42"


def new_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


class Studio:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)
        expect(self.page.get_by_test_id("stApp")).to_be_visible()

    def register(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_role("tab", name="Create account").click()
        form = self.page.get_by_role("tabpanel", name="Create account")
        form.get_by_role("textbox", name="Email").fill(email)
        form.get_by_role("textbox", name="Password", exact=True).fill(password)
        form.get_by_role("textbox", name="Repeat password").fill(password)
        form.get_by_role("button", name="Create account").click()

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_role("tab", name="Log in").click()
        form = self.page.get_by_role("tabpanel", name="Log in")
        form.get_by_role("textbox", name="Email").fill(email)
        form.get_by_role("textbox", name="Password").fill(password)
        form.get_by_role("button", name="Log in").click()

    def log_out(self) -> None:
        self.page.get_by_role("button", name="Log out").click()
        self.expect_login_page()

    def expect_login_page(self) -> None:
        expect(self.page.get_by_role("tab", name="Create account")).to_be_visible()

    def expect_signed_in_as(self, email: str) -> None:
        expect(self.page.get_by_test_id("stSidebar")).to_contain_text(email)

    def heading(self, name: str) -> None:
        expect(self.page.get_by_role("heading", name=name)).to_be_visible()

    def nav_labels(self) -> list[str]:
        nav = self.page.get_by_test_id("stSidebarNav")
        expect(nav).to_be_visible()
        # Each link reads "<icon>\n\n<title>".
        return [text.split("\n")[-1].strip() for text in nav.get_by_role("link").all_inner_texts()]

    def cookie(self, name: str) -> dict[str, object] | None:
        return next((c for c in self.page.context.cookies() if c["name"] == name), None)  # type: ignore[misc]
