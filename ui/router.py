"""Page routing: every page is always registered, so a deep link survives the login detour.

A page run must cost about what a bare Streamlit run costs, so the router keeps its own share
small:

* The page tables are built once per process, one per login state (logged out, user, admin):
  `st.Page` resolves and checks its file on creation. A run gets shallow copies, because
  `st.navigation` marks the page it returns as runnable (`_can_be_called`) and `Page.run()`
  clears it: concurrent sessions sharing one object would refuse each other's runs.
* A logged-out visitor gets the login form in one run, at the address they opened: while
  logged out every page's address renders the login page, so `/gallery` shows the form and,
  after the login's rerun, the gallery itself; `/` (Home) does the same. Only an explicit
  `/login` goes on to Home after logging in.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.auth.account import Account
from ui import cookie_bridge
from ui.feedback import user_errors
from ui.session import resolve_account, sign_out

_PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class _PageSpec:
    file: str
    title: str
    icon: str
    url_path: str


_LOGIN = "login"
_HOME = "home"
_SPECS: dict[str, _PageSpec] = {
    _LOGIN: _PageSpec("login.py", "Log in", "🔑", "login"),
    _HOME: _PageSpec("home.py", "Home", "🏠", "home"),
    "image": _PageSpec("image_studio.py", "Image Studio", "🎨", "image"),
    "speech": _PageSpec("speech_studio.py", "Speech Studio", "🔊", "speech"),
    "chat": _PageSpec("chat.py", "Chat", "💬", "chat"),
    "gallery": _PageSpec("gallery.py", "Gallery", "🖼️", "gallery"),
    "queue": _PageSpec("queue.py", "Queue", "⏳", "queue"),
    "import": _PageSpec("imports.py", "Import", "📥", "import"),
    "analytics": _PageSpec("analytics.py", "Analytics", "📊", "analytics"),
    "account": _PageSpec("account.py", "Account", "👤", "account"),
    # Registered for everyone so a deep link gets a clear refusal, listed for admins only.
    "admin": _PageSpec("admin.py", "Admin", "🛡️", "admin"),
}
_SECTIONS = {
    "": [_LOGIN, _HOME],
    "Create": ["image", "speech", "chat"],
    "Library": ["gallery", "import", "queue", "analytics"],
    "Manage": ["account", "admin"],
}


class _Audience(Enum):
    LOGGED_OUT = "logged out"
    USER = "user"
    ADMIN = "admin"


def _build(audience: _Audience) -> dict[str, st.Page]:
    pages = {}
    for name, spec in _SPECS.items():
        if audience is _Audience.LOGGED_OUT:
            # Same address and page hash as when logged in, but the login form behind it.
            file, visibility = _SPECS[_LOGIN].file, "visible" if name == _LOGIN else "hidden"
        else:
            file = spec.file
            shown = name != _LOGIN and (name != "admin" or audience is _Audience.ADMIN)
            visibility = "visible" if shown else "hidden"
        pages[name] = st.Page(
            _PAGES_DIR / file,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=name == _HOME,
            visibility=visibility,
        )
    return pages


_tables: dict[_Audience, dict[str, st.Page]] = {}
_tables_lock = threading.Lock()


def _pages(audience: _Audience) -> dict[str, st.Page]:
    """This run's pages: copies of the process-wide table, free for `st.navigation` to mark."""
    table = _tables.get(audience)
    if table is None:
        if get_script_run_ctx() is None:
            # Outside a script run st.Page keeps no file: never cache such a table.
            return _build(audience)
        with _tables_lock:
            table = _tables.setdefault(audience, _build(audience))
    return {name: copy.copy(p) for name, p in table.items()}


def _audience(account: Account | None) -> _Audience:
    if account is None:
        return _Audience.LOGGED_OUT
    return _Audience.ADMIN if account.is_admin else _Audience.USER


def page(name: str) -> st.Page:
    """A page by its name in `_SPECS` ("image", "gallery", ...), for links and switches."""
    return _pages(_Audience.USER)[name]


def go(name: str) -> None:
    st.switch_page(page(name))


def route() -> None:
    st.set_page_config(page_title="Atelier", page_icon="🎨", layout="wide")
    with user_errors():
        account = resolve_account()
        # Before any page element and in every run, logged in or not: its slot never moves them.
        cookie_bridge.render()
        pages = _pages(_audience(account))
        if account is None:
            st.navigation(list(pages.values()), position="hidden").run()
        else:
            _route_logged_in(pages, account)


def _route_logged_in(pages: dict[str, st.Page], account: Account) -> None:
    page = st.navigation(
        {section: [pages[name] for name in names] for section, names in _SECTIONS.items()}
    )
    if page.url_path == pages[_LOGIN].url_path:
        # Just logged in at /login (a deep link logs in where it is): go to the default page.
        st.switch_page(pages[_HOME])
    with st.sidebar:
        st.caption(f"Signed in as **{account.email}**" + (" · admin" if account.is_admin else ""))
        if st.button("Log out", icon="🚪", width="stretch"):
            sign_out()
            st.rerun()
    page.run()
