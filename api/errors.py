"""`AtelierError`s as HTTP answers: one status per kind, the message written for the caller.

The seeds' routes answer `{"detail": "..."}` (FastAPI's shape); the OpenAI-compatible `/v1`
answers `{"error": {"message", "type", "code"}}`, which the `openai` SDK and Open WebUI read.
Anything unexpected is logged with its traceback and answered with a plain 500 that hides it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.errors import (
    AtelierError,
    AuthenticationFailed,
    ConfigurationError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    StorageUnavailable,
)
from core.generation.records import GenerationFailed
from core.jobs.queue import JobCancelled, JobFailed, QueueUnavailable

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."


class ModelNotFound(NotFound):
    """A `/v1` request named a model nobody offers (OpenAI's code `model_not_found`)."""


# Most specific first: the first class an error is an instance of decides.
_STATUS: list[tuple[type[AtelierError], int, str]] = [
    (RateLimited, 429, "rate_limit_exceeded"),
    (AuthenticationFailed, 401, "invalid_api_key"),
    (PermissionDenied, 403, "permission_denied"),
    (ModelNotFound, 404, "model_not_found"),
    (NotFound, 404, "not_found"),
    (InvalidInput, 400, "invalid_request_error"),
    (GenerationFailed, 502, "generation_failed"),
    (JobFailed, 502, "generation_failed"),
    (JobCancelled, 409, "job_cancelled"),
    (QueueUnavailable, 503, "service_unavailable"),
    (ProviderError, 502, "provider_error"),
    (StorageUnavailable, 503, "service_unavailable"),
    (ConfigurationError, 503, "service_unavailable"),
    (AtelierError, 400, "invalid_request_error"),
]


def is_openai_path(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def error_body(request: Request, status: int, message: str, code: str) -> dict[str, Any]:
    if is_openai_path(request):
        kind = "invalid_request_error" if status < 500 else "server_error"
        return {"error": {"message": message, "type": kind, "code": code, "param": None}}
    return {"detail": message}


def stream_error_body(request: Request, error: Exception) -> dict[str, Any]:
    """The body for a failure after a streamed answer has begun (its 200 is already sent)."""
    if isinstance(error, AtelierError):
        status, code = _status_of(error)
        return error_body(request, status, str(error), code)
    log.error("api stream failed", exc_info=error, extra={"path": request.url.path})
    return error_body(request, 500, UNEXPECTED, "internal_error")


def _status_of(error: AtelierError) -> tuple[int, str]:
    return next((status, code) for kind, status, code in _STATUS if isinstance(error, kind))


async def _atelier_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AtelierError)
    status, code = _status_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(request, status, str(error), code), status, headers=headers)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    message = str(error.detail) if error.detail else "Request refused."
    return JSONResponse(
        error_body(request, error.status_code, message, str(error.status_code)),
        error.status_code,
        headers=error.headers,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if not is_openai_path(request):
        # FastAPI's documented 422 shape, without echoing the input back.
        detail = [{k: v for k, v in p.items() if k in {"loc", "msg", "type"}} for p in problems]
        return JSONResponse({"detail": detail}, 422)
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
    return JSONResponse(error_body(request, 400, message, "invalid_request_error"), 400)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("api request failed", exc_info=error, extra={"path": request.url.path})
    return JSONResponse(error_body(request, 500, UNEXPECTED, "internal_error"), 500)


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(AtelierError, _atelier_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(Exception, _unexpected)
