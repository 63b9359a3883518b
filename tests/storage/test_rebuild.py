"""Rebuilding the database from the object store, and checking the two, on PostgreSQL + SeaweedFS.

A small history is made through the real studios (offline sketches, espeak-ng speech, chat
through a fake OpenAI server, an import from a loopback image host); then the tables are wiped
or damaged on purpose, and what Analytics, Admin, the Gallery and the chat list answer is
compared with what they answered before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from core.analytics import Scope
from core.auth.account import Account
from core.config import Settings
from core.generation.image import ImageOrder
from core.generation.records import GenerationFailed, GenerationRecord
from core.generation.speech import SpeechOrder
from core.history import index_prefix
from core.modality import Modality
from core.periods import Period
from core.rebuild import Drift, Mode, StoreRebuild, Summary
from core.services import Services, start_services
from storage.db import transaction
from storage.models import Conversation, Generation, UsageEvent, User
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events, error_reply
from tests.support.image_hosts import ImageHosts, image_bytes
from tests.support.image_hosts import Reply as HostReply

# The production stack; the rebuild itself also runs once on the embedded SQLite + folder.
on_stack = pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse 42"
GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class History:
    admin: Account
    ada: uuid.UUID
    bob: uuid.UUID
    images: list[GenerationRecord]
    speech: GenerationRecord
    # Two answered exchanges of one conversation.
    exchanges: list[GenerationRecord]
    # A conversation whose only exchange failed.
    failed_chat: GenerationRecord
    imported: uuid.UUID

    @property
    def people(self) -> list[uuid.UUID]:
        return [self.admin.id, self.ada, self.bob]


@pytest.fixture
def app(
    make_settings: Callable[..., Settings], fake_api: FakeOpenAI, clock: FakeClock
) -> Iterator[Services]:
    settings = make_settings(
        **fake_api.app_settings,
        chat_api_price_input_per_million_tokens=Decimal("2.5"),
        chat_api_price_output_per_million_tokens=Decimal("10"),
    )
    built = start_services(settings, now=clock)
    yield built
    built.close()


@pytest.fixture
def history(app: Services, fake_api: FakeOpenAI, clock: FakeClock) -> History:
    admin = app.auth.register("admin@example.com", PASSWORD, ip=None)
    ada = app.auth.register("ada@example.com", PASSWORD, ip=None).id
    bob = app.auth.register("bob@example.com", PASSWORD, ip=None).id
    images = []
    for owner, prompt in [(ada, "A lighthouse at dusk"), (ada, "A fox"), (bob, "A red kite")]:
        images.append(app.images.generate(owner, _sketch(prompt)))
        clock.advance(minutes=1)
    speech = app.speech.synthesize(
        ada,
        SpeechOrder(
            text="Hola, esto es una prueba.", language="es", slow=False, provider="offline"
        ),
    )
    fake_api.enqueue(
        Reply(events=answer_events(["Par", "is."], usage=(1000, 200))),
        Reply(events=answer_events(["Lyon."], usage=(1200, 100))),
        error_reply(500, "the model crashed"),
    )
    state = app.chat.new_conversation(provider="openai")
    exchanges = []
    for message in ["Capital of France?", "And its second city?"]:
        clock.advance(minutes=1)
        state, answer = app.chat.answer(
            ada, state, message, on_text=lambda _: None, cancel=threading.Event()
        )
        exchanges.append(answer.record)
    clock.advance(minutes=1)
    with pytest.raises(GenerationFailed) as failure:
        app.chat.answer(
            bob,
            app.chat.new_conversation(provider="openai"),
            "Tell me a story",
            on_text=lambda _: None,
            cancel=threading.Event(),
        )
    with ImageHosts(1) as hosts:
        hosts.script("/cat.jpg", HostReply(body=image_bytes("JPEG", 640, 480)))
        job = app.imports.submit_urls(bob, [hosts.url(0, "/cat.jpg")])
        done = app.queue.wait(bob, job.id, 30)
    [imported] = done.generation_ids
    return History(admin, ada, bob, images, speech, exchanges, failure.value.record, imported)


def _sketch(prompt: str) -> ImageOrder:
    return ImageOrder(
        prompt=prompt,
        width=256,
        height=192,
        seed=7,
        model="sketch-v2",
        style=None,
        provider="sketch",
    )


def answers(app: Services, history: History) -> dict[str, Any]:
    """What Analytics, Admin, the Gallery and the chat list say, and the rows themselves."""
    admin = history.admin
    with app.db() as db:
        rows = db.scalars(select(Generation).order_by(Generation.id)).all()
        events = db.scalars(select(UsageEvent).order_by(UsageEvent.generation_id)).all()
        conversations = db.scalars(select(Conversation).order_by(Conversation.id)).all()
    return {
        "analytics": app.analytics.report(admin, Period.ALL, scope=Scope.everyone()),
        "analytics_per_user": [
            app.analytics.report(admin, Period.ALL, scope=Scope.of(u)) for u in history.people
        ],
        "admin_users": app.admin.users(admin),
        "admin_usage": [app.admin.usage(admin, u) for u in history.people],
        "admin_generations": app.admin.generations(admin, limit=500),
        # Everything an opened generation shows but its signed link (signed anew each time).
        "admin_opened": [
            replace(app.admin.open_generation(admin, row.id), signed_url=None) for row in rows
        ],
        "gallery": [app.gallery.page(u) for u in history.people],
        "conversations": [app.chat.conversations(u) for u in history.people],
        "rows": [_columns(row) for row in rows],
        "events": [_columns(event, but={"id"}) for event in events],
        "conversation_rows": [_columns(c) for c in conversations],
    }


def _columns(row: Any, but: Collection[str] = ()) -> dict[str, Any]:
    return {
        a.key: getattr(row, a.key) for a in type(row).__mapper__.column_attrs if a.key not in but
    }


def wipe(app: Services) -> None:
    with transaction(app.db) as db:
        db.execute(delete(UsageEvent))
        db.execute(delete(Generation))
        db.execute(delete(Conversation))


def run(app: Services, mode: Mode) -> Summary:
    return StoreRebuild.of(app).run(mode, grace=GRACE)


@pytest.mark.parametrize("backend", ["postgres-s3", "embedded"], indirect=True)
def test_a_wiped_or_partial_database_is_rebuilt_and_every_page_answers_as_before(
    app: Services, history: History
) -> None:
    before = answers(app, history)
    wipe(app)

    summary = run(app, Mode.REBUILD)

    # 3 sketches, a speech, 3 chat exchanges (one failed), an import; 2 conversations.
    assert summary.to_json()["created"] == {
        "generations": 8,
        "usage_events": 8,
        "conversations": 2,
    }
    assert answers(app, history) == before
    assert run(app, Mode.REBUILD).created.total() == 0
    assert answers(app, history) == before

    # A partial database: two rows gone with their events, two events alone, a conversation.
    lost = [history.images[0].id, history.failed_chat.id]
    with transaction(app.db) as db:
        db.execute(
            delete(UsageEvent).where(
                UsageEvent.generation_id.in_([*lost, history.speech.id, history.imported])
            )
        )
        db.execute(delete(Generation).where(Generation.id.in_(lost)))
        db.execute(delete(Conversation).where(Conversation.user_id == history.bob))
    summary = run(app, Mode.REBUILD)

    # The two rows with their events, the speech's event, the import's row with its event.
    assert summary.to_json()["created"] == {
        "generations": 2,
        "usage_events": 4,
        "conversations": 1,
    }
    assert answers(app, history) == before


@on_stack
def test_each_kind_of_drift_is_named_and_repair_fixes_what_it_can(
    app: Services, history: History
) -> None:
    lost_row, half_deleted, gone_media = history.images
    unlisted = history.exchanges[1]
    [imported] = [e for e in app.gallery.page(history.bob).entries if e.id == history.imported]
    speech_record = json.loads(_get(app, history.speech, history.speech.record_key))
    chat_lines = _lines(app, history.ada, Modality.CHAT)
    before = answers(app, history)
    # A row lost; a record lost; a media file lost; an exchange's line lost; an import's line
    # lost; and a gallery delete that stopped after the line and the files went.
    with transaction(app.db) as db:
        db.execute(delete(Generation).where(Generation.id == lost_row.id))
    app.objects.delete(history.speech.bucket, history.speech.record_key)
    app.objects.delete(gone_media.bucket, gone_media.media_key or "")
    app.history.remove(history.ada, Modality.CHAT, [unlisted.id], unlisted.created_at.date())
    app.history.remove(history.bob, Modality.IMAGE, [imported.id], imported.created_at.date())
    day = half_deleted.created_at.date()
    app.history.remove(history.ada, Modality.IMAGE, [half_deleted.id], day)
    folder = half_deleted.record_key.removesuffix("record.json")
    for info in list(app.objects.list_objects(half_deleted.bucket, folder)):
        app.objects.delete(half_deleted.bucket, info.key)

    found = run(app, Mode.CHECK)

    assert found.to_json()["drift"] == {
        "rows_without_records": 3,
        "records_without_rows": 1,
        "index_lines_without_media": 1,
        "media_without_index_lines": 1,
        "rows_without_usage_events": 0,
        "conversations_without_rows": 0,
    }
    assert {kind: sorted(ids) for kind, ids in found.examples.items()} == {
        Drift.ROWS_WITHOUT_RECORDS: sorted(
            str(i) for i in (history.speech.id, half_deleted.id, imported.id)
        ),
        Drift.RECORDS_WITHOUT_ROWS: [str(lost_row.id)],
        Drift.INDEX_LINES_WITHOUT_MEDIA: [str(gone_media.id)],
        Drift.MEDIA_WITHOUT_INDEX_LINES: [str(unlisted.id)],
    }

    repaired = run(app, Mode.REPAIR).to_json()

    assert repaired["created"] == {"generations": 1, "usage_events": 1, "conversations": 0}
    assert repaired["repaired"] == {
        "records_written_back": 1,
        "rows_deleted": 1,
        "index_lines_added": 2,
        "index_lines_removed": 1,
    }
    assert repaired["left"] == {}
    assert run(app, Mode.CHECK).drift_total == 0
    # The lost row is back as it was, the half-deleted generation's row is gone; the record
    # is back from its row (which keeps the duration to the hundredth); the lines are back;
    # the image whose file is gone is no longer offered in the Gallery, and still counted.
    rows = answers(app, history)["rows"]
    assert rows == [row for row in before["rows"] if row["id"] != half_deleted.id]
    speech_record["usage"]["durationSeconds"] = round(speech_record["usage"]["durationSeconds"], 2)
    assert json.loads(_get(app, history.speech, history.speech.record_key)) == speech_record
    assert _lines(app, history.ada, Modality.CHAT) == chat_lines
    # The library writes an import's line again from its row, with the row's facts in it.
    assert _line_ids(app, history.bob, Modality.IMAGE) == {history.imported}


@on_stack
def test_recent_work_and_absent_owners_are_left_alone(
    app: Services, history: History, clock: FakeClock
) -> None:
    wipe(app)
    # Everything was made within the last ten minutes of the clock: the app may still be
    # writing it.
    recent = StoreRebuild.of(app, now=clock).run(Mode.REBUILD, grace=GRACE)

    assert recent.created.total() == 0 and recent.skipped == {"recent": 8}

    with transaction(app.db) as db:
        db.execute(update(User).where(User.id == history.ada).values(deleting_since=clock()))
        db.execute(delete(User).where(User.id == history.bob))

    absent = run(app, Mode.REBUILD)

    # Ada's account is being deleted (5 generations), Bob's is gone (2 records; his import
    # line is in a history nobody owns now); neither comes back.
    assert absent.created.total() == 0
    assert absent.skipped == {"users_being_deleted": 5, "unknown_users": 2}


@on_stack
def test_the_command_line_checks_and_prints_a_json_summary(app: Services, history: History) -> None:
    settings = app.settings
    names = ["database_url", "s3_endpoint_url", "s3_access_key", "data_dir", "jwt_algorithm"]
    names += [f"s3_bucket_{kind}" for kind in ("image", "speech", "chat", "imports")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "DATABASE_", "JWT_"))}
    env |= {name.upper(): str(getattr(settings, name)) for name in names} | {
        "S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "JWT_SECRET": settings.jwt_secret.get_secret_value(),
    }

    done = subprocess.run(
        [sys.executable, "-m", "storage.rebuild", "--check", "--grace-minutes", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )

    # What the app wrote has no drift: exit 0, and every kind counted 0.
    assert done.returncode == 0, done.stderr.decode()
    summary = json.loads(done.stdout)
    assert summary["mode"] == "check"
    assert summary["drift"] == dict.fromkeys([kind.value for kind in Drift], 0)
    # Records: 3 sketches, a speech, 3 exchanges; lines: the 6 completed and the import.
    assert summary["seen"] == {"records": 7, "index_lines": 7, "rows": 8}
    assert summary["skipped"] == {} and summary["seconds"] > 0


def _get(app: Services, record: GenerationRecord, key: str) -> bytes:
    return app.objects.get(record.bucket, key).data


def _lines(app: Services, owner: uuid.UUID, modality: Modality) -> set[bytes]:
    """Every line of one of the owner's history indexes, across its day files."""
    bucket = app.settings.bucket_for(modality)
    lines: set[bytes] = set()
    for info in app.objects.list_objects(bucket, index_prefix(owner, modality)):
        lines |= set(app.objects.get(bucket, info.key).data.splitlines())
    return lines


def _line_ids(app: Services, owner: uuid.UUID, modality: Modality) -> set[uuid.UUID]:
    return {uuid.UUID(json.loads(line)["id"]) for line in _lines(app, owner, modality)}
