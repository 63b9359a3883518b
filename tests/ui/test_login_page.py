"""The login page and the logged-in shell, through Streamlit's AppTest."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

import core.runtime
from core.config import Settings
from core.services import Services, start_services
from tests.support.clock import FakeClock
from tests.ui.conftest import APP, log_in, open_tab, register
from ui import cookie_bridge

PASSWORD = "correct horse 42"


@pytest.fixture
def app_on_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> Iterator[AppTest]:
    """The app on services whose clock the test moves (rate limits, tokens, sessions)."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    services = start_services(Settings(), now=clock)
    monkeypatch.setattr(core.runtime, "_services", services)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    yield at
    services.close()


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(c.value) for c in at.sidebar.caption)


def test_logged_out_visitors_see_only_the_login_page(app: AppTest) -> None:
    assert [tab.label for tab in app.tabs] == ["Log in", "Create account"]
    assert not [b for b in app.button if b.label == "Log out"]


def test_only_the_open_tab_is_drawn(app: AppTest) -> None:
    def forms() -> set[str]:
        return {field.form_id for field in app.text_input}

    assert forms() == {"login"}
    open_tab(app, "Create account")
    assert forms() == {"register"}
    open_tab(app, "Log in")
    assert forms() == {"login"}


def test_after_logging_out_the_form_opens_on_log_in(app: AppTest) -> None:
    register(app, "ada@example.com", PASSWORD)
    next(b for b in app.button if b.label == "Log out").click()
    app.run()

    assert {field.form_id for field in app.text_input} == {"login"}


def test_register_logs_in_and_shows_who_is_signed_in(app: AppTest) -> None:
    register(app, "ada@example.com", PASSWORD)

    assert not app.exception
    assert "ada@example.com" in _sidebar_text(app)
    assert "admin" in _sidebar_text(app)  # the first account
    assert [b for b in app.button if b.label == "Log out"]


def test_mismatched_passwords_are_reported(app: AppTest) -> None:
    register(app, "ada@example.com", PASSWORD, confirm="correct horse 43")
    assert [e.value for e in app.error] == ["The two passwords differ."]


def test_weak_password_is_explained(app: AppTest) -> None:
    register(app, "ada@example.com", "short")
    assert "at least 10 characters" in app.error[0].value


def test_wrong_password_message(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    log_in(app, "ada@example.com", "wrong horse 42")
    assert [e.value for e in app.error] == ["Wrong email or password."]


def test_an_empty_login_form_asks_for_both_fields_and_counts_no_attempt(
    app: AppTest, app_services: Services
) -> None:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    for _ in range(6):  # more than the 5 attempts a minute an account is allowed
        at = log_in(app, "ada@example.com", "")
        assert [w.value for w in at.warning] == ["Enter your email and your password."]
        assert not at.error

    at = log_in(app, "ada@example.com", PASSWORD)

    assert [b for b in at.button if b.label == "Log out"]


def test_the_lockout_countdown_only_goes_down(app_on_clock: AppTest, clock: FakeClock) -> None:
    at = app_on_clock
    core.runtime.services().auth.register("ada@example.com", PASSWORD, ip=None)
    # Someone tries from this address 58 s before ada's first wrong password, so the address's
    # minute ends 58 s before ada's; ada's fifth try comes after it and opens the next one.
    log_in(at, "bob@example.com", "wrong horse 42")
    clock.advance(seconds=58)
    for _ in range(4):
        log_in(at, "ada@example.com", "wrong horse 42")
    clock.advance(seconds=3)
    log_in(at, "ada@example.com", "wrong horse 42")
    assert [e.value for e in at.error] == ["Wrong email or password."]

    unlock_times = set()
    for _ in range(6):
        clock.advance(seconds=1)
        log_in(at, "ada@example.com", "wrong horse 42")
        unlock_times.add(clock.current + timedelta(seconds=_seconds_to_wait(at)))

    # Refused tries did not fill this address's new minute and lock it later: every message
    # counted down to the same moment, and at that moment ada can log in.
    assert len(unlock_times) == 1
    clock.current = unlock_times.pop()
    log_in(at, "ada@example.com", PASSWORD)
    assert [b for b in at.button if b.label == "Log out"]


def _seconds_to_wait(at: AppTest) -> int:
    (message,) = [e.value for e in at.error]
    found = re.fullmatch(r"Too many login attempts\. Try again in (\d+) s\.", message)
    assert found, message
    return int(found[1])


def test_the_login_tabs_keep_their_place_when_the_cookie_script_expires(
    app: AppTest, app_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The browser tells elements apart by their place: tabs in a new place are new tabs, so
    # it would show "Log in" again, empty, with the error below hidden in the other tab.
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    log_in(app, "ada@example.com", PASSWORD)
    next(b for b in app.button if b.label == "Log out").click()
    app.run()
    assert _cookie_scripts(app)  # the one that clears the cookie, kept for a while
    place = _place_of_tabs(app)

    monkeypatch.setattr(cookie_bridge, "_KEEP_SECONDS", 0.0)  # as if it had been kept 15 s
    register(app, "bob@example.com", "short")

    assert not _cookie_scripts(app)
    assert _place_of_tabs(app) == place
    assert "at least 10 characters" in app.error[0].value


def _cookie_scripts(at: AppTest) -> list[str]:
    return [html.value for html in at.html if "/api/" in html.value]


def _place_of_tabs(at: AppTest) -> int:
    return next(
        place for place, node in at.main.children.items() if isinstance(node, Block) and node.tabs
    )


def test_log_out_returns_to_the_login_page(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    log_in(app, "ada@example.com", PASSWORD)
    next(b for b in app.button if b.label == "Log out").click()
    app.run()
    assert [tab.label for tab in app.tabs] == ["Log in", "Create account"]


def test_a_user_cannot_open_the_admin_page(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("root@example.com", PASSWORD, ip=None)
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    log_in(app, "ada@example.com", PASSWORD)

    app.switch_page("../pages/admin.py").run()

    assert [e.value for e in app.error] == ["This page is for administrators only."]


def test_an_admin_can_open_the_admin_page(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("root@example.com", PASSWORD, ip=None)
    log_in(app, "root@example.com", PASSWORD)

    app.switch_page("../pages/admin.py").run()

    assert not app.error
    assert app.title[-1].value == "🛡️ Admin"
