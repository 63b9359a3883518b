"""The router builds its page tables once per process, not on every run."""

from __future__ import annotations

from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Title

from core.services import Services
from tests.ui.conftest import APP, register
from ui import cookie_bridge, router

PASSWORD = "correct horse 42"


def test_page_tables_are_built_once_per_login_state(
    app_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(router, "_tables", {})
    built: Counter[router._Audience] = Counter()
    build = router._build

    def counting_build(audience: router._Audience) -> dict[str, object]:
        built[audience] += 1
        return build(audience)  # type: ignore[return-value]

    monkeypatch.setattr(router, "_build", counting_build)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.run()
    register(at, "ada@example.com", PASSWORD)  # the first account: an admin
    at.run()
    at.switch_page("../pages/gallery.py").run()

    assert not at.exception
    assert at.title[-1].value == "🖼️ Gallery"
    # Home's links come from the user table; each table was built exactly once.
    assert built == Counter(list(router._Audience))


def test_a_page_keeps_its_elements_in_place_when_the_cookie_script_expires(
    app_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The script that sets the cookie after a login sits above every page, as it does above
    # the login form: whether it is there or not, the page's elements must not move.
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    register(at, "ada@example.com", PASSWORD)
    assert [html for html in at.html if "/api/session" in html.value]
    place = _place_of_title(at)

    monkeypatch.setattr(cookie_bridge, "_KEEP_SECONDS", 0.0)  # as if it had been kept 15 s
    at.run()

    assert not [html for html in at.html if "/api/session" in html.value]
    assert _place_of_title(at) == place


def _place_of_title(at: AppTest) -> int:
    return next(place for place, node in at.main.children.items() if isinstance(node, Title))
