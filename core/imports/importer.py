"""Running one import job: download every planned URL within the limits, check what arrives,
keep it in the library, and write each document's metadata.json.

Every image's generation id is derived from the job and its place in the plan, so a job given
to a second worker (the first died) finds what the first one kept instead of keeping it twice.
Cancelling stops the downloads still waiting or in flight; an image that has arrived is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import httpx
import uvloop

from core import metrics
from core.errors import AtelierError
from core.generation.image import THUMBNAIL_SIDE
from core.imports.errors import DownloadRefused
from core.imports.fetch import Downloader, Fetched, FetchLimits
from core.imports.fetch import domain_of as fetched_domain
from core.imports.guard import AddressGuard
from core.imports.library import ImageOrigin, ImportLibrary, StoredImage, image_stem
from core.imports.reasons import PLAIN_WORDS, FailureReason
from core.imports.sources import ImportPlan, PlannedDocument, PlannedImage
from core.imports.validate import ImageLimits, inspect_image
from core.jobs.model import Job
from core.jobs.runner import JobControl, StoppedKeeping

log = logging.getLogger(__name__)

T = TypeVar("T")

# Kept images join the library in batches: one transaction and one index rewrite for many.
_BATCH_SIZE = 200
_BATCH_WAIT_SECONDS = 0.5
_REPORT_EVERY_SECONDS = 0.5
_CANCEL_CHECK_SECONDS = 0.5
_KEEPING_THREADS = 6


class ImportFailed(AtelierError):
    """Not one URL of the import could be kept."""


@dataclass(frozen=True)
class ImportSettings:
    fetch: FetchLimits
    image: ImageLimits
    guard: AddressGuard


def image_id(job_id: uuid.UUID, document: PlannedDocument, image: PlannedImage) -> uuid.UUID:
    return uuid.uuid5(job_id, f"{document.id}\n{document.field}\n{image.number}")


def domain_of(url: str) -> str:
    """The per-domain key the downloader uses, for any text a document held."""
    try:
        return fetched_domain(httpx.URL(url)) or "unknown"
    except httpx.InvalidURL:
        return "unknown"


@dataclass
class _Tally:
    """The counts a user follows, as the job's summary."""

    total: int
    downloaded: int = 0
    duplicates: int = 0
    failed: int = 0
    cancelled: int = 0
    size_bytes: int = 0
    domains: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    reasons: Counter[str] = field(default_factory=Counter)
    # Images a retry would try again, per document id: failed ones, and those never tried.
    again: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def settled(self) -> int:
        return self.downloaded + self.duplicates + self.failed + self.cancelled

    def summary(self, in_flight: dict[str, int]) -> dict[str, Any]:
        domains = {
            domain: {
                "done": counts["done"],
                "failed": counts["failed"],
                "inFlight": in_flight.get(domain, 0),
            }
            for domain, counts in sorted(self.domains.items())
        }
        return {
            "total": self.total,
            "done": self.downloaded + self.duplicates,
            "downloaded": self.downloaded,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "bytes": self.size_bytes,
            "domains": domains,
            "reasons": dict(self.reasons.most_common()),
            "again": {doc: sorted(numbers) for doc, numbers in self.again.items()},
        }

    def message(self) -> str:
        failed = f" · {self.failed} failed" if self.failed else ""
        return f"Imported {self.downloaded + self.duplicates} of {self.total}{failed}"


