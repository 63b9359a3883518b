"""Lets the browser set or clear its HttpOnly refresh cookie through our HTTP routes.

The page script asks for a cookie change; the next render emits a tiny script that posts to
`/api/session` or `/api/logout`. The element stays on the page for a short while so a quick
rerun cannot remove it before the browser has run it.

Two things about how Streamlit's frontend treats it:

* It keys the page's elements by their position, so the bridge is always one element in the
  same place, empty when nothing is pending. Appearing and disappearing, it would move every
  element after it: the frontend would then take the login tabs for new ones, show the first
  tab again and drop what was typed in the forms.
* It mounts the element again whenever the user opens another page, which runs the script
  again. The browser remembers which requests it has sent, so a used code is not posted twice.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

import streamlit as st

_STATE_KEY = "_cookie_bridge"
_KEEP_SECONDS = 15.0


@dataclass(frozen=True)
class _Pending:
    path: str
    body: dict[str, str]
    requested_at: float = field(default_factory=time.monotonic)
    # How the browser knows it already sent this request when the element mounts again.
    request_id: str = field(default_factory=lambda: secrets.token_urlsafe(12))


def request_cookie(handoff_code: str) -> None:
    st.session_state[_STATE_KEY] = _Pending("/api/session", {"code": handoff_code})


def request_cookie_removal() -> None:
    st.session_state[_STATE_KEY] = _Pending("/api/logout", {})


def render() -> None:
    """Put the bridge's slot on the page; call it at the same place in every run."""
    slot = st.empty()
    pending: _Pending | None = st.session_state.get(_STATE_KEY)
    if pending is None:
        return
    if time.monotonic() - pending.requested_at > _KEEP_SECONDS:
        del st.session_state[_STATE_KEY]
        return
    # The values are ours (a fixed path, URL-safe tokens), and json.dumps quotes them.
    slot.html(
        "<script>(() => {"
        "const sent = (window.atelierCookieRequests ??= new Set());"
        f"const id = {json.dumps(pending.request_id)};"
        "if (sent.has(id)) return;"
        "sent.add(id);"
        f"fetch({json.dumps(pending.path)}, {{method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/json'}, "
        f"body: {json.dumps(json.dumps(pending.body))}}})"
        # Not sent at all (network down): the next mount may try again.
        ".catch(() => sent.delete(id));"
        "})()</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
