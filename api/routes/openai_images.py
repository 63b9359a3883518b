"""`POST /v1/images/generations`: OpenAI's image generation, through `ImageStudio`.

`n` images are `n` queued jobs, admitted together by the limits and kept like a page's. Sizes are
Atelier's (any engine's free width x height); OpenAI's default and `auto` mean 1024x1024.
OpenAI's styles `vivid` and `natural` mean no style; Atelier's own style names work as in the
studio. A `seed` (Atelier's addition) makes image i of n use seed + i.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentAccount, ServicesDep
from api.job_answers import ACCEPTED, finished
from api.openai_names import image_model
from api.schemas.generations import ImageOut as SeedImageOut
from api.schemas.openai import OPENAI_ERRORS, ImageGenerationBody, ImageOut, ImagesOut
from core.auth.account import Account
from core.errors import InvalidInput
from core.generation.image import ImageOrder
from core.generation.records import Source
from core.modality import Modality
from core.providers.image.sizes import parse_size
from core.services import Services

router = APIRouter(prefix="/v1", tags=["openai"], responses=OPENAI_ERRORS)

DEFAULT_SIZE = (1024, 1024)
OPENAI_STYLES = frozenset({"vivid", "natural"})
# The seed REST route that serves an image's bytes (api/routes/images.py).
_DOWNLOAD_PATH = re.compile(r"(?:https?://[^/?#]+)?/image/(?P<id>[0-9a-fA-F-]{32,36})/download")
_REFERENCE_REFUSED = (
    "reference_image_url must be a data: URL (data:image/png;base64,...) or the "
    "/image/{id}/download URL of one of your own images. Atelier does not fetch other "
    "addresses: send the image itself as a data: URL."
)


@router.post(
    "/images/generations",
    response_model=ImagesOut,
    response_model_exclude_none=True,
    responses=ACCEPTED,
)
def generate_images(
    body: ImageGenerationBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> ImagesOut | JSONResponse:
    chosen = image_model(app, body.model)
    width, height = DEFAULT_SIZE if body.size in (None, "auto") else parse_size(body.size)
    reference = _reference_png(app, account, body.reference_image_url)
    # All n are admitted together when queued: a limit reached after the second of four
    # would make images the caller never receives, yet counted against them.
    jobs = app.jobs.submit_images(
        account.id,
        ImageOrder(
            prompt=body.prompt,
            width=width,
            height=height,
            seed=body.seed,
            model=chosen.model,
            style=None if body.style in OPENAI_STYLES else body.style,
            provider=chosen.provider,
            reference="upload" if reference else None,
            upload=reference,
            source=Source.API,
        ),
        count=body.n,
        vary_seed=body.seed is not None,
    )
    made = finished(app, request, account.id, jobs, SeedImageOut)
    if isinstance(made, JSONResponse):
        return made
    return ImagesOut(
        created=int(time.time()),
        data=[_image_out(app, account, image, body.response_format) for image in made],
    )


def _image_out(app: Services, account: Account, image: SeedImageOut, form: str) -> ImageOut:
    if form == "b64_json":
        png = app.gallery.media(account.id, image.id, image.s3.image or "")
        return ImageOut(b64_json=base64.b64encode(png).decode("ascii"))
    # A signed link on S3; on the local store, the seed route that serves the bytes.
    return ImageOut(url=image.download_url)


def _reference_png(app: Services, account: Account, url: str | None) -> bytes | None:
    """The reference image's bytes, from a data: URL or one of the caller's own images.

    A server that fetches any URL a client names can be made to reach what only it can reach
    (cloud metadata, internal services): server-side request forgery. So nothing is fetched:
    a data: URL carries the image itself, and an Atelier download URL only names one of the
    caller's own generations, read from storage by id (its host is not even looked at).
    """
    if url is None or not url.strip():
        return None
    url = url.strip()
    if url.startswith("data:"):
        header, comma, payload = url.partition(",")
        if not comma or not header.endswith(";base64"):
            raise InvalidInput(_REFERENCE_REFUSED)
        try:
            image = base64.b64decode(payload, validate=True)
        except binascii.Error:
            raise InvalidInput("The reference image's data: URL is not valid base64.") from None
        if not image:
            raise InvalidInput("The reference image's data: URL holds no image.")
        return image
    match = _DOWNLOAD_PATH.fullmatch(url.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        raise InvalidInput(_REFERENCE_REFUSED)
    try:
        generation_id = uuid.UUID(match["id"])
    except ValueError:
        raise InvalidInput(_REFERENCE_REFUSED) from None
    item = app.gallery.open(account.id, generation_id)
    if item.entry.modality is not Modality.IMAGE:
        raise InvalidInput("reference_image_url names a generation that is not an image.")
    return app.gallery.media(account.id, generation_id, item.entry.media_key)
