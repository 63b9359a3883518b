"""Migration 0008 on a database that already has usage, on both backends: events outlive
their user from then on, generations and jobs may be let go of by their owner (and still go
with a user row deleted while they have one), no event loses its generation on the way, and
going back drops only what nobody owns."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Engine,
    Integer,
    Numeric,
    String,
    TableClause,
    Uuid,
    column,
    delete,
    func,
    insert,
    select,
    table,
    update,
)

from storage.db import create_db_engine
from storage.migrate import alembic_config, upgrade_to_head
from storage.models import UTCDateTime
from tests.support.postgres import temporary_database


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "embedded":
        built = create_db_engine(f"sqlite:///{tmp_path / 'atelier.db'}")
        yield built
        built.dispose()
        return
    with temporary_database() as url:
        built = create_db_engine(url)
        yield built
        built.dispose()


# The tables as revision 0007 left them, only the columns written here.
USERS = table(
    "users",
    column("id", Uuid()),
    column("email", String()),
    column("password_hash", String()),
    column("role", String()),
    column("is_active", Boolean()),
    column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)
EVENTS = table(
    "usage_events",
    column("id", Integer()),
    column("user_id", Uuid()),
    column("generation_id", Uuid()),
    column("event_type", String()),
    column("quantity", Numeric()),
    column("cost_usd", Numeric()),
    column("created_at", UTCDateTime()),
    column("metadata", JSON()),
)


GENERATIONS = table(
    "generations",
    column("id", Uuid()),
    column("user_id", Uuid()),
    column("modality", String()),
    column("provider", String()),
    column("model", String()),
    column("status", String()),
    column("prompt", String()),
    column("s3_bucket", String()),
    column("cost_usd", Numeric()),
    column("created_at", UTCDateTime()),
    column("metadata", JSON()),
)
JOBS = table(
    "jobs",
    column("id", Uuid()),
    column("owner_id", Uuid()),
    column("kind", String()),
    column("queue", String()),
    column("request", JSON()),
    column("state", String()),
    column("progress", Numeric()),
    column("progress_message", String()),
    column("attempts", Integer()),
    column("cancel_requested", Boolean()),
    column("generation_ids", JSON()),
    column("created_at", UTCDateTime()),
)


def _add_user_with_event(engine: Engine) -> uuid.UUID:
    user_id, now = uuid.uuid4(), datetime.now(UTC)
    with engine.begin() as db:
        db.execute(
            insert(USERS).values(
                id=user_id,
                email=f"{user_id.hex}@example.com",
                password_hash="x",
                role="user",
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
        db.execute(
            insert(EVENTS).values(
                user_id=user_id,
                event_type="generation.completed",
                quantity=1,
                cost_usd=0.5,
                created_at=now,
                metadata={},
            )
        )
    return user_id


def _event_owners(engine: Engine) -> list[uuid.UUID | None]:
    with engine.connect() as db:
        return list(db.scalars(select(EVENTS.c.user_id).order_by(EVENTS.c.id)))


def _add_generation_and_job(engine: Engine, user_id: uuid.UUID) -> uuid.UUID:
    """A generation with its usage event, and a job, of `user_id`."""
    generation_id, now = uuid.uuid4(), datetime.now(UTC)
    with engine.begin() as db:
        db.execute(
            insert(GENERATIONS).values(
                id=generation_id,
                user_id=user_id,
                modality="image",
                provider="sketch",
                model="sketch-v2",
                status="completed",
                prompt="a fox",
                s3_bucket="image",
                cost_usd=0,
                created_at=now,
                metadata={},
            )
        )
        db.execute(
            insert(EVENTS).values(
                user_id=user_id,
                generation_id=generation_id,
                event_type="generation.completed",
                quantity=1,
                cost_usd=0,
                created_at=now,
                metadata={},
            )
        )
        db.execute(
            insert(JOBS).values(
                id=uuid.uuid4(),
                owner_id=user_id,
                kind="import",
                queue="io",
                request={},
                state="completed",
                progress=1,
                progress_message="",
                attempts=1,
                cancel_requested=False,
                generation_ids=[],
                created_at=now,
            )
        )
    return generation_id


def _count(engine: Engine, owned: TableClause, owner: ColumnElement[Any]) -> tuple[int, int]:
    """Rows with an owner, and rows without one."""
    with engine.connect() as db:
        total = db.scalar(select(func.count()).select_from(owned)) or 0
        nobody = db.scalar(select(func.count()).select_from(owned).where(owner.is_(None))) or 0
    return total - nobody, nobody


def test_generations_and_jobs_can_be_let_go_of_after_0008_and_keep_their_events(
    engine: Engine,
) -> None:
    command.upgrade(alembic_config(engine), "0007")
    let_go, stays, gone = (_add_user_with_event(engine) for _ in range(3))
    made = {user: _add_generation_and_job(engine, user) for user in (let_go, stays, gone)}

    upgrade_to_head(engine)
    with engine.connect() as db:
        links = dict(db.execute(select(EVENTS.c.generation_id, EVENTS.c.user_id)).all())
    # SQLite copies the generations table to change it: the events still point at theirs.
    assert {generation: links.get(generation) for generation in made.values()} == {
        generation: user for user, generation in made.items()
    }
    with engine.begin() as db:
        db.execute(update(GENERATIONS).where(GENERATIONS.c.user_id == let_go).values(user_id=None))
        db.execute(update(JOBS).where(JOBS.c.owner_id == let_go).values(owner_id=None))
        db.execute(delete(USERS).where(USERS.c.id.in_([let_go, gone])))
    # What was let go of stays; what still had its owner went with the user row.
    assert _count(engine, GENERATIONS, GENERATIONS.c.user_id) == (1, 1)
    assert _count(engine, JOBS, JOBS.c.owner_id) == (1, 1)

    command.downgrade(alembic_config(engine), "0007")
    assert _count(engine, GENERATIONS, GENERATIONS.c.user_id) == (1, 0)
    assert _count(engine, JOBS, JOBS.c.owner_id) == (1, 0)
    with engine.connect() as db:
        events = db.execute(
            select(EVENTS.c.user_id, EVENTS.c.generation_id).order_by(EVENTS.c.id)
        ).all()
        assert [tuple(event) for event in events] == [
            (stays, None),
            (stays, made[stays]),
        ]
    upgrade_to_head(engine)


def test_events_keep_counting_without_their_user_after_0008(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0007")
    gone, stays = _add_user_with_event(engine), _add_user_with_event(engine)

    upgrade_to_head(engine)
    with engine.begin() as db:
        db.execute(delete(USERS).where(USERS.c.id == gone))
    assert _event_owners(engine) == [None, stays]

    command.downgrade(alembic_config(engine), "0007")
    assert _event_owners(engine) == [stays]
    upgrade_to_head(engine)
