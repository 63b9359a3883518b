"""Personal API keys on the pages: a user's own (Home) and, for administrators, everyone's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import streamlit as st

from core.auth.account import Account
from core.auth.api_keys import MAX_NAME_CHARS, ApiKeyInfo
from core.errors import AtelierError
from core.runtime import services
from ui.feedback import user_errors
from ui.text import escape_markdown

_NOTICE = "api_keys_notice"
# Key names and emails are typed by users: labels and messages show them with escape_markdown.


def _when(moment: datetime | None, empty: str = "") -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else empty


def _table(keys: Iterable[tuple[ApiKeyInfo, str | None]]) -> None:
    st.dataframe(
        [
            {
                **({"Owner": owner} if owner is not None else {}),
                "Name": info.name,
                "Key": info.prefix + "…",
                "Created (UTC)": _when(info.created_at),
                "Last used (UTC)": _when(info.last_used_at, "never"),
                "Revoked (UTC)": _when(info.revoked_at),
            }
            for info, owner in keys
        ],
        hide_index=True,
    )


def _revoke(actor: Account, info: ApiKeyInfo) -> None:
    # A button callback: runs before the page, so the table drawn next already shows it.
    try:
        services().api_keys.revoke(actor, info.id)
    except AtelierError as error:
        st.session_state[_NOTICE] = ("error", str(error))
        return
    st.session_state[_NOTICE] = (
        "ok",
        f"“{escape_markdown(info.name)}” is revoked: it no longer works.",
    )


def _show_notice() -> None:
    kind, text = st.session_state.pop(_NOTICE, (None, None))
    if kind == "ok":
        st.success(text, icon="✅")
    elif kind == "error":
        st.error(text, icon="⚠️")


def own_keys(account: Account) -> None:
    """Create a named key (its secret shown this once), list them all, revoke a live one."""
    api_keys = services().api_keys
    st.subheader("API keys")
    st.caption(
        "For scripts and tools that call Atelier's API (see /api/docs): send the key as "
        "`Authorization: Bearer <key>` or `X-API-Key: <key>`. It acts as you, within your limits."
    )
    _show_notice()
    with st.form("api_key_create", clear_on_submit=True, border=True):
        name = st.text_input(
            "Key name", max_chars=MAX_NAME_CHARS, placeholder="e.g. my laptop script"
        )
        create = st.form_submit_button("Create key", icon="🔑")
    if create:
        with user_errors():
            created = api_keys.create(account, name)
            shown = escape_markdown(created.info.name)
            st.success(
                f"Key “{shown}” created. Copy it now: it will not be shown again.", icon="🔑"
            )
            st.code(created.secret, language=None)
    with user_errors():
        keys = api_keys.owned(account)
        if not keys:
            st.caption("You have no API keys yet.")
            return
        _table((info, None) for info in keys)
        for info in keys:
            if info.revoked_at is None:
                st.button(
                    f"Revoke {escape_markdown(info.name)}",
                    icon="🗑️",
                    key=f"api_key_revoke_{info.id}",
                    on_click=_revoke,
                    args=(account, info),
                )


def every_key(admin: Account) -> None:
    """Every live key with its owner; an administrator may revoke any of them."""
    _show_notice()
    keys = services().api_keys.every(admin)
    if not keys:
        st.info("Nobody has a live API key.", icon="🔑")
        return
    _table(keys)
    by_id = {str(info.id): (info, owner) for info, owner in keys}
    picked = st.selectbox(
        "Pick a key",
        list(by_id),
        format_func=lambda v: f"{by_id[v][0].name} · {by_id[v][0].prefix}… · {by_id[v][1]}",
        key="admin_api_key",
    )
    if picked is not None:
        info, owner = by_id[picked]
        st.button(
            f"Revoke {escape_markdown(info.name)} ({escape_markdown(owner)})",
            icon="🗑️",
            key=f"admin_api_key_revoke_{info.id}",
            on_click=_revoke,
            args=(admin, info),
        )
