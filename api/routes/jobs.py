"""Seed 003's job routes: follow, list, cancel and retry queued work.

`GET /jobs/{id}` answers the job with its `status` and, once completed, what it made. A caller
sees their own jobs; an administrator may name anyone's (and list everyone's with `?all=true`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import CurrentAccount, ServicesDep
from api.job_answers import JOB_ROUTE, job_out
from api.schemas.jobs import JobOut, JobsOut
from core.auth.account import Account
from core.generation.status import Status
from core.jobs.model import JobKind
from core.permissions import require_admin

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("")
def list_jobs(
    account: CurrentAccount,
    app: ServicesDep,
    request: Request,
    status: Annotated[Status | None, Query(description="Only jobs in this state.")] = None,
    kind: Annotated[JobKind | None, Query()] = None,
    everyone: Annotated[
        bool, Query(alias="all", description="Everyone's jobs (administrators).")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobsOut:
    if everyone:
        require_admin(account)
    jobs = app.queue.listing(
        None if everyone else account.id,
        states=[status] if status else [],
        kinds=[kind] if kind else [],
        limit=limit,
    )
    return JobsOut(data=[job_out(app, request, job) for job in jobs])


@router.get("/{job_id}", name=JOB_ROUTE)
def get_job(
    job_id: uuid.UUID, account: CurrentAccount, app: ServicesDep, request: Request
) -> JobOut:
    return job_out(app, request, app.queue.get(_whose(account), job_id))


@router.post("/{job_id}/cancel")
def cancel_job(
    job_id: uuid.UUID, account: CurrentAccount, app: ServicesDep, request: Request
) -> JobOut:
    """A pending job is cancelled at once; a running one stops at its next step."""
    return job_out(app, request, app.queue.cancel(_whose(account), job_id))


@router.post("/{job_id}/retry", status_code=202)
def retry_job(
    job_id: uuid.UUID, account: CurrentAccount, app: ServicesDep, request: Request
) -> JobOut:
    """A failed or cancelled job queued again as a new job; an import tries only what it did
    not keep."""
    return job_out(app, request, app.retries.retry(account.id, job_id))


def _whose(account: Account) -> uuid.UUID | None:
    """Whose jobs the caller may name: their own, or anyone's for an administrator."""
    return None if account.is_admin else account.id
