"""Serving the FastAPI app inside Streamlit's `st.App`, beside the pages.

`Mount("/", api)` would take every path, Streamlit's own included. This route claims a request
only when one of the API's routes matches it, and leaves everything else to Streamlit.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send


class ApiRoute(BaseRoute):
    def __init__(self, api: FastAPI) -> None:
        self._api = api

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        for route in self._api.router.routes:
            match, _ = route.matches(scope)
            # A path that matches with another method is still ours: FastAPI answers 405.
            if match is not Match.NONE:
                return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        # `request.url_for` asks the outer app's routes, so it finds the API's through here.
        return self._api.router.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._api(scope, receive, send)
