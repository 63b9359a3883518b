"""Which browser sessions of this process are signed in, for the `/metrics` sessions gauge.

The session code notes a session when it resolves an account and forgets it when the session
ends (log out, expiry, disabled account). A tab that was just closed sends nothing, so every
scrape also drops the sessions Streamlit no longer has connected; one that reconnects is noted
again by its next run.
"""

from __future__ import annotations

import threading

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import metrics

_lock = threading.Lock()
_signed_in: set[str] = set()


def note(*, signed_in: bool) -> None:
    context = get_script_run_ctx()
    if context is None:
        return
    with _lock:
        if signed_in:
            _signed_in.add(context.session_id)
        else:
            _signed_in.discard(context.session_id)


def _count() -> int:
    if not runtime.exists():
        return 0
    connected = runtime.get_instance().is_active_session
    with _lock:
        _signed_in.difference_update([sid for sid in _signed_in if not connected(sid)])
        return len(_signed_in)


metrics.count_ui_sessions_with(_count)
