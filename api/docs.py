"""API docs served from the app itself: FastAPI's default page loads Swagger UI from a CDN, and
Atelier must work with no internet. The files come from the `fastapi-offline` package (only its
static files: Swagger UI 5, which reads the OpenAPI 3.1 documents FastAPI writes; the older
bundle in `swagger-ui-bundle` cannot)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
_STATIC_URL = DOCS_URL + "/static"
SWAGGER_FILES = StaticFiles(directory=Path(str(files("fastapi_offline") / "static")))

router = APIRouter(include_in_schema=False)


@router.get(DOCS_URL)
def docs_page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="Atelier API",
        swagger_js_url=f"{_STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{_STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{_STATIC_URL}/favicon.png",
    )
