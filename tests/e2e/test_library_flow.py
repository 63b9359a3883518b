"""A user's library in a real browser: exported from the Gallery as a ZIP, then the account
deleted from the Account page, after which neither the password nor the old link works."""

from __future__ import annotations

import csv
import io
import zipfile

import httpx
from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.studio import PASSWORD, Studio, new_email

PROMPT = "A paper boat on a quiet pond"


def _go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def test_a_user_exports_their_library_then_deletes_their_account(
    page: Page, app_server: AppServer
) -> None:
    # Someone signed up first: the first account is the admin, and the last admin cannot go.
    first = httpx.post(
        f"{app_server.url}/auth/register",
        json={"email": new_email("keeper"), "password": PASSWORD},
        timeout=30,
    )
    assert first.status_code in (201, 409), first.text
    email = new_email("leaver")
    studio = Studio(page, app_server.url)
    studio.open()
    studio.register(email)
    studio.expect_signed_in_as(email)

    # By the menu, as a user would (a reload this early could beat the session cookie).
    _go(page, "Image Studio")
    page.get_by_role("textbox", name="Prompt").fill(PROMPT)
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_test_id("stImage")).to_be_visible(timeout=60_000)

    _go(page, "Gallery")
    page.get_by_role("button", name="Export").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("1 generation")).to_be_visible()
    link = dialog.get_by_role("link", name="Download ZIP").get_attribute("href")
    assert link and "ticket=" in link
    url = app_server.url + link if link.startswith("/") else link
    download = page.request.get(url)
    assert download.status == 200, download.text()
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.body()))
    rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert [row["prompt"] for row in rows] == [PROMPT]
    assert any(name.endswith(".png") for name in archive.namelist())
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    _go(page, "Account")
    page.get_by_role("textbox", name="Your password").fill(PASSWORD)
    page.get_by_role("textbox", name="Type “delete my account” to confirm").fill(
        "delete my account"
    )
    page.get_by_role("button", name="Delete my account").click()
    studio.expect_login_page()
    expect(page.get_by_text("Your account and everything in it are deleted.")).to_be_visible()

    studio.log_in(email)
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    assert page.request.get(url).status == 403
