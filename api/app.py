"""Assembles the API: routers, error handlers, CORS, body limit, offline docs. Nothing else."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from api import docs
from api.errors import install_error_handlers
from api.routes import admin, auth, images, openai_v1, speech, users
from core.config import Settings


def create_api(settings: Settings) -> FastAPI:
    api = FastAPI(
        title="Atelier API",
        version="1",
        description=(
            "Images, speech and chat answers, kept, replayed and counted. The seeds' REST "
            "contract (`/auth`, `/image`, `/tts`, `/admin`) and an OpenAI-compatible `/v1`."
        ),
        openapi_url=docs.OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        max_body_size=settings.api_max_body_bytes,
    )
    install_error_handlers(api)
    if origins := settings.cors_origin_list:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    for module in (auth, users, images, speech, admin, openai_v1):
        api.include_router(module.router)
    api.include_router(docs.router)
    api.router.routes.append(Mount(docs.DOCS_URL + "/static", app=docs.SWAGGER_FILES))
    return api
