"""Speech Studio in a browser: two offline languages (Spanish with the instant robotic voice),
a playable result, both in the gallery."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email


def _speak(studio: Studio, language: str, text: str, *, instant: bool = False) -> None:
    page = studio.page
    page.get_by_test_id("stSelectbox").filter(has_text="Language").click()
    # The list is long and virtualised: type to filter it, as a user would.
    page.keyboard.type(language)
    page.get_by_role("option", name=language).click()
    if instant:
        page.get_by_text("Instant robotic voice (espeak-ng)").click()
        expect(page.get_by_text("Read by espeak-ng")).to_be_visible()
    page.get_by_role("textbox", name="Text").fill(text)
    page.get_by_role("button", name="Speak").click()
    # While the page reruns, the previous result can linger as a stale copy: wait for the new one.
    spoken_by = page.get_by_text("Spoken by").filter(has_text=text_hint(language))
    expect(spoken_by).to_be_visible(timeout=60_000)


def text_hint(language: str) -> str:
    return "piper" if language.startswith("English") else "espeak-ng"


def test_speak_english_and_spanish_offline_then_replay_from_the_gallery(
    page: Page, app_server: AppServer
) -> None:
    studio = Studio(page, app_server.url)
    studio.open("/speech")
    studio.register(new_email("voice"))
    studio.heading("🔊 Speech Studio")

    _speak(studio, "English (en)", "Hello from the studio.")
    audio = page.locator("audio").first
    expect(audio).to_be_attached()
    duration = audio.evaluate(
        """el => new Promise(resolve => {
            if (el.readyState >= 1) return resolve(el.duration);
            el.addEventListener('loadedmetadata', () => resolve(el.duration), {once: true});
            el.load();
        })"""
    )
    assert 0.5 < duration < 10

    _speak(studio, "Spanish (es)", "Hola desde el estudio.", instant=True)

    studio.open("/gallery")
    # Each card's button is named by its text (what a screen reader lists).
    for text in ("Hola desde el estudio.", "Hello from the studio."):
        expect(page.get_by_role("button", name=f"Open “{text}”")).to_be_visible()
    expect(page.locator("audio")).to_have_count(2)
