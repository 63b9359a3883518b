"""Assembles the API: routers, error handlers, CORS, body limit, offline docs. Nothing else."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from api import docs
from api.errors import install_error_handlers
from api.input_guard import refuse_nul_characters
from api.metrics import RequestMetrics
from api.routes import (
    admin,
    auth,
    images,
    imports,
    jobs,
    openai_audio,
    openai_chat,
    openai_images,
    openai_v1,
    speech,
    users,
)
from api.schemas.errors import SEED_ERRORS
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
        dependencies=[Depends(refuse_nul_characters)],
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
    # Added last, so it is the outermost of ours: it sees CORS answers and errors too.
    api.add_middleware(RequestMetrics)
    openai = (openai_v1, openai_chat, openai_images, openai_audio)
    for module in (auth, users, images, speech, jobs, imports, admin):
        api.include_router(module.router, responses=SEED_ERRORS)
    for module in openai:
        api.include_router(module.router)
    api.include_router(docs.router)
    api.router.routes.append(Mount(docs.DOCS_URL + "/static", app=docs.SWAGGER_FILES))
    return api
