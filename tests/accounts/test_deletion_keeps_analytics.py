"""Deleting an account leaves everyone's Analytics exactly as they were, on both backends,
while nothing of the account's words is left in the rows that keep the figures, and no
listing shows or trips over those rows."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.account_deletion import AccountDeletion, DeletionUnfinished
from core.analytics import Report, Scope
from core.auth.account import Account
from core.errors import NotFound, ProviderError
from core.generation.image import ImageOrder
from core.generation.records import (
    GenerationContext,
    GenerationFailed,
    GenerationSpec,
    ProducedMedia,
)
from core.generation.status import Status
from core.imports.library import IMPORT_PROVIDER
from core.jobs.model import Job, JobKind
from core.modality import Modality
from core.periods import Period
from core.providers.image.sketch.engine import MODEL as SKETCH_MODEL
from core.services import Services
from storage.db import transaction
from storage.models import Conversation, Generation, UsageEvent
from storage.models import Job as JobRow
from tests.accounts.library import PASSWORD, every_object, fill_library
from tests.generation.conftest import image_spec, made_image
from tests.support.image_hosts import NOT_FOUND, ImageHosts, Reply, image_bytes

# In everything Ada asks for, so a scan of the rows finds any of her words left behind.
SECRET = "quokka-zanzibar"
BUSY = "The chat API is rate limiting us. Wait a minute and try again."
NO_VOICE = "No offline voice could read this text."
WAIT = 30.0


@pytest.fixture
def root(services: Services) -> Account:
    return services.auth.register("root@example.com", PASSWORD, ip=None)


@pytest.fixture
def bob(services: Services, root: Account) -> Account:
    """Someone else, whose figures must not move."""
    bob = services.auth.register("bob@example.com", PASSWORD, ip=None)
    _sketch(services, bob, "a boat")
    _speak(services, bob, "bob says hello", seconds=3.0)
    return bob


@pytest.fixture
def ada(services: Services) -> Account:
    return services.auth.register("ada@example.com", PASSWORD, ip=None)


def _fails(message: str) -> Any:
    def produce(_context: GenerationContext) -> ProducedMedia:
        raise ProviderError(message)

    return produce


def _sketch(services: Services, owner: Account, prompt: str) -> None:
    """An image made by a job, as the Image Studio makes them."""
    order = ImageOrder(prompt, 64, 64, 7, SKETCH_MODEL, None, "sketch")
    [job] = services.jobs.submit_images(owner.id, order)
    assert services.queue.wait(owner.id, job.id, WAIT).state is Status.COMPLETED


def _speak(services: Services, owner: Account, text: str, *, seconds: float) -> None:
    spec = GenerationSpec(
        Modality.SPEECH, "test-speaker", "voice-1", text, {"text": text}, "es", "es-voice"
    )
    services.pipeline.run(
        owner.id,
        spec,
        lambda _context: ProducedMedia(
            data=b"ID3-mp3-of-" + text.encode(),
            name="audio/output.mp3",
            content_type="audio/mpeg",
            meta={"spokenBy": "test-speaker"},
            duration_seconds=seconds,
            usage_quantity=Decimal(str(seconds)),
        ),
    )


def _chat(services: Services, owner: Account, message: str) -> uuid.UUID:
    conversation = uuid.uuid4()
    with transaction(services.db) as db:
        db.add(
            Conversation(
                id=conversation,
                user_id=owner.id,
                title=message,
                provider="test-chat",
                model="tiny",
                temperature=0.7,
            )
        )
    spec = GenerationSpec(
        Modality.CHAT,
        "test-chat",
        "tiny",
        message,
        {"message": message},
        conversation_id=conversation,
    )
    services.pipeline.run(
        owner.id,
        spec,
        lambda _context: ProducedMedia(
            data=f'{{"messages": ["{message}", "An answer."]}}'.encode(),
            name="chat/conversation.json",
            content_type="application/json",
            tokens_in=12,
            tokens_out=30,
            time_to_first_token_ms=80,
            cost_usd=Decimal("0.000120"),
            usage_quantity=Decimal(30),
        ),
    )
    with pytest.raises(GenerationFailed):
        services.pipeline.run(owner.id, replace(spec, prompt=message + "?"), _fails(BUSY))
    return conversation


def _import(services: Services, owner: Account, hosts: ImageHosts) -> Job:
    """A finished import with a download, a duplicate and a failure, from documents that hold
    the owner's words (their ids, a field, the URLs' paths)."""
    documents = [
        {
            "_id": f"{SECRET}-h1",
            "note": SECRET,
            "images": [
                {"url": hosts.url(0, f"/{SECRET}.jpg")},
                {"url": hosts.url(1, f"/{SECRET}-twin.jpg")},
            ],
        },
        {"_id": f"{SECRET}-h2", "images": [{"url": hosts.url(1, "/missing.jpg")}]},
    ]
    job = services.imports.submit_documents(
        owner.id, documents, collection="hotels", id_field="_id", url_field="images[].url"
    )
    done = services.queue.wait(owner.id, job.id, WAIT)
    assert done.state is Status.COMPLETED, done
    assert (done.summary or {})["failed"] == 1 and (done.summary or {})["again"]
    return done


def _fill(services: Services, ada: Account, root: Account, hosts: ImageHosts) -> Job:
    """Completed and failed images, speech and chat, through the pipeline and the job queue,
    an import, and fill_library's avatar, pending job, conversation, keys and session."""
    fill_library(services, ada, root)
    _sketch(services, ada, f"{SECRET} lighthouse")
    with pytest.raises(GenerationFailed):
        services.pipeline.run(ada.id, image_spec(f"{SECRET} storm"), _fails("Painter is busy."))
    _speak(services, ada, f"hola {SECRET}", seconds=12.5)
    with pytest.raises(GenerationFailed):
        services.pipeline.run(
            ada.id,
            GenerationSpec(Modality.SPEECH, "test-speaker", "voice-1", SECRET, {"text": SECRET}),
            _fails(NO_VOICE),
        )
    _chat(services, ada, f"Tell me about {SECRET}")
    return _import(services, ada, hosts)


