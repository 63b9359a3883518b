"""Bulk imports as queued jobs: what a user (or script) asks for becomes a checked plan, and
one job runs it on the "io" queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from core.errors import InvalidInput
from core.generation.records import Source
from core.imports.importer import ImportRun, ImportSettings, failed_numbers
from core.imports.library import ImportLibrary
from core.imports.sources import (
    ImportPlan,
    parse_collection,
    plan_documents,
    plan_urls,
    validate_collection_name,
)
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.queue import JobQueue
from core.jobs.runner import JobControl
from core.storable import require_storable

# Imports mostly wait on other servers: they have a queue of their own, so they never hold
# back the workers that generate.
IMPORT_QUEUE = "io"
PASTED_COLLECTION = "pasted"


class ImportJobs:
    def __init__(self, queue: JobQueue, library: ImportLibrary, *, max_images: int) -> None:
        self._queue = queue
        self._library = library
        self._max_images = max_images

    def submit_urls(
        self,
        owner_id: uuid.UUID,
        urls: str | Sequence[str],
        *,
        collection: str = PASTED_COLLECTION,
        source: Source = Source.UI,
    ) -> Job:
        """A pasted list: one document named after the job."""
        require_storable(urls, "A URL")
        job_id = uuid.uuid4()
        plan = plan_urls(
            validate_collection_name(collection),
            urls,
            document_id=f"list-{job_id.hex[:8]}",
            max_images=self._max_images,
        )
        return self._submit(owner_id, plan, source, job_id)

    def submit_upload(
        self,
        owner_id: uuid.UUID,
        data: bytes,
        *,
        filename: str | None,
        collection: str,
        id_field: str,
        url_field: str,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        only_document: str | None = None,
        source: Source = Source.UI,
    ) -> Job:
        """An uploaded JSON, JSON Lines or CSV file of documents."""
        return self.submit_documents(
            owner_id,
            parse_collection(data, filename),
            collection=collection,
            id_field=id_field,
            url_field=url_field,
            filter=filter,
            limit=limit,
            only_document=only_document,
            source=source,
        )

    def submit_documents(
        self,
        owner_id: uuid.UUID,
        documents: Sequence[Mapping[str, Any]],
        *,
        collection: str,
        id_field: str,
        url_field: str,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        only_document: str | None = None,
        source: Source = Source.UI,
    ) -> Job:
        """Seed 003's batch: the collection is kept, so one document can be imported later."""
        require_storable(documents, "A document")
        require_storable(filter or {}, "The filter")
        collection = validate_collection_name(collection)
        plan = plan_documents(
            collection,
            documents,
            id_field=id_field,
            url_field=url_field,
            filter=filter,
            limit=limit,
            only_document=only_document,
            max_images=self._max_images,
        )
        self._library.save_collection(
            owner_id, collection, documents, id_field=id_field, url_field=url_field
        )
        return self._submit(owner_id, plan, source)

    def submit_document(
        self,
        owner_id: uuid.UUID,
        collection: str,
        document_id: str,
        *,
        source: Source = Source.UI,
    ) -> Job:
        """One document of a collection imported before (seed 003's /download/document)."""
        collection = validate_collection_name(collection)
        stored = self._library.load_collection(owner_id, collection)
        plan = plan_documents(
            collection,
            stored["documents"],
            id_field=stored["idField"],
            url_field=stored["urlField"],
            only_document=document_id,
            max_images=self._max_images,
        )
        return self._submit(owner_id, plan, source)

    def retry_failures(self, earlier: Job) -> Job:
        """Only the images a finished import did not keep: failed, or never tried. One that
        never reported (cancelled before it started) is tried whole."""
        plan = ImportPlan.from_json(earlier.request["plan"])
        if earlier.summary is not None:
            again = failed_numbers(earlier.summary)
            if not again:
                raise InvalidInput("Every image of this import was kept: nothing to retry.")
            plan = plan.only_failed(again)
        return self._submit(earlier.owner_id, plan, Source(earlier.request["source"]))

    def _submit(
        self, owner_id: uuid.UUID, plan: ImportPlan, source: Source, job_id: uuid.UUID | None = None
    ) -> Job:
        request = {"plan": plan.to_json(), "source": source.value}
        new = NewJob(JobKind.IMPORT, IMPORT_QUEUE, request, job_id or uuid.uuid4())
        return self._queue.submit(owner_id, [new])[0]


class ImportJobHandler:
    """Runs a queued import on a worker."""

    def __init__(
        self, library: ImportLibrary, settings: ImportSettings, now: Callable[[], datetime]
    ) -> None:
        self._library = library
        self._settings = settings
        self._now = now

    def __call__(self, job: Job, control: JobControl) -> list[uuid.UUID]:
        return ImportRun(job, control, self._library, self._settings, self._now).run()
