"""Atelier's entry point.

`streamlit run app.py` finds the `st.App` below and serves it: Streamlit plus our HTTP routes
(refresh cookie, /healthz). Streamlit then runs this same file as the page router on every
script run, where `__name__` is "__main__".
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

if __name__ == "__main__":
    from ui.router import route

    route()
else:
    from starlette.concurrency import run_in_threadpool

    from ui.feedback import on_script_error
    from ui.routes import ROUTES
    from ui.runtime import services

    @asynccontextmanager
    async def _start(_app: st.App) -> AsyncIterator[None]:
        # Connect, migrate and check settings before serving, so a bad configuration stops
        # the process at once instead of failing the first visitor.
        await run_in_threadpool(services)
        yield

    app = st.App(__file__, routes=ROUTES, lifespan=_start, on_script_error=on_script_error)
