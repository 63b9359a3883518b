"""Atelier's entry point: `streamlit run app.py`.

Streamlit finds the `st.App` below and serves it: the pages, our HTTP routes (refresh cookie,
/healthz) and the API (`api/`: the seeds' REST contract, the OpenAI-compatible /v1, /api/docs).
The script it runs on every rerun is `ui/main.py`, the page router. It lives outside this folder
on purpose: Streamlit treats a `pages/` folder next to the running script as a legacy multipage
app for the first run of each process, which would bypass the router.
"""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from starlette.concurrency import run_in_threadpool

from api.app import create_api
from api.mount import ApiRoute
from core.config import Settings
from core.runtime import services
from ui import server_socket, warm_up
from ui.feedback import on_script_error
from ui.routes import ROUTES

ROUTER_SCRIPT = Path(__file__).resolve().parent / "ui" / "main.py"

server_socket.disable_nagle_on_listeners()


@asynccontextmanager
async def _start(_app: st.App) -> AsyncIterator[None]:
    # Connect, migrate and check settings before serving, so a bad configuration stops the
    # process at once instead of failing the first visitor.
    await run_in_threadpool(services)
    await run_in_threadpool(warm_up.import_page_modules)
    # Everything built so far (modules, SQLAlchemy, boto3, the providers) lives as long as the
    # process: kept out of the collector's full passes, which otherwise walk all of it and
    # stall every session's run now and then.
    gc.freeze()
    warm_up.announce_ready()
    yield


app = st.App(
    ROUTER_SCRIPT,
    routes=[*ROUTES, ApiRoute(create_api(Settings()))],
    lifespan=_start,
    on_script_error=on_script_error,
)
