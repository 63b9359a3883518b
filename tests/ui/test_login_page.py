"""The login page and the logged-in shell, through Streamlit's AppTest."""

from streamlit.testing.v1 import AppTest

from core.services import Services
from tests.ui.conftest import log_in, register

PASSWORD = "correct horse 42"


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(c.value) for c in at.sidebar.caption)


def test_logged_out_visitors_see_only_the_login_page(app: AppTest) -> None:
    assert [tab.label for tab in app.tabs] == ["Log in", "Create account"]
    assert not [b for b in app.button if b.label == "Log out"]


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
