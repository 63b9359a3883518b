"""The Import page through AppTest: what a user sees after each form, with the real queue and
its embedded workers downloading from local image hosts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.generation.status import Status
from core.jobs.model import Job, JobKind
from core.services import Services
from tests.support.image_hosts import ImageHosts, Reply, image_bytes
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"
EMAIL = "ada@example.com"
PASTE_FORM = "import_urls"
UPLOAD_FORM = "import_collection"


@pytest.fixture(autouse=True)
def _private_hosts_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Autouse fixtures come first, so the services that `app` builds read this: the image
    # hosts below are loopback addresses.
    monkeypatch.setenv("IMPORT_ALLOW_PRIVATE_NETWORKS", "true")


@pytest.fixture
def hosts() -> Iterator[ImageHosts]:
    with ImageHosts(2) as running:
        running.script("/kite.jpg", Reply(body=image_bytes("JPEG", 64, 48)))
        running.script("/boat.jpg", Reply(body=image_bytes("JPEG", 80, 48)))
        yield running


@pytest.fixture
def owner(app_services: Services) -> uuid.UUID:
    return app_services.auth.register(EMAIL, PASSWORD, ip=None).id


@pytest.fixture
def import_page(app: AppTest, owner: uuid.UUID) -> AppTest:
    return log_in(app, EMAIL, PASSWORD).switch_page("../pages/imports.py").run()


def _imports(app_services: Services, owner: uuid.UUID) -> list[Job]:
    return app_services.queue.listing(owner, kinds=[JobKind.IMPORT])


def _submit(at: AppTest, form: str) -> AppTest:
    next(b for b in at.button if b.label == "Import" and b.form_id == form).click()
    return at.run()


def _errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def _markdown(at: AppTest) -> str:
    return " | ".join(str(m.value) for m in at.markdown)


def _when_ended(at: AppTest, app_services: Services, job: Job) -> AppTest:
    ended = app_services.queue.wait(job.owner_id, job.id, 30)
    assert ended.state not in (Status.PENDING, Status.RUNNING), ended
    return at.run()


def _documents(hosts: ImageHosts) -> bytes:
    return json.dumps(
        [
            {"_id": "h1", "city": "Lisbon", "photo": hosts.url(0, "/kite.jpg")},
            {"_id": "h2", "city": "Porto", "photo": hosts.url(1, "/missing.jpg")},
            {"_id": "h3", "city": "Lisbon", "photo": hosts.url(1, "/boat.jpg")},
        ]
    ).encode()


def test_an_empty_paste_says_so_and_queues_nothing(
    import_page: AppTest, app_services: Services, owner: uuid.UUID
) -> None:
    at = _submit(import_page, PASTE_FORM)

    assert _errors(at) == ["Paste at least one image URL."]
    assert _imports(app_services, owner) == []
    assert "Import into" not in _markdown(at)


def test_a_pasted_list_queues_one_import_shown_as_a_card(
    import_page: AppTest, app_services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    urls = f"{hosts.url(0, '/kite.jpg')}\n{hosts.url(1, '/missing.jpg')}"
    next(t for t in import_page.text_area if t.label == "Image URLs").input(urls)
    at = _submit(import_page, PASTE_FORM)

    assert not _errors(at), _errors(at)
    assert [t.value for t in at.toast] == ["Import queued."]
    [job] = _imports(app_services, owner)
    # Waiting, running or done already: the card names the import whatever its state.
    assert "Import into “pasted” · 2 images" in _markdown(at)

    at = _when_ended(at, app_services, job)
    assert "✅ Done" in _markdown(at)
    assert "**1** of 2 imported · **1** failed" in _markdown(at)
    assert not _errors(at), _errors(at)


def test_an_upload_with_a_filter_queues_only_the_matching_documents(
    import_page: AppTest, app_services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    import_page.file_uploader[0].set_value(("hotels.json", _documents(hosts), "application/json"))
    next(t for t in import_page.text_area if t.label == "Only documents where").input("city=Lisbon")
    at = _submit(import_page, UPLOAD_FORM)

    assert not _errors(at), _errors(at)
    [job] = _imports(app_services, owner)
    # The collection is named after the file when left blank.
    assert "Import into “hotels” · 2 images" in _markdown(at)
    at = _when_ended(at, app_services, job)
    assert "**2** of 2 imported · **0** failed" in _markdown(at)


def test_a_filter_line_without_an_equals_sign_is_refused(
    import_page: AppTest, app_services: Services, owner: uuid.UUID, hosts: ImageHosts
) -> None:
    import_page.file_uploader[0].set_value(("hotels.json", _documents(hosts), "application/json"))
    filters = next(t for t in import_page.text_area if t.label == "Only documents where")
    filters.input("city Lisbon")
    at = _submit(import_page, UPLOAD_FORM)

    assert _errors(at) == ["Filter line 1 needs the form field=value."]
    assert _imports(app_services, owner) == []


def test_the_upload_tab_without_a_file_asks_for_one(
    import_page: AppTest, app_services: Services, owner: uuid.UUID
) -> None:
    at = _submit(import_page, UPLOAD_FORM)

    assert _errors(at) == ["Choose a file of documents first."]
    assert _imports(app_services, owner) == []
