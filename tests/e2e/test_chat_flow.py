"""Chat in a browser: the offline model streams an answer; the conversation survives a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.studio import Studio, new_email


def _send(page: Page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def test_ask_the_offline_model_reload_reopen_and_continue(
    page: Page, app_server: AppServer
) -> None:
    studio = Studio(page, app_server.url)
    studio.open("/chat")
    studio.register(new_email("talker"))
    studio.heading("💬 Chat")

    _send(page, "Name one colour of the sky.")
    # While streaming, the Stop control is offered; when done, the stats say which model answered.
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.get_by_text("first token")).to_contain_text("SmolLM2", timeout=90_000)
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(2)
    first_answer = messages.nth(1).inner_text()
    assert first_answer.strip()

    page.reload()
    studio.heading("💬 Chat")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    page.get_by_test_id("stSidebar").get_by_role(
        "button", name="Name one colour of the sky."
    ).click()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(2)
    expect(page.get_by_test_id("stChatMessage").nth(0)).to_contain_text(
        "Name one colour of the sky."
    )

    _send(page, "And another one?")
    expect(page.get_by_text("first token")).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    expect(page.get_by_test_id("stChatMessage").nth(2)).to_contain_text("And another one?")


def test_stop_keeps_the_part_of_the_answer_that_arrived(page: Page, app_server: AppServer) -> None:
    studio = Studio(page, app_server.url)
    studio.open("/chat")
    studio.register(new_email("stopper"))
    studio.heading("💬 Chat")

    _send(page, "Write a long story about a dragon who learns to cook, at least 300 words.")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer).not_to_be_empty(timeout=60_000)
    page.get_by_role("button", name="Stop").click()

    expect(page.get_by_text("You stopped this answer.")).to_be_visible()
    kept = page.get_by_test_id("stChatMessage").nth(1).inner_text()
    assert len(kept.split()) > 3
    page.reload()
    page.get_by_test_id("stSidebar").get_by_role("button", name="Write a long story").click()
    expect(page.get_by_text("You stopped this answer.")).to_be_visible()
