"""Image Studio in a browser: generate offline, find it in the gallery, replay the same seed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email

PROMPT = "A lighthouse on a cliff at dusk, waves below"


def _download_newest(page: Page, cards: int) -> tuple[str, bytes]:
    """(file name, bytes) of the newest job's image, once `cards` jobs are shown and it is done."""
    jobs = page.locator("[class*='st-key-job-']")
    expect(jobs).to_have_count(cards, timeout=60_000)
    newest = jobs.first
    expect(newest.get_by_text("✅ Done")).to_be_visible(timeout=60_000)
    with page.expect_download() as download:
        newest.get_by_role("button", name="Download").click()
    return download.value.suggested_filename, download.value.path().read_bytes()


def test_generate_find_in_gallery_and_replay_the_same_image(
    page: Page, app_server: AppServer
) -> None:
    studio = Studio(page, app_server.url)
    studio.open("/image")
    studio.register(new_email("painter"))
    studio.heading("🎨 Image Studio")

    page.get_by_role("textbox", name="Prompt").fill(PROMPT)
    page.get_by_role("textbox", name="Seed").fill("4242")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("seed 4242")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stImage")).to_be_visible()
    first_name, first = _download_newest(page, cards=1)
    assert first.startswith(b"\x89PNG")

    studio.open("/gallery")
    expect(page.get_by_text(PROMPT)).to_be_visible()
    page.locator("[class*='st-key-open-']").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(PROMPT)).to_be_visible()
    dialog.get_by_role("button", name="Use these settings").click()

    studio.heading("🎨 Image Studio")
    expect(page.get_by_role("textbox", name="Prompt")).to_have_value(PROMPT)
    expect(page.get_by_role("textbox", name="Seed")).to_have_value("4242")
    page.get_by_role("button", name="Generate").click()
    second_name, second = _download_newest(page, cards=2)

    assert second_name != first_name  # a new generation (the file is named by its id)...
    assert second == first  # ...with exactly the same picture
