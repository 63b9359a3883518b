from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.runtime
from core.services import Services
from ui.session import LOGIN_TAB_KEY

APP = str(Path(__file__).resolve().parents[2] / "ui" / "main.py")


@pytest.fixture
def app_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The process-wide services the pages use, on a fresh embedded backend."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    monkeypatch.setattr(core.runtime, "_services", None)
    services = core.runtime.services()
    yield services
    services.close()


@pytest.fixture
def app(app_services: Services) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open one of the login page's tabs, as a click would: only the open one is drawn."""
    at.session_state[LOGIN_TAB_KEY] = label
    return at.run()


def log_in(at: AppTest, email: str, password: str) -> AppTest:
    form = [t for t in at.text_input if t.form_id == "login"]
    form[0].input(email)
    form[1].input(password)
    next(b for b in at.button if b.label == "Log in").click()
    return at.run()


def register(at: AppTest, email: str, password: str, confirm: str | None = None) -> AppTest:
    open_tab(at, "Create account")
    at.text_input(key="register_email").input(email)
    at.text_input(key="register_password").input(password)
    at.text_input(key="register_confirm").input(confirm if confirm is not None else password)
    next(b for b in at.button if b.label == "Create account").click()
    return at.run()
