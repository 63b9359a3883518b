"""Jobs and the generations they made, as the API answers them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from api.media import IMAGE_DOWNLOAD_ROUTE, SPEECH_DOWNLOAD_ROUTE, download_url
from api.schemas.generations import ImageOut, SpeechOut
from api.schemas.jobs import ImportCounts, JobOut, JobProgress
from core.generation.status import Status
from core.jobs.generation_jobs import MODALITY
from core.jobs.model import Job, JobKind
from core.jobs.queue import JobStillRunning
from core.services import Services

JOB_ROUTE = "get_job"
Made = TypeVar("Made", ImageOut, SpeechOut)
# `?async=true` on a generating route: 202 with the job at once instead of waiting for it.
Asynchronous = Annotated[bool, Query(alias="async", description="Answer 202 with the job at once.")]


def job_out(app: Services, request: Request, job: Job) -> JobOut:
    # An import may keep thousands of images: it answers their ids and counts, not each one.
    is_import = job.kind is JobKind.IMPORT
    made = job.generation_ids if job.state is Status.COMPLETED and not is_import else ()
    return JobOut(
        id=job.id,
        kind=job.kind.value,
        status=job.state.value,
        queue=job.queue,
        progress=JobProgress(fraction=job.progress, message=job.progress_message),
        position=job.position,
        attempts=job.attempts,
        cancel_requested=job.cancel_requested,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=str(request.url_for(JOB_ROUTE, job_id=str(job.id))),
        generations=[generation_out(app, request, job.owner_id, job.kind, g) for g in made],
        counts=ImportCounts.model_validate(job.summary) if is_import and job.summary else None,
        # Kept images are the user's even when the import was cancelled half-way.
        image_ids=list(job.generation_ids) if is_import else [],
    )


def generation_out(
    app: Services, request: Request, owner_id: uuid.UUID, kind: JobKind, generation_id: uuid.UUID
) -> ImageOut | SpeechOut:
    item = app.gallery.open(owner_id, generation_id, modality=MODALITY[kind])
    if kind is JobKind.IMAGE:
        url = download_url(
            request, item.signed_url, IMAGE_DOWNLOAD_ROUTE, image_id=str(generation_id)
        )
        return ImageOut.of(item.record, url)
    url = download_url(request, item.signed_url, SPEECH_DOWNLOAD_ROUTE, audio_id=str(generation_id))
    return SpeechOut.of(item.record, url)


def accepted(app: Services, request: Request, job: Job) -> JSONResponse:
    """202 with the job to follow (`?async=true`, or a wait that ran out)."""
    body = job_out(app, request, job)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": body.url}
    )


def finished(
    app: Services, request: Request, owner_id: uuid.UUID, jobs: Sequence[Job], shape: type[Made]
) -> list[Made] | JSONResponse:
    """What the jobs made, as `shape` (ImageOut or SpeechOut), once all are done (the seeds'
    synchronous answer); a 202 with the first unfinished job if JOB_WAIT_SECONDS runs out."""
    try:
        done = app.queue.outcome(owner_id, [job.id for job in jobs], app.settings.job_wait_seconds)
    except JobStillRunning as running:
        return accepted(app, request, running.job)
    answers = [
        generation_out(app, request, owner_id, job.kind, made)
        for job in done
        for made in job.generation_ids
    ]
    return [answer for answer in answers if isinstance(answer, shape)]


ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobOut,
        "description": "Queued (`?async=true`), or still running when the wait ran out: "
        "follow the job at its `url`.",
    }
}
