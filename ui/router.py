"""Page routing: every page is always registered, so a deep link survives the login detour."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.auth.service import Account
from ui import cookie_bridge
from ui.feedback import user_errors
from ui.session import resolve_account, sign_out

_AFTER_LOGIN = "_after_login"
_PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


def _pages(account: Account | None) -> dict[str, st.Page]:
    admin_visibility = "visible" if account and account.is_admin else "hidden"
    return {
        "login": st.Page(
            _PAGES_DIR / "login.py",
            title="Log in",
            icon="🔑",
            url_path="login",
            visibility="hidden" if account else "visible",
        ),
        "home": st.Page(_PAGES_DIR / "home.py", title="Home", icon="🏠", default=True),
        "image": st.Page(
            _PAGES_DIR / "image_studio.py", title="Image Studio", icon="🎨", url_path="image"
        ),
        "speech": st.Page(
            _PAGES_DIR / "speech_studio.py", title="Speech Studio", icon="🔊", url_path="speech"
        ),
        "chat": st.Page(_PAGES_DIR / "chat.py", title="Chat", icon="💬", url_path="chat"),
        "gallery": st.Page(
            _PAGES_DIR / "gallery.py", title="Gallery", icon="🖼️", url_path="gallery"
        ),
        "analytics": st.Page(
            _PAGES_DIR / "analytics.py", title="Analytics", icon="📊", url_path="analytics"
        ),
        # Registered for everyone so a deep link gets a clear refusal, listed for admins only.
        "admin": st.Page(
            _PAGES_DIR / "admin.py",
            title="Admin",
            icon="🛡️",
            url_path="admin",
            visibility=admin_visibility,
        ),
    }


def page(name: str) -> st.Page:
    """A page by its name in `_pages` ("image", "gallery", ...), for links and switches."""
    return _pages(None)[name]


def go(name: str) -> None:
    st.switch_page(page(name))


def route() -> None:
    st.set_page_config(page_title="Atelier", page_icon="🎨", layout="wide")
    with user_errors():
        account = resolve_account()
        cookie_bridge.render()
        pages = _pages(account)
        if account is None:
            _route_logged_out(pages)
        else:
            _route_logged_in(pages, account)


def _route_logged_out(pages: dict[str, st.Page]) -> None:
    page = st.navigation(list(pages.values()), position="hidden")
    if page.url_path != pages["login"].url_path:
        st.session_state[_AFTER_LOGIN] = page.url_path
        st.switch_page(pages["login"])
    page.run()


def _route_logged_in(pages: dict[str, st.Page], account: Account) -> None:
    page = st.navigation(
        {
            "": [pages["login"], pages["home"]],
            "Create": [pages["image"], pages["speech"], pages["chat"]],
            "Library": [pages["gallery"], pages["analytics"]],
            "Manage": [pages["admin"]],
        }
    )
    if page.url_path == pages["login"].url_path:
        # Just logged in: go where the visitor was heading, or to the default page.
        target = st.session_state.pop(_AFTER_LOGIN, None)
        by_path = {p.url_path: p for p in pages.values()}
        st.switch_page(by_path.get(target, pages["home"]))
    with st.sidebar:
        st.caption(f"Signed in as **{account.email}**" + (" · admin" if account.is_admin else ""))
        if st.button("Log out", icon="🚪", width="stretch"):
            sign_out()
            st.rerun()
    page.run()
