"""End-to-end fixtures: the app on PostgreSQL + SeaweedFS, driven in Debian's Chromium."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from tests.support.app_server import AppServer, start_app
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import SeaweedFS

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def app_server(
    tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS
) -> Iterator[AppServer]:
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    with temporary_database() as database_url:
        server = start_app(
            tmp_path_factory.mktemp("app"),
            {
                "DATABASE_URL": database_url,
                "S3_ENDPOINT_URL": seaweedfs.endpoint_url,
                "S3_PUBLIC_ENDPOINT_URL": seaweedfs.endpoint_url,
                "S3_ACCESS_KEY": seaweedfs.access_key,
                "S3_SECRET_KEY": seaweedfs.secret_key,
                "S3_BUCKET_IMAGE": f"{prefix}-image",
                "S3_BUCKET_SPEECH": f"{prefix}-tts",
                "S3_BUCKET_CHAT": f"{prefix}-chat",
                "BCRYPT_ROUNDS": "4",
                # Every browser here comes from 127.0.0.1: per-IP limits would couple the tests.
                "LOGIN_IP_LIMIT_PER_MINUTE": "10000",
                "REGISTER_LIMIT_PER_MINUTE": "10000",
            },
        )
        yield server
        server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _loopback_only(route: Route) -> None:
    host = route.request.url.split("/")[2].split(":")[0]
    if host in {"127.0.0.1", "localhost"}:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def context(
    browser: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", _loopback_only)
    context.set_default_timeout(20_000)
    yield context
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for number, page in enumerate(context.pages):
            page.screenshot(path=str(tmp_path / f"failure-{number}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
