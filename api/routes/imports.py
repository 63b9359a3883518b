"""Seed 003's paths under /api/v1: queue an import, follow it, cancel it.

An import answers 202 with its job at once; `GET /api/v1/jobs/{id}` gives its `status` and
counts (done, failed, total, per domain). The job routes are the same as `/jobs`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentAccount, ServicesDep
from api.job_answers import ACCEPTED, accepted
from api.routes import jobs
from api.schemas.imports import BatchBody
from core.generation.records import Source

router = APIRouter(prefix="/api/v1", tags=["imports"])


@router.post("/download/batch", status_code=202, responses=ACCEPTED)
def download_batch(
    body: BatchBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> JSONResponse:
    """Import the images of a collection's documents, or of a list of URLs, as one job."""
    if body.urls is not None:
        job = app.imports.submit_urls(
            account.id, body.urls, collection=body.collection, source=Source.API
        )
    else:
        job = app.imports.submit_documents(
            account.id,
            body.documents or [],
            collection=body.collection,
            id_field=body.id_field,
            url_field=body.url_field,
            filter=body.filter,
            limit=body.limit,
            source=Source.API,
        )
    return accepted(app, request, job)


@router.post("/download/document/{collection}/{document_id}", status_code=202, responses=ACCEPTED)
def download_document(
    collection: str, document_id: str, account: CurrentAccount, app: ServicesDep, request: Request
) -> JSONResponse:
    """Import one document of a collection sent before with `/download/batch`."""
    job = app.imports.submit_document(account.id, collection, document_id, source=Source.API)
    return accepted(app, request, job)


# The same job routes as /jobs, where seed 003's clients look for them.
for path, endpoint, method in (
    ("/jobs", jobs.list_jobs, "GET"),
    ("/jobs/{job_id}", jobs.get_job, "GET"),
    ("/jobs/{job_id}/cancel", jobs.cancel_job, "POST"),
):
    router.add_api_route(path, endpoint, methods=[method], operation_id=f"v1_{endpoint.__name__}")
