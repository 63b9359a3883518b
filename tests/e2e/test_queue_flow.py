"""The queue in a browser: a batch of seed variations as live job cards that survive a reload,
then the same jobs on the Queue page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email


def test_a_batch_shows_live_cards_that_survive_a_reload(page: Page, app_server: AppServer) -> None:
    studio = Studio(page, app_server.url)
    studio.open("/image")
    studio.register(new_email("batch"))
    studio.heading("🎨 Image Studio")

    page.get_by_role("textbox", name="Prompt").fill("Three kites over a beach")
    page.get_by_role("textbox", name="Seed").fill("100")
    page.get_by_role("spinbutton", name="Images").fill("3")
    page.get_by_role("spinbutton", name="Images").press("Enter")
    page.get_by_text("Seed variations").click()
    page.get_by_role("button", name="Generate").click()
    cards = page.locator("[class*='st-key-job-']")
    expect(cards).to_have_count(3, timeout=30_000)

    page.reload()
    studio.heading("🎨 Image Studio")
    expect(cards).to_have_count(3, timeout=30_000)
    for seed in (100, 101, 102):
        expect(page.get_by_text(f"seed {seed}")).to_be_visible(timeout=60_000)
    expect(cards.get_by_text("✅ Done")).to_have_count(3)

    studio.open("/queue")
    studio.heading("⏳ Queue")
    expect(page.locator("[class*='st-key-job-']").get_by_text("✅ Done")).to_have_count(3)
    expect(page.get_by_text("Three kites over a beach")).to_have_count(3)
