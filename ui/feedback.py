"""How errors reach the user: our own messages as they are, anything else as a plain apology."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import AtelierError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."


def show_error(error: BaseException) -> None:
    if isinstance(error, AtelierError):
        st.error(str(error), icon="⚠️")
    else:
        log.error("unexpected error in a page", exc_info=error)
        st.error(UNEXPECTED, icon="⚠️")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show any error raised inside the block instead of a traceback."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - every failure reaches the user as words
        show_error(error)


def on_script_error(error: Exception) -> bool:
    """`st.App` hook for anything that escaped a page: log it, say sorry, hide the trace."""
    show_error(error)
    return True