class ImportRun:
    """One attempt at one import job, on an event loop of its own."""

    def __init__(
        self,
        job: Job,
        control: JobControl,
        library: ImportLibrary,
        settings: ImportSettings,
        now: Callable[[], datetime],
    ) -> None:
        self._job = job
        self._owner = job.owner_id
        self._control = control
        self._library = library
        self._settings = settings
        self._now = now
        self._plan = ImportPlan.from_json(job.request["plan"])
        self._tally = _Tally(self._plan.total)
        self._entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._left: dict[str, int] = {doc.id: len(doc.images) for doc in self._plan.documents}
        self._made: list[uuid.UUID] = []
        self._seen: dict[str, uuid.UUID] = {}
        # (document id, number) of every URL with an outcome.
        self._done: set[tuple[str, int]] = set()
        self._stopping = False
        self._fetches: set[asyncio.Task[Fetched]] = set()
        self._batch: list[tuple[StoredImage, asyncio.Future[None]]] = []
        self._batch_due: asyncio.TimerHandle | None = None
        self._threads = ThreadPoolExecutor(_KEEPING_THREADS, thread_name_prefix="import")
        self._downloader: Downloader | None = None

    def run(self) -> list[uuid.UUID]:
        try:
            # uvloop: the downloads' event loop is what an import waits on (every slot waits
            # for it); it costs 0.4 s less CPU per 1,000 images than asyncio's own.
            uvloop.run(self._run())
        finally:
            self._threads.shutdown(wait=True)
        summary = self._report()
        if self._stopping:
            raise StoppedKeeping(
                f"Cancelled: kept {summary['done']} of {summary['total']} images.", self._made
            )
        if summary["done"] == 0:
            raise ImportFailed(_nothing_kept(self._tally))
        return self._made

    async def _run(self) -> None:
        work: list[tuple[PlannedDocument, PlannedImage, uuid.UUID]] = [
            (doc, image, image_id(self._job.id, doc, image))
            for doc in self._plan.documents
            for image in doc.images
        ]
        # Every file the owner already has, once: a lookup per image cost more than its download.
        self._seen = await self._in_thread(self._library.kept_hashes, self._owner)
        if self._job.attempts > 1:
            work = await self._settle_earlier_attempt(work)
        async with Downloader(self._settings.fetch, self._settings.guard) as downloader:
            self._downloader = downloader
            watch = asyncio.create_task(self._watch())
            tasks = [asyncio.create_task(self._one(doc, image, gid)) for doc, image, gid in work]
            try:
                await asyncio.gather(*tasks)
                await self._flush()
            finally:
                watch.cancel()
                self._downloader = None

    async def _settle_earlier_attempt(
        self, work: list[tuple[PlannedDocument, PlannedImage, uuid.UUID]]
    ) -> list[tuple[PlannedDocument, PlannedImage, uuid.UUID]]:
        kept = await self._in_thread(self._library.existing, [gid for _, _, gid in work])
        if kept:
            await self._in_thread(self._library.reindex, self._owner, list(kept.values()))
        left = []
        for doc, image, gid in work:
            row = kept.get(gid)
            if row is None:
                left.append((doc, image, gid))
                continue
            self._made.append(gid)
            self._tally.downloaded += 1
            self._tally.size_bytes += row.size_bytes or 0
            self._tally.domains[domain_of(image.url)]["done"] += 1
            if row.content_sha256:
                self._seen[row.content_sha256] = gid
            await self._settled(
                doc,
                image,
                {"status": "downloaded", "generationId": str(gid), "file": row.media_key},
            )
        return left

    async def _one(self, doc: PlannedDocument, image: PlannedImage, gid: uuid.UUID) -> None:
        """One URL to its outcome. An error no step expected fails this URL alone: the rest
        of the import goes on, and a retry tries it again."""
        try:
            await self._fetch_and_keep(doc, image, gid)
        except Exception:
            log.exception(
                "an imported URL failed unexpectedly",
                extra={"job_id": str(self._job.id), "url": image.url},
            )
            if (doc.id, image.number) not in self._done:
                domain = domain_of(image.url)
                await self._failed(
                    doc, image, domain, {"sourceUrl": image.url}, FailureReason.NOT_STORED, None
                )

    async def _fetch_and_keep(
        self, doc: PlannedDocument, image: PlannedImage, gid: uuid.UUID
    ) -> None:
        assert self._downloader is not None
        if self._stopping:
            await self._cancelled(doc, image)
            return
        fetch = asyncio.create_task(self._downloader.fetch(image.url))
        self._fetches.add(fetch)
        try:
            fetched = await fetch
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            await self._cancelled(doc, image)
            return
        finally:
            self._fetches.discard(fetch)
        # From here on the image has arrived: a cancel no longer stops it from being kept.
        await self._keep(doc, image, gid, fetched)

    async def _keep(
        self, doc: PlannedDocument, image: PlannedImage, gid: uuid.UUID, fetched: Fetched
    ) -> None:
        domain = domain_of(image.url)
        base = {
            "sourceUrl": image.url,
            "finalUrl": fetched.final_url,
            "attempts": fetched.attempts,
            "elapsedMs": fetched.elapsed_ms,
            "statusCode": fetched.status_code,
            "contentType": fetched.declared_type,
        }
        if not fetched.ok or fetched.data is None:
            reason = fetched.reason or FailureReason.CONNECTION_FAILED
            await self._failed(doc, image, domain, base, reason, fetched.detail)
            return
        data = fetched.data
        try:
            inspected = await self._in_thread(
                inspect_image,
                data,
                fetched.declared_type,
                self._settings.image,
                thumbnail_side=THUMBNAIL_SIDE,
            )
        except DownloadRefused as refused:
            await self._failed(doc, image, domain, base, refused.reason, str(refused))
            return
        facts = {
            **base,
            "contentType": inspected.content_type,
            "bytes": inspected.size_bytes,
            "width": inspected.width,
            "height": inspected.height,
            "format": inspected.format,
            "sha256": inspected.sha256,
        }
        twin = self._seen.get(inspected.sha256)
        if twin is None:
            self._seen[inspected.sha256] = gid
        else:
            self._tally.duplicates += 1
            self._tally.domains[domain]["done"] += 1
            metrics.record_import_download("duplicate")
            await self._settled(
                doc, image, {**facts, "status": "duplicate", "duplicateOf": str(twin)}
            )
            return
        origin = ImageOrigin(
            collection=self._plan.collection,
            document_id=doc.id,
            field=doc.field,
            number=image.number,
            url=image.url,
            final_url=fetched.final_url or image.url,
            domain=domain,
            attempts=fetched.attempts,
            elapsed_ms=fetched.elapsed_ms,
        )
        try:
            stored = await self._in_thread(
                self._library.store_files, self._owner, gid, data, inspected, origin, self._now()
            )
            await self._add_to_library(stored)
        except Exception:
            log.exception(
                "could not keep an imported image",
                extra={"job_id": str(self._job.id), "url": image.url},
            )
            del self._seen[inspected.sha256]
            await self._failed(doc, image, domain, facts, FailureReason.NOT_STORED, None)
            return
        self._made.append(gid)
        self._tally.downloaded += 1
        self._tally.size_bytes += inspected.size_bytes
        self._tally.domains[domain]["done"] += 1
        metrics.record_import_download("downloaded", inspected.size_bytes)
        await self._settled(
            doc,
            image,
            {
                **facts,
                "status": "downloaded",
                "file": stored.record.media_key,
                "generationId": str(gid),
                "downloadedAt": stored.record.created_at.isoformat(),
            },
        )

    async def _failed(
        self,
        doc: PlannedDocument,
        image: PlannedImage,
        domain: str,
        facts: dict[str, Any],
        reason: FailureReason,
        detail: str | None,
    ) -> None:
        self._tally.failed += 1
        self._tally.reasons[reason.value] += 1
        self._tally.domains[domain]["failed"] += 1
        self._tally.again[doc.id].append(image.number)
        metrics.record_import_download(reason.value)
        entry = {**facts, "status": "failed", "reason": reason.value}
        entry["error"] = detail or PLAIN_WORDS[reason]
        await self._settled(doc, image, entry)

    async def _cancelled(self, doc: PlannedDocument, image: PlannedImage) -> None:
        self._tally.cancelled += 1
        self._tally.again[doc.id].append(image.number)
        await self._settled(doc, image, {"sourceUrl": image.url, "status": "cancelled"})

    async def _settled(
        self, doc: PlannedDocument, image: PlannedImage, entry: dict[str, Any]
    ) -> None:
        """One URL has its outcome; a document whose last URL settled writes its metadata."""
        self._done.add((doc.id, image.number))
        self._entries[doc.id].append(
            {"number": image.number, "file": None, **entry, "name": image_stem(image.number)}
        )
        self._left[doc.id] -= 1
        if self._left[doc.id] > 0:
            return
        try:
            await self._in_thread(
                self._library.write_metadata,
                self._owner,
                self._plan.collection,
                doc.id,
                doc.field,
                self._entries.pop(doc.id),
                job_id=self._job.id,
                now=self._now(),
            )
        except Exception:
            log.exception(
                "could not write an import's metadata.json",
                extra={"job_id": str(self._job.id), "document": doc.id},
            )

    # --- keeping in batches ---

    async def _add_to_library(self, stored: StoredImage) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.append((stored, done))
        # Every URL still without an outcome is waiting here (the last ones of the run):
        # nothing more will join the batch, so it goes now instead of at its timer.
        unsettled = self._tally.total - self._tally.settled
        if len(self._batch) >= min(_BATCH_SIZE, unsettled):
            await self._flush()
        elif self._batch_due is None:
            loop = asyncio.get_running_loop()
            self._batch_due = loop.call_later(
                _BATCH_WAIT_SECONDS, lambda: asyncio.ensure_future(self._flush())
            )
        await done

    async def _flush(self) -> None:
        if self._batch_due is not None:
            self._batch_due.cancel()
            self._batch_due = None
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            await self._in_thread(self._library.add_to_library, self._owner, [s for s, _ in batch])
        except Exception as error:  # noqa: BLE001 - each waiting image records its own failure
            for _, done in batch:
                done.set_exception(error)
            return
        for _, done in batch:
            done.set_result(None)

    # --- following and stopping ---

    async def _watch(self) -> None:
        """Report progress and look for a cancel, until the run ends."""
        last_look = time.monotonic()
        while True:
            await asyncio.sleep(_REPORT_EVERY_SECONDS)
            self._report()
            if time.monotonic() - last_look >= _CANCEL_CHECK_SECONDS:
                last_look = time.monotonic()
                if await self._in_thread(self._control.cancelled):
                    self._stop()

    def _stop(self) -> None:
        log.info("import cancelled", extra={"job_id": str(self._job.id)})
        self._stopping = True
        for fetch in list(self._fetches):
            fetch.cancel()

    def _report(self) -> dict[str, Any]:
        in_flight = self._downloader.in_flight() if self._downloader else {}
        summary = self._tally.summary(in_flight)
        fraction = self._tally.settled / self._tally.total if self._tally.total else 1.0
        self._control.report(fraction, self._tally.message(), summary)
        return summary

    async def _in_thread(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, lambda: function(*args, **kwargs))


def _nothing_kept(tally: _Tally) -> str:
    if not tally.reasons:
        return "Nothing was imported."
    reason, count = tally.reasons.most_common(1)[0]
    words = PLAIN_WORDS[FailureReason(reason)]
    return (
        f"None of the {tally.total} images could be imported. "
        f"Most common reason ({count} of {tally.failed}): {words}"
    )


def failed_numbers(summary: dict[str, Any] | None) -> dict[str, set[int]]:
    """What a retry of a finished import tries again, by document id."""
    again: dict[str, Sequence[int]] = (summary or {}).get("again", {})
    return {doc: set(numbers) for doc, numbers in again.items() if numbers}