def _everyone(services: Services, root: Account) -> dict[Period, Report]:
    return {
        period: services.analytics.report(root, period, scope=Scope.everyone())
        for period in (Period.ALL, Period.DAY)
    }


def _of(services: Services, root: Account, user: Account) -> tuple[Any, ...]:
    """What the Admin page says of one user: the Analytics report, the 30-day tiles and the
    row in the list of users (minus what an admin may do, which the deletion changes)."""
    row = next(r for r in services.admin.users(root) if r.id == user.id)
    return (
        services.analytics.report(root, Period.ALL, scope=Scope.of(user.id)),
        services.admin.usage(root, user.id),
        (row.item_count, row.last_item_at),
    )


def _words_left(services: Services, words: list[str]) -> list[str]:
    """Rows of the tables that outlive the account whose text holds any of `words`."""
    found = []
    with services.db() as db:
        for model in (Generation, JobRow, UsageEvent):
            for row in db.execute(select(model.__table__)).all():
                text = repr(tuple(row))
                found += [f"{model.__tablename__}: {text}" for word in words if word in text]
    return found


@pytest.fixture
def hosts() -> Any:
    with ImageHosts(2) as running:
        jpeg = image_bytes("JPEG", 96, 64)
        running.script(f"/{SECRET}.jpg", Reply(body=jpeg))
        running.script(f"/{SECRET}-twin.jpg", Reply(body=jpeg))
        running.script("/missing.jpg", NOT_FOUND)
        yield running


def test_everyones_analytics_are_the_same_after_an_account_is_deleted(
    services: Services, root: Account, bob: Account, ada: Account, hosts: ImageHosts
) -> None:
    kept_objects = every_object(services)
    bob_gallery = services.gallery.page(bob.id).entries
    imported = _fill(services, ada, root, hosts)
    before, bob_before = _everyone(services, root), _of(services, root, bob)
    # Ada's figures are in there: the test would prove nothing otherwise.
    kpis = before[Period.ALL].kpis
    assert (kpis.generations, kpis.failures) == (2 + 10, 4)
    assert kpis.by_modality == {Modality.IMAGE: 1 + 6, Modality.SPEECH: 1 + 2, Modality.CHAT: 2}
    assert (kpis.audio_minutes, kpis.tokens_out, kpis.cost_usd) == (0.26, 30, Decimal("0.00012"))
    assert {e.reason for e in before[Period.ALL].errors} == {
        "the painter is out", "Painter is busy.", NO_VOICE, BUSY
    }  # fmt: skip
    assert before[Period.ALL].imports.jobs == 1 and before[Period.ALL].imports.failures == 1

    services.account_deletion.delete_own(ada, PASSWORD)

    assert _everyone(services, root) == before
    assert _of(services, root, bob) == bob_before
    assert every_object(services) == kept_objects
    assert _words_left(services, [SECRET, ada.email, str(ada.id), ada.id.hex]) == []
    with services.db() as db:
        kept = db.scalars(select(Generation).where(Generation.user_id.is_(None))).all()
    assert len(kept) == 10 and IMPORT_PROVIDER not in {row.provider for row in kept}
    pointers = {(row.input_key, row.record_key, row.media_key, row.conversation_id) for row in kept}
    assert pointers == {(None, None, None, None)}

    # The Gallery, the Admin page and the job listings neither show nor trip over them.
    assert services.gallery.page(ada.id).entries == []
    assert services.gallery.page(bob.id).entries == bob_gallery
    page = services.admin.generations(root)
    assert {row.email for row in page.rows} == {"bob@example.com"}
    numbered = services.admin.generation_page(root, per_page=100)
    assert numbered.total == len(numbered.rows) == 2
    with pytest.raises(NotFound):
        services.admin.open_generation(root, kept[0].id)
    assert [job.owner_id for job in services.queue.listing(None)] == [bob.id]
    assert services.queue.listing(ada.id, kinds=[JobKind.IMPORT]) == []
    with pytest.raises(NotFound):
        services.queue.get(None, imported.id)
    assert services.queue.counts().total(Status.COMPLETED) == 2


def test_a_generation_a_job_finishes_during_the_deletion_is_let_go_of_by_the_next_attempt(
    services: Services,
    root: Account,
    ada: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept_objects = every_object(services)
    services.pipeline.run(ada.id, image_spec(f"{SECRET} early"), made_image)
    deletion = services.account_deletion
    steps = AccountDeletion._delete_job_references

    def then_a_running_job_finishes(self: AccountDeletion, *args: Any) -> None:
        # After the generations were let go of: what a job still stopping may write.
        services.pipeline.run(ada.id, image_spec(f"{SECRET} late"), made_image)
        steps(self, *args)

    monkeypatch.setattr(AccountDeletion, "_delete_job_references", then_a_running_job_finishes)
    with pytest.raises(DeletionUnfinished, match="still finishing"):
        deletion.delete_own(ada, PASSWORD)
    monkeypatch.setattr(AccountDeletion, "_delete_job_references", steps)
    deletion.delete_by_admin(root, ada.id, PASSWORD)

    assert services.analytics.report(root, Period.ALL, scope=Scope.everyone()).kpis.generations == 2
    assert every_object(services) == kept_objects
    assert _words_left(services, [SECRET, str(ada.id), ada.id.hex]) == []
