"""Core services on a running test server's own settings: its database, buckets and signing
keys, for the few facts a test sets up or checks that no HTTP route offers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.auth.account import Account
from core.config import Settings
from core.services import Services, build_services
from storage.models import User
from tests.support.app_server import AppServer


@contextmanager
def server_services(server: AppServer) -> Iterator[Services]:
    fields = {name.upper(): name for name in Settings.model_fields}
    values: dict[str, Any] = {
        fields[key]: value for key, value in server.env.items() if key in fields
    }
    built = build_services(Settings(_env_file=None, **values))
    try:
        yield built
    finally:
        built.close()


def account_of(services: Services, user_id: uuid.UUID) -> Account:
    """The account as core sees it, without a token (a session-wide caller's may be old)."""
    with services.db() as db:
        user = db.get(User, user_id)
        assert user is not None
        return Account.of(user)
