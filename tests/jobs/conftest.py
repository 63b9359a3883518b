from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.auth.account import Account
from core.generation.image import ImageOrder
from core.services import Services
from storage.models import Generation

PASSWORD = "correct horse 42"


@pytest.fixture
def account(services: Services) -> Account:
    """The first account, so an administrator too."""
    return services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None)


@pytest.fixture
def user_id(account: Account) -> uuid.UUID:
    return account.id


def new_user(services: Services) -> uuid.UUID:
    return services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None).id


def sketch(prompt: str = "a lighthouse", seed: int | None = 7, **changes: Any) -> ImageOrder:
    values: dict[str, Any] = {
        "prompt": prompt,
        "width": 64,
        "height": 64,
        "seed": seed,
        "model": "sketch-v2",
        "style": None,
        "provider": "sketch",
    }
    return ImageOrder(**(values | changes))


def rows(services: Services, user_id: uuid.UUID) -> list[Generation]:
    with services.db() as db:
        return list(db.scalars(select(Generation).where(Generation.user_id == user_id)))
