"""Progress steps are written only once they last, and never after the job has ended."""

from __future__ import annotations

import time
import uuid

from core.generation.status import Status
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.progress import ProgressReports
from core.services import Services
from tests.jobs.conftest import new_user


def _running_job(services: Services) -> Job:
    store = services.queue.store
    store.add(new_user(services), [NewJob(JobKind.IMAGE, "test-only", {}, uuid.uuid4())])
    job = store.claim(["test-only"], "w1")
    assert job is not None
    return job


def _until_message(services: Services, job: Job, message: str) -> None:
    deadline = time.monotonic() + 10
    while services.queue.store.owned(None, job.id).progress_message != message:
        assert time.monotonic() < deadline, "the step was never written"
        time.sleep(0.02)


def test_a_step_that_lasts_is_written_and_a_passing_one_is_not(services: Services) -> None:
    job = _running_job(services)
    reports = ProgressReports(services.queue.store, "w1", settle_seconds=0.2)
    try:
        reports.report(job, 0.15, "Generating…")
        reports.report(job, 0.9, "Saving…")  # replaces the step not yet written
        _until_message(services, job, "Saving…")

        assert services.queue.store.owned(None, job.id).progress == 0.9
    finally:
        reports.close()


def test_no_step_is_written_once_the_job_ends(services: Services) -> None:
    store = services.queue.store
    job = _running_job(services)
    reports = ProgressReports(store, "w1", settle_seconds=0.1)
    try:
        reports.report(job, 0.15, "Generating…")
        reports.ended(job)
        store.finish(job, "w1", Status.COMPLETED, message="Done.")
        time.sleep(0.3)  # longer than the settle time: a step would have been written by now
    finally:
        reports.close()

    assert store.owned(None, job.id).progress_message == "Done."
