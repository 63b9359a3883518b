"""Counts every API request by its route template and answer status, for `/metrics`.

A pure ASGI middleware, so a streamed answer (SSE) is counted when its status is sent, without
buffering the body. The label is the template (`/image/{image_id}`), never the raw path: one
series per route, whatever ids clients send.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            # The router puts the matched route into the scope it was given.
            route = scope.get("route")
            metrics.record_api_request(getattr(route, "path", UNMATCHED), status)
