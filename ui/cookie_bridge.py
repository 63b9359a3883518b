"""Lets the browser set or clear its HttpOnly refresh cookie through our HTTP routes.

The page script asks for a cookie change; the next render emits a tiny script that posts to
`/api/session` or `/api/logout`. The element stays on the page for a short while so a quick
rerun cannot remove it before the browser has run it; posting a used code twice is harmless.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import streamlit as st

_STATE_KEY = "_cookie_bridge"
_KEEP_SECONDS = 15.0


@dataclass(frozen=True)
class _Pending:
    path: str
    body: dict[str, str]
    until: float


def request_cookie(handoff_code: str) -> None:
    st.session_state[_STATE_KEY] = _Pending(
        "/api/session", {"code": handoff_code}, time.monotonic() + _KEEP_SECONDS
    )


def request_cookie_removal() -> None:
    st.session_state[_STATE_KEY] = _Pending("/api/logout", {}, time.monotonic() + _KEEP_SECONDS)


def render() -> None:
    pending: _Pending | None = st.session_state.get(_STATE_KEY)
    if pending is None:
        return
    if time.monotonic() > pending.until:
        del st.session_state[_STATE_KEY]
        return
    # The values are ours (a fixed path, a URL-safe token), and json.dumps quotes them.
    st.html(
        "<script>fetch("
        f"{json.dumps(pending.path)}, {{method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/json'}, "
        f"body: {json.dumps(json.dumps(pending.body))}}})"
        "</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
