"""HTTP routes served next to Streamlit by `st.App`: the refresh cookie, the Gallery's export
download, health, metrics.

A Streamlit script cannot set cookies, so the page hands the browser a one-time code and the
browser posts it here (see `ui/cookie_bridge.py`). Nor can it stream a download
(`st.download_button` holds the whole file in memory), so the Gallery links to `/api/export`
with a ticket instead.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from core import metrics
from core.errors import AuthenticationFailed, PermissionDenied
from core.export import MEDIA_TYPE
from core.health import check_health
from core.runtime import services

log = logging.getLogger(__name__)

REFRESH_COOKIE = "atelier_refresh"
# The Gallery's download: `?ticket=` from `Exports.ticket`.
EXPORT_PATH = "/api/export"


# The handoff code is a 43-character URL-safe token; nothing bigger is read.
_MAX_SESSION_BODY = 1024
_MAX_CODE = 128


def _expected() -> Response:
    return JSONResponse({"error": 'expected {"code": "..."}'}, status_code=400)


def _refuse_cross_site(request: Request) -> Response | None:
    # SameSite=Strict already keeps the cookie off cross-site requests; this also stops a
    # cross-site page from making us set or clear one. Browsers that send no Sec-Fetch-Site
    # still send Origin on a cross-site POST: its host must be ours.
    site = request.headers.get("sec-fetch-site", "same-origin")
    origin = request.headers.get("origin")
    foreign_origin = origin is not None and urlsplit(origin).netloc != request.headers.get("host")
    if site not in {"same-origin", "none"} or foreign_origin:
        return JSONResponse({"error": "cross-site request refused"}, status_code=403)
    return None


async def _small_body(request: Request) -> bytes | None:
    """The body, or None once it passes `_MAX_SESSION_BODY` (read no further)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_SESSION_BODY:
            return None
    return body


async def redeem_session_code(request: Request) -> Response:
    if refused := _refuse_cross_site(request):
        return refused
    body = await _small_body(request)
    if body is None:
        return JSONResponse({"error": "request body too large"}, status_code=413)
    try:
        code = json.loads(body)["code"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return _expected()
    # Text that cannot be a code (a lone surrogate cannot even be hashed) is refused here.
    if not isinstance(code, str) or len(code) > _MAX_CODE or not code.isascii():
        return _expected()
    app = services()
    try:
        token = await run_in_threadpool(app.auth.redeem_handoff, code)
    except AuthenticationFailed as error:
        return JSONResponse({"error": str(error)}, status_code=401)
    response = Response(status_code=204)
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=app.settings.refresh_token_ttl_days * 24 * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=app.settings.secure_cookies,
    )
    return response


async def clear_session_cookie(request: Request) -> Response:
    if refused := _refuse_cross_site(request):
        return refused
    app = services()
    if token := request.cookies.get(REFRESH_COOKIE):
        await run_in_threadpool(app.auth.logout_refresh_token, token)
    response = Response(status_code=204)
    response.delete_cookie(
        REFRESH_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=app.settings.secure_cookies,
    )
    return response


async def export_archive(request: Request) -> Response:
    """The ZIP of the owner and selection the ticket names, streamed as it is written. The
    ticket is the only credential: a browser following a link sends no access token."""
    exports = services().exports
    try:
        allowed = await run_in_threadpool(exports.redeem, request.query_params.get("ticket", ""))
    except AuthenticationFailed as error:
        return PlainTextResponse(str(error), status_code=401)
    except PermissionDenied as error:
        return PlainTextResponse(str(error), status_code=403)
    return StreamingResponse(
        exports.archive(allowed.owner, allowed.selection),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{exports.file_name()}"',
            # The link holds a ticket: nothing on the way keeps a copy of what it answered.
            "Cache-Control": "no-store",
        },
    )


async def healthz(_request: Request) -> Response:
    try:
        app = await run_in_threadpool(services)
    except Exception as error:
        log.warning("health: services failed to start", exc_info=error)
        return JSONResponse({"status": "unavailable", "error": "starting"}, status_code=503)
    report = await run_in_threadpool(check_health, app)
    return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)


async def prometheus_metrics(_request: Request) -> Response:
    # This process's figures only: Prometheus scrapes each replica and sums them.
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


ROUTES = [
    Route("/api/session", redeem_session_code, methods=["POST"]),
    Route("/api/logout", clear_session_cookie, methods=["POST"]),
    Route(EXPORT_PATH, export_archive, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", prometheus_metrics, methods=["GET"]),
]
