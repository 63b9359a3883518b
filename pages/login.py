"""Log in or create an account."""

import streamlit as st

from core.runtime import services
from ui.feedback import user_errors
from ui.session import LOGIN_TAB_KEY, client_ip, pop_notice, sign_in, user_agent

auth = services().auth

st.title("🎨 Atelier")
st.caption("Generate images, speech and chat answers. Everything you make is kept for you.")
if notice := pop_notice():
    st.info(notice)

# Only the open tab is drawn, and opening the other one reruns: the login form is the page every
# visitor loads first, and the form behind the other tab was half of its elements.
log_in, register = st.tabs(["Log in", "Create account"], key=LOGIN_TAB_KEY, on_change="rerun")


def _signed_in(email: str, password: str) -> None:
    sign_in(auth.login(email, password, ip=client_ip(), user_agent=user_agent()))
    st.rerun()


def _login_form() -> None:
    email = st.text_input("Email", autocomplete="email")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    if st.form_submit_button("Log in", type="primary"):
        with user_errors():
            if not email.strip() or not password:
                # Not a failed login: nothing was tried, so nothing counts against the limit.
                st.warning("Enter your email and your password.", icon="✍️")
                st.stop()
            _signed_in(email, password)


def _register_form() -> None:
    new_email = st.text_input("Email", key="register_email", autocomplete="email")
    new_password = st.text_input(
        "Password",
        type="password",
        key="register_password",
        autocomplete="new-password",
        help=f"At least {services().settings.password_min_length} characters, "
        "mixing letters with digits or symbols.",
    )
    confirm = st.text_input(
        "Repeat password", type="password", key="register_confirm", autocomplete="new-password"
    )
    if st.form_submit_button("Create account", type="primary"):
        with user_errors():
            if new_password != confirm:
                st.error("The two passwords differ.", icon="⚠️")
            else:
                auth.register(new_email, new_password, ip=client_ip())
                _signed_in(new_email, new_password)


if log_in.open:
    with log_in, st.form("login"):
        _login_form()

if register.open:
    with register, st.form("register"):
        _register_form()
