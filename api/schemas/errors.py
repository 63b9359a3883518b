"""The refusal every seed route may answer, documented so clients (and schemathesis) know it.

api/errors.py writes them; the OpenAI-compatible `/v1` routes document their own shape in
api/schemas/openai.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    # Written for the person reading it: what went wrong and what to do.
    detail: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


SEED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request is invalid; the message says what to change."),
    401: _error("No valid access token or API key (or wrong credentials)."),
    403: _error("The account may not do this (administrators only)."),
    404: _error("No such generation or key, or it is not yours (the same answer)."),
    413: _error("The request body is too large."),
    429: _error("A limit was reached; `Retry-After` says when to try again."),
    502: _error("The engine failed to make the generation; it is recorded as failed."),
    503: _error("Storage or configuration is unavailable."),
}
