"""The API's docs page works in a browser that can reach nothing but the app itself."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer


def test_the_docs_page_lists_the_operations_with_no_internet(
    page: Page, app_server: AppServer
) -> None:
    page.goto(app_server.url + "/api/docs")

    # Swagger UI has read /api/openapi.json and drawn an operation from it.
    operation = page.locator(".opblock").filter(has_text="/image/generate").first
    expect(operation).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
