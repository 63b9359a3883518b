"""Who is using this browser session: kept in `st.session_state`, checked on every run."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import streamlit as st

from core.auth.account import Account
from core.auth.service import SignedIn
from core.auth.tokens import AccessTokenExpired
from core.errors import AuthenticationFailed
from core.runtime import services
from ui import cookie_bridge, live_sessions
from ui.routes import REFRESH_COOKIE

log = logging.getLogger(__name__)

_AUTH = "_auth"
_ACCOUNT = "_account"
_RESUME_TRIED = "_resume_tried"
_NOTICE = "_auth_notice"
# The login page's tabs: a widget, so the open one survives reruns (and, not drawn while
# signed in, is forgotten: a log out comes back to "Log in").
LOGIN_TAB_KEY = "login_tab"


@dataclass
class _AuthState:
    family_id: uuid.UUID
    access_token: str


def _text(value: object) -> str | None:
    # Outside a browser session (AppTest, bare mode) st.context holds placeholders, not text.
    return value if isinstance(value, str) else None


def client_ip() -> str | None:
    return _text(st.context.ip_address)


def user_agent() -> str | None:
    return _text(st.context.headers.get("user-agent"))


def sign_in(signed_in: SignedIn) -> None:
    st.session_state[_AUTH] = _AuthState(signed_in.family_id, signed_in.access_token)
    st.session_state[_ACCOUNT] = signed_in.account
    cookie_bridge.request_cookie(signed_in.handoff_code)


def sign_out() -> None:
    state: _AuthState | None = st.session_state.get(_AUTH)
    if state is not None:
        services().auth.logout(state.family_id)
    _forget("")


def _forget(notice: str) -> None:
    live_sessions.note(signed_in=False)
    st.session_state.pop(_AUTH, None)
    st.session_state.pop(_ACCOUNT, None)
    if notice:
        st.session_state[_NOTICE] = notice
    cookie_bridge.request_cookie_removal()


def pop_notice() -> str | None:
    notice: str | None = st.session_state.pop(_NOTICE, None)
    return notice


def resolve_account() -> Account | None:
    """Run once at the top of every script run, before any page renders."""
    auth = services().auth
    state: _AuthState | None = st.session_state.get(_AUTH)
    if state is None and not st.session_state.get(_RESUME_TRIED):
        # The cookie is only read on a new websocket session (first load, reload, new tab);
        # later the cookie in st.context is stale because it was rotated.
        st.session_state[_RESUME_TRIED] = True
        if refresh_token := _text(st.context.cookies.get(REFRESH_COOKIE)):
            try:
                sign_in(auth.resume(refresh_token))
            except AuthenticationFailed as error:
                _forget(str(error))
                return None
            state = st.session_state[_AUTH]
    if state is None:
        return None
    try:
        try:
            account = auth.authenticate(state.access_token).account
        except AccessTokenExpired:
            state.access_token = auth.renew_access_token(state.family_id)
            account = auth.authenticate(state.access_token).account
    except AuthenticationFailed as error:
        log.info("session ended", extra={"family_id": str(state.family_id)})
        _forget(str(error))
        return None
    st.session_state[_ACCOUNT] = account
    live_sessions.note(signed_in=True)
    return account


def current_account() -> Account:
    """The account resolved for this run; pages only run once one exists."""
    account: Account | None = st.session_state.get(_ACCOUNT)
    if account is None:
        st.stop()
    return account
