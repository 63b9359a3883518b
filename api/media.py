"""How the seeds' routes hand out a generation's media: a signed S3 link, or the bytes."""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import Request, Response

from api.schemas.generations import DownloadOut
from core.gallery import MediaFile
from core.services import Services

# The seed routes that serve a generation's bytes (api/routes/images.py, api/routes/speech.py).
IMAGE_DOWNLOAD_ROUTE = "download_image"
SPEECH_DOWNLOAD_ROUTE = "download_audio"


def download_url(request: Request, signed: str | None, route: str, **path: str) -> str:
    """The signed link when the object store gives one, else this API's download route."""
    return signed if signed is not None else str(request.url_for(route, **path))


def download_answer(app: Services, found: str | MediaFile, name: str) -> DownloadOut | Response:
    if isinstance(found, str):
        return DownloadOut(url=found, expires_in=app.settings.s3_presign_ttl_seconds)
    extension = mimetypes.guess_extension(found.content_type) or ""
    return Response(
        found.data,
        media_type=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}{extension}"'},
    )


def download_responses(content_type: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a download route: JSON with a signed link, or the file itself."""
    return {
        200: {
            "description": "A signed link (S3), or the file itself (local folder store).",
            "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
