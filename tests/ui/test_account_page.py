"""The Account page through AppTest: deleting one's account asks for the password and a typed
confirmation, says what goes, then signs out to the login page with a notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.account_deletion import NOT_CONFIRMED
from core.admin.users import LAST_ADMIN_DELETED
from core.services import Services
from storage.models import User
from tests.accounts.library import PASSWORD, FailingDeletes, every_object, fill_library
from tests.ui.conftest import log_in

DELETE = "Delete my account"


@pytest.fixture
def people(app_services: Services) -> None:
    root = app_services.auth.register("root@example.com", PASSWORD, ip=None)
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    fill_library(app_services, ada, root)


def _account_page(app: AppTest, email: str) -> AppTest:
    log_in(app, email, PASSWORD)
    return app.switch_page("../pages/account.py").run()


def _submit(at: AppTest, password: str, typed: str) -> AppTest:
    at.text_input(key="delete_account_confirmation").input(typed)
    next(t for t in at.text_input if t.label == "Your password").input(password)
    next(b for b in at.button if b.label == DELETE).click()
    return at.run()


def test_deleting_asks_twice_then_signs_out_with_a_notice(
    app: AppTest, app_services: Services, people: None
) -> None:
    at = _account_page(app, "ada@example.com")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[-1].value == "👤 Account"
    said = " ".join(m.value for m in at.markdown)
    for what in ("history", "imported images", "conversations", "API keys", "usage count"):
        assert what in said

    at = _submit(at, PASSWORD, "delete it")
    assert [e.value for e in at.error] == ["Type “delete my account” in the box above to confirm."]
    at = _submit(at, "wrong horse 42", "delete my account")
    assert [e.value for e in at.error] == [NOT_CONFIRMED]
    assert app_services.auth.login("ada@example.com", PASSWORD, ip=None)

    at = _submit(at, PASSWORD, " Delete my  account ")

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [i.value for i in at.info] == ["Your account and everything in it are deleted."]
    assert [t.label for t in at.tabs] == ["Log in", "Create account"]
    with app_services.db() as db:
        assert list(db.scalars(select(User.email))) == ["root@example.com"]
    at = log_in(at, "ada@example.com", PASSWORD)
    assert [e.value for e in at.error] == ["Wrong email or password."]


def test_a_deletion_the_store_interrupts_still_signs_out_and_says_what_happens_next(
    app: AppTest, app_services: Services, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _account_page(app, "ada@example.com")
    monkeypatch.setattr(
        app_services.objects, "delete", FailingDeletes(app_services.objects.delete, allowed=2)
    )

    at = _submit(at, PASSWORD, "delete my account")

    assert not at.exception
    (notice,) = [i.value for i in at.info]
    assert "Your account is closed" in notice and "next starts" in notice
    assert every_object(app_services)
    at = log_in(at, "ada@example.com", PASSWORD)
    assert [e.value for e in at.error] == ["This account is being deleted."]


def test_the_last_admin_is_told_why_and_cannot_delete(app: AppTest, people: None) -> None:
    at = _account_page(app, "root@example.com")

    assert [i.value for i in at.info] == [LAST_ADMIN_DELETED]
    assert next(b for b in at.button if b.label == DELETE).disabled
