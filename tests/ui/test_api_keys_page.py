"""API keys on the pages through AppTest: a user's own on Home, everyone's on the Admin page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import AuthenticationFailed
from core.services import Services
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"


@pytest.fixture
def people(app_services: Services) -> None:
    app_services.auth.register("root@example.com", PASSWORD, ip=None)
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def _create(at: AppTest, name: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Key name").input(name)
    return _click(at, "Create key")


def _keys(at: AppTest) -> list[dict[str, object]]:
    records: list[dict[str, object]] = at.dataframe[-1].value.to_dict("records")
    return records


def test_a_user_creates_a_key_sees_it_once_and_revokes_it(
    app: AppTest, people: None, app_services: Services
) -> None:
    at = log_in(app, "ada@example.com", PASSWORD)
    assert "You have no API keys yet." in [c.value for c in at.caption]

    at = _create(at, "laptop script")

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [
        "Key “laptop script” created. Copy it now: it will not be shown again."
    ]
    secret = at.code[0].value
    assert app_services.api_keys.authenticate(secret).email == "ada@example.com"
    [row] = _keys(at)
    assert (row["Name"], row["Key"], row["Last used (UTC)"], row["Revoked (UTC)"]) == (
        "laptop script", secret[:14] + "…", "never", ""
    )  # fmt: skip

    at = _click(at, "Revoke laptop script")

    assert not at.code, "the secret is shown once, right after it is made"
    assert [s.value for s in at.success] == ["“laptop script” is revoked: it no longer works."]
    assert _keys(at)[0]["Revoked (UTC)"] != ""
    assert not [b for b in at.button if b.label.startswith("Revoke")]
    with pytest.raises(AuthenticationFailed):
        app_services.api_keys.authenticate(secret)


def test_a_key_needs_a_name(app: AppTest, people: None) -> None:
    at = _create(log_in(app, "ada@example.com", PASSWORD), "   ")

    assert [e.value for e in at.error] == ["Give the key a name, so you can tell it apart later."]
    assert not at.code


def test_an_admin_sees_every_live_key_and_revokes_one(
    app: AppTest, people: None, app_services: Services
) -> None:
    ada = app_services.auth.login("ada@example.com", PASSWORD, ip=None).account
    secret = app_services.api_keys.create(ada, "ci bot").secret
    at = log_in(app, "root@example.com", PASSWORD)
    at = at.switch_page("../pages/admin.py").run()
    at.session_state["admin_tab"] = "API keys"
    at.run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    [row] = _keys(at)
    assert (row["Owner"], row["Name"]) == ("ada@example.com", "ci bot")

    at = _click(at, "Revoke ci bot (ada@example\\.com)")

    assert [s.value for s in at.success] == ["“ci bot” is revoked: it no longer works."]
    assert [i.value for i in at.info] == ["Nobody has a live API key."]
    with pytest.raises(AuthenticationFailed):
        app_services.api_keys.authenticate(secret)
