"""Seed 000/001's image routes and seed 004's memory and subject illustrations.

`GET /image/{id}/download` answers `{"url", "expires_in"}` with a signed S3 link (seed 000's
"URL firmada": the client fetches the bytes from the object store itself); on the local folder
store, which cannot sign links, it answers the image bytes. Without a credential these routes
act for the anonymous owner when ANONYMOUS_GENERATION is on (api/deps.py).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentAccount, GeneratingAccount, ReadingAccount, ServicesDep
from api.job_answers import ACCEPTED, Asynchronous, accepted, finished
from api.media import IMAGE_DOWNLOAD_ROUTE, download_answer, download_responses, download_url
from api.schemas.generations import (
    DownloadOut,
    IllustrationFile,
    IllustrationOut,
    ImageGenerateBody,
    ImageOut,
    ImageSettings,
    MemoryBody,
    SubjectBody,
)
from api.schemas.openai import OPENAI_ERRORS
from core.auth.account import Account
from core.generation.image import ImageOrder, ReferenceSource, subject_prompt
from core.generation.records import Source
from core.jobs.model import Job
from core.modality import Modality
from core.providers.image.sizes import parse_size
from core.services import Services

router = APIRouter(tags=["images"])
DOWNLOAD_ROUTE = IMAGE_DOWNLOAD_ROUTE


@router.post("/image/generate", response_model=ImageOut, responses=ACCEPTED)
def generate_image(
    body: ImageGenerateBody,
    account: GeneratingAccount,
    app: ServicesDep,
    request: Request,
    asynchronous: Asynchronous = False,
) -> ImageOut | JSONResponse:
    """Seed 000's synchronous answer: the image once its job is done. With `?async=true`,
    202 and the job (`GET /jobs/{id}` follows it)."""
    jobs = _queue(app, account, body, body.prompt)
    if asynchronous:
        return accepted(app, request, jobs[0])
    made = finished(app, request, account.id, jobs, ImageOut)
    return made if isinstance(made, JSONResponse) else made[0]


@router.get("/image/{image_id}")
def get_image(
    image_id: uuid.UUID, account: ReadingAccount, app: ServicesDep, request: Request
) -> ImageOut:
    item = app.gallery.open(account.id, image_id, modality=Modality.IMAGE)
    url = download_url(request, item.signed_url, DOWNLOAD_ROUTE, image_id=str(image_id))
    return ImageOut.of(item.record, url)


@router.get(
    "/image/{image_id}/download",
    name=DOWNLOAD_ROUTE,
    response_model=DownloadOut,
    responses=download_responses("image/png"),
)
def download_image(
    image_id: uuid.UUID, account: ReadingAccount, app: ServicesDep
) -> DownloadOut | Response:
    found = app.gallery.download(account.id, image_id, modality=Modality.IMAGE)
    return download_answer(app, found, f"image-{image_id}")


# Under /v1, so refusals come in OpenAI's shape (api/errors.py), not the seed routes'.
@router.post(
    "/v1/images/memory",
    response_model=IllustrationOut,
    responses={**OPENAI_ERRORS, **ACCEPTED},
)
def memory_illustration(
    body: MemoryBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> IllustrationOut | JSONResponse:
    """The prompt drawn with your avatar (uploaded once in the Image Studio) as reference."""
    jobs = _queue(app, account, body, body.prompt, reference="avatar")
    return _illustration(app, finished(app, request, account.id, jobs, ImageOut))


@router.post(
    "/v1/images/subject",
    response_model=IllustrationOut,
    responses={**OPENAI_ERRORS, **ACCEPTED},
)
def subject_illustration(
    body: SubjectBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> IllustrationOut | JSONResponse:
    """A portrait illustration of the person in the photo sent as base64 in `image`."""
    jobs = _queue(
        app, account, body, subject_prompt(body.prompt), reference="upload", upload=body.photo()
    )
    return _illustration(app, finished(app, request, account.id, jobs, ImageOut))


def _queue(
    app: Services,
    account: Account,
    settings: ImageSettings,
    prompt: str,
    *,
    reference: ReferenceSource | None = None,
    upload: bytes | None = None,
) -> list[Job]:
    provider, model = app.images.engine_for(settings.provider, settings.model)
    width, height = parse_size(settings.size)
    order = ImageOrder(
        prompt=prompt,
        width=width,
        height=height,
        seed=settings.seed,
        model=model,
        style=settings.style,
        provider=provider,
        reference=reference,
        upload=upload,
        source=Source.API,
    )
    return app.jobs.submit_images(account.id, order)


def _illustration(
    app: Services, made: list[ImageOut] | JSONResponse
) -> IllustrationOut | JSONResponse:
    if isinstance(made, JSONResponse):
        return made
    bucket = app.settings.bucket_for(Modality.IMAGE)
    return IllustrationOut(
        data=[
            IllustrationFile(s3_uri=f"s3://{bucket}/{image.s3.image}", url=image.download_url)
            for image in made
        ]
    )
