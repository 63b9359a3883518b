"""Bulk imports end to end on both backends: planned, queued, downloaded from many local image
hosts, kept in the library once, described in metadata.json, cancelled and retried."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from core.config import Settings
from core.errors import InvalidInput
from core.generation.records import Source
from core.generation.status import Status
from core.imports.importer import ImportRun
from core.imports.library import IMPORT_EVENT, IMPORT_PROVIDER, ImageOrigin, StoredImage
from core.imports.sources import plan_urls
from core.imports.validate import ImageLimits, inspect_image
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.progress import ProgressReports
from core.jobs.runner import JobControl
from core.modality import Modality
from core.services import Services, _import_settings, start_services
from storage.models import Generation, UsageEvent
from tests.support.clock import FakeClock
from tests.support.image_hosts import ImageHosts, Reply, image_bytes

WAIT = 30.0
PASSWORD = "correct horse 42"
JPEG = image_bytes("JPEG", 960, 640)
PNG = image_bytes("PNG", 40, 40)


@pytest.fixture
def hosts() -> Iterator[ImageHosts]:
    with ImageHosts(3) as running:
        running.script("/a.jpg", Reply(body=JPEG))
        # The same bytes, sent later: the copy at /a.jpg is the one kept.
        running.script("/a-again.jpg", Reply(body=JPEG, delay=0.5))
        running.script("/b.png", Reply(body=PNG, content_type="image/png"))
        running.script("/page.html", Reply(body=b"<html>hello</html>", content_type="image/jpeg"))
        yield running


@pytest.fixture
def owner(services: Services) -> uuid.UUID:
    return services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None).id


def hotels(hosts: ImageHosts) -> list[dict[str, Any]]:
    return [
        {
            "_id": "h1",
            "city": "Madrid",
            "images": [{"url": hosts.url(0, "/a.jpg")}, {"url": hosts.url(1, "/b.png")}],
        },
        {
            "_id": "h2",
            "city": "Madrid",
            "images": [{"url": hosts.url(2, "/missing.jpg")}, {"url": hosts.url(0, "/page.html")}],
        },
        {"_id": "h3", "city": "Madrid", "images": [{"url": hosts.url(1, "/a-again.jpg")}]},
        {"_id": "h4", "city": "Paris", "images": [{"url": hosts.url(2, "/b.png")}]},
    ]


def finished(services: Services, owner: uuid.UUID, job: Job) -> Job:
    done = services.queue.wait(owner, job.id, WAIT)
    assert done.state not in (Status.PENDING, Status.RUNNING), done
    return done


def metadata(services: Services, owner: uuid.UUID, document: str) -> dict[str, Any]:
    found = services.import_library.metadata(owner, "hotels", document, "images[].url")
    assert found is not None, f"no metadata.json for {document}"
    return found


def import_hotels(services: Services, owner: uuid.UUID, hosts: ImageHosts) -> Job:
    job = services.imports.submit_documents(
        owner,
        hotels(hosts),
        collection="hotels",
        id_field="_id",
        url_field="images[].url",
        filter={"city": "Madrid"},
    )
    return finished(services, owner, job)


def test_a_collection_lands_in_the_library_once_with_every_outcome_written(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    job = import_hotels(services, owner, hosts)

    assert job.state is Status.COMPLETED
    summary = job.summary or {}
    assert (summary["total"], summary["downloaded"], summary["duplicates"]) == (5, 2, 1)
    assert summary["failed"] == 2
    assert summary["reasons"] == {"http_error": 1, "not_an_image": 1}
    assert sum(d["done"] for d in summary["domains"].values()) == 3
    assert len(job.generation_ids) == 2 and job.can_retry

    # Seed 003's layout and every URL's outcome, the duplicate pointing at the kept copy.
    first, second = metadata(services, owner, "h1")["images"]
    assert first["status"] == second["status"] == "downloaded"
    # Seed 003's names, with the image's id so a later import of the document adds, not replaces.
    folder = f"{owner}/hotels/h1-images.url/original/"
    assert first["file"] == f"{folder}img_001-{uuid.UUID(first['generationId']).hex[:8]}.jpg"
    assert (first["width"], first["height"], first["format"]) == (960, 640, "JPEG")
    assert second["file"].startswith(f"{folder}img_002-") and second["file"].endswith(".png")
    missing, html = metadata(services, owner, "h2")["images"]
    assert (missing["status"], missing["reason"], missing["statusCode"]) == (
        "failed",
        "http_error",
        404,
    )
    assert (html["status"], html["reason"]) == ("failed", "not_an_image")
    [twin] = metadata(services, owner, "h3")["images"]
    assert twin["status"] == "duplicate" and twin["duplicateOf"] == first["generationId"]
    assert twin["sha256"] == first["sha256"]
    assert services.import_library.metadata(owner, "hotels", "h4", "images[].url") is None

    # In the Gallery as imported images, with thumbnails; not counted as generations.
    entries = services.gallery.page(owner).entries
    assert {e.meta["source"] for e in entries} == {Source.IMPORT.value}
    assert {str(e.id) for e in entries} == {first["generationId"], second["generationId"]}
    # A WebP thumbnail for the large one; the small one is its own.
    thumbnails = {e.media_key: e.thumbnail_key for e in entries}
    assert "/processed/img_001-" in (thumbnails[first["file"]] or "")
    assert thumbnails[second["file"]] == second["file"]
    large = uuid.UUID(first["generationId"])
    assert services.gallery.media(owner, large, thumbnails[first["file"]] or "")[:4] == b"RIFF"
    opened = services.gallery.open(owner, large)
    assert opened.record["input"]["sourceUrl"] == hosts.url(0, "/a.jpg")
    assert (opened.record["meta"]["width"], opened.record["meta"]["source"]) == (960, "import")
    assert opened.entry.thumbnail_key == thumbnails[first["file"]]
    assert services.gallery.media(owner, uuid.UUID(first["generationId"]), first["file"]) == JPEG
    assert services.limits.used_today(owner)[Modality.IMAGE] == 0
    with services.db() as db:
        rows = db.scalars(select(Generation).where(Generation.user_id == owner)).all()
        events = db.scalars(select(UsageEvent).where(UsageEvent.user_id == owner)).all()
    assert {row.provider for row in rows} == {IMPORT_PROVIDER}
    assert {event.event_type for event in events} == {IMPORT_EVENT}
    assert all(row.content_sha256 for row in rows)


def test_deleting_one_imported_image_leaves_the_rest_of_its_document(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    import_hotels(services, owner, hosts)
    first, second = metadata(services, owner, "h1")["images"]

    services.gallery.delete(owner, uuid.UUID(first["generationId"]))

    kept = uuid.UUID(second["generationId"])
    assert [e.id for e in services.gallery.page(owner).entries] == [kept]
    assert services.gallery.media(owner, kept, second["file"]) == PNG
    folder = f"{owner}/hotels/h1-images.url/"
    listed = services.objects.list_objects(services.import_library.bucket, folder)
    # The small PNG is its own thumbnail; the document's metadata.json stays.
    assert {info.key.removeprefix(folder) for info in listed} == {
        second["file"].removeprefix(folder),
        "metadata.json",
    }


def test_a_retry_tries_only_what_was_not_kept(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    earlier = import_hotels(services, owner, hosts)
    hosts.script("/missing.jpg", Reply(body=image_bytes("PNG", 12, 12), content_type="image/png"))
    served = len(hosts.received)

    again = finished(services, owner, services.retries.retry(owner, earlier.id))

    assert sorted(r.path for r in hosts.received[served:]) == ["/missing.jpg", "/page.html"]
    summary = again.summary or {}
    assert (summary["total"], summary["downloaded"], summary["failed"]) == (2, 1, 1)
    fixed, html = metadata(services, owner, "h2")["images"]
    assert (fixed["status"], html["status"]) == ("downloaded", "failed")
    assert "/original/img_001-" in fixed["file"] and fixed["file"].endswith(".png")
    assert metadata(services, owner, "h2")["jobIds"] == [str(earlier.id), str(again.id)]
    assert len(services.gallery.page(owner).entries) == 3


def test_an_import_with_nothing_kept_fails_and_says_why(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    job = services.imports.submit_urls(owner, f"{hosts.url(0, '/page.html')}\nftp://x/y.png")

    done = finished(services, owner, job)

    assert done.state is Status.FAILED
    assert "None of the 2 images could be imported" in (done.error or "")
    assert (done.summary or {})["reasons"] == {"not_an_image": 1, "bad_url": 1}


def test_cancel_stops_the_downloads_and_keeps_what_arrived(
    make_settings: Callable[..., Settings], clock: FakeClock, hosts: ImageHosts
) -> None:
    services = start_services(make_settings(import_max_per_domain=1), now=clock)
    try:
        owner = services.auth.register("slow@example.com", PASSWORD, ip=None).id
        hosts.script(
            "/slow.png",
            *[
                Reply(body=image_bytes("PNG", 8, 8 + n), content_type="image/png", delay=0.15)
                for n in range(20)
            ],
        )
        urls = [hosts.url(0, f"/slow.png?{n}") for n in range(20)]
        for n in range(20):
            hosts.script(
                f"/slow.png?{n}",
                Reply(body=image_bytes("PNG", 8, 8 + n), content_type="image/png", delay=0.15),
            )
        job = services.imports.submit_urls(owner, urls)
        deadline = time.monotonic() + WAIT
        while ((services.queue.get(owner, job.id).summary or {}).get("done", 0)) < 3:
            assert time.monotonic() < deadline, "the import never got going"
            time.sleep(0.05)

        services.queue.cancel(owner, job.id)
        done = finished(services, owner, job)

        assert done.state is Status.CANCELLED
        summary = done.summary or {}
        assert summary["done"] >= 3 and summary["cancelled"] >= 1
        assert summary["done"] + summary["cancelled"] + summary["failed"] == 20
        kept = {e.id for e in services.gallery.page(owner, limit=50).entries}
        assert kept == set(done.generation_ids) and len(kept) == summary["done"]
        [document] = [d["id"] for d in done.request["plan"]["documents"]]
        statuses = [
            i["status"]
            for i in services.import_library.metadata(owner, "pasted", document, "url")["images"]
        ]  # type: ignore[index]
        assert statuses.count("downloaded") == summary["done"]
        assert statuses.count("cancelled") == summary["cancelled"]
    finally:
        services.close()


def test_a_second_attempt_of_the_same_job_keeps_nothing_twice(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    job = import_hotels(services, owner, hosts)
    before = services.gallery.page(owner).entries
    reports = ProgressReports(services.queue.store, "w", settle_seconds=0.3)
    redelivered = replace(job, attempts=2)
    control = JobControl(reports, redelivered, cancelled=lambda: False)

    run = ImportRun(
        redelivered,
        control,
        services.import_library,
        _import_settings(services.settings),
        lambda: job.created_at,
    )
    # As on a worker: a thread of its own (a browser test may leave a loop in this one).
    with ThreadPoolExecutor(max_workers=1) as worker:
        made = worker.submit(run.run).result()
    reports.close()

    assert set(made) == set(job.generation_ids)
    after = services.gallery.page(owner).entries
    assert sorted(e.id for e in after) == sorted(e.id for e in before)
    assert (control.summary or {})["downloaded"] == 2


def test_private_addresses_are_refused_unless_allowed(
    make_settings: Callable[..., Settings], clock: FakeClock, hosts: ImageHosts
) -> None:
    services = start_services(make_settings(import_allow_private_networks=False), now=clock)
    try:
        owner = services.auth.register("guarded@example.com", PASSWORD, ip=None).id
        job = services.imports.submit_urls(owner, [hosts.url(0, "/a.jpg")])
        done = finished(services, owner, job)
        assert done.state is Status.FAILED
        assert (done.summary or {})["reasons"] == {"blocked_address": 1}
        assert hosts.requests_for("/a.jpg") == []
    finally:
        services.close()


def test_one_document_of_a_kept_collection_can_be_imported_alone(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    import_hotels(services, owner, hosts)

    job = finished(services, owner, services.imports.submit_document(owner, "hotels", "h4"))

    # Its one image is the same file as one of h1's: recognised, not stored again.
    assert job.state is Status.COMPLETED and (job.summary or {})["duplicates"] == 1
    with pytest.raises(InvalidInput, match="no collection named 'nope'"):
        services.imports.submit_document(owner, "nope", "h1")


def test_importing_a_document_again_adds_its_new_images_and_loses_none(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    earlier = import_hotels(services, owner, hosts)
    hosts.script("/a.jpg", Reply(body=image_bytes("JPEG", 500, 300)))

    again = finished(services, owner, services.imports.submit_document(owner, "hotels", "h1"))

    assert (again.summary or {})["downloaded"] == 1  # the new /a.jpg; /b.png is a duplicate
    for generation_id in [*earlier.generation_ids, *again.generation_ids]:
        item = services.gallery.open(owner, generation_id)
        assert services.gallery.media(owner, generation_id, item.entry.media_key)


def test_text_that_cannot_be_kept_is_refused_before_anything_is_queued(
    services: Services, owner: uuid.UUID
) -> None:
    with pytest.raises(InvalidInput, match="cannot be kept"):
        services.imports.submit_urls(owner, ["http://example.com/\ud800.jpg"])
    with pytest.raises(InvalidInput, match="cannot be kept"):
        services.imports.submit_documents(
            owner,
            [{"_id": "1", "photo": "http://x/\x00.png"}],
            collection="c",
            id_field="_id",
            url_field="photo",
        )
    assert services.queue.listing(owner) == []


def test_an_import_cancelled_before_it_started_is_retried_whole(
    services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    plan = plan_urls(
        "pasted", [hosts.url(0, "/a.jpg"), hosts.url(1, "/b.png")], document_id="l", max_images=10
    )
    request = {"plan": plan.to_json(), "source": Source.UI.value}
    # Queued on a queue no worker takes, so it is still waiting when cancelled: no summary.
    [waiting] = services.queue.store.add(
        owner, [NewJob(JobKind.IMPORT, "nowhere", request, uuid.uuid4())]
    )
    cancelled = services.queue.cancel(owner, waiting.id)
    assert cancelled.state is Status.CANCELLED and cancelled.summary is None

    again = finished(services, owner, services.retries.retry(owner, waiting.id))

    assert again.state is Status.COMPLETED and (again.summary or {})["downloaded"] == 2


def test_images_another_attempt_kept_first_are_left_to_it(
    services: Services, owner: uuid.UUID, clock: FakeClock
) -> None:
    library = services.import_library

    def stored(number: int) -> StoredImage:
        data = image_bytes("PNG", 10, 10 + number)
        origin = ImageOrigin("c", "d", "url", number, f"http://x/{number}.png", "", "x", 1, 5)
        inspected = inspect_image(data, "image/png", ImageLimits(), thumbnail_side=384)
        return library.store_files(owner, uuid.uuid4(), data, inspected, origin, clock())

    first, second = stored(1), stored(2)
    library.add_to_library(owner, [first])

    # The slower attempt's batch holds the same image, and one the other has not kept.
    library.add_to_library(owner, [first, second])

    entries = services.gallery.page(owner).entries
    assert sorted(e.id for e in entries) == sorted([first.record.id, second.record.id])
    media = first.record.media_key or ""
    assert services.gallery.media(owner, first.record.id, media) == image_bytes("PNG", 10, 11)
