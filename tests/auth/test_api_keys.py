"""Personal API keys in core, on both storage backends."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.auth.account import Role
from core.errors import InvalidInput, NotFound
from core.services import Services
from storage.db import transaction
from storage.models import User

PASSWORD = "correct horse 42"


def test_a_name_that_only_looks_filled_is_refused(services: Services) -> None:
    ada = services.auth.register("ada@example.com", PASSWORD, ip=None)
    with pytest.raises(InvalidInput, match="Give the key a name"):
        services.api_keys.create(ada, "\u200b \u200b\u2060")


def test_an_admin_demoted_since_their_page_loaded_cannot_revoke_someone_elses_key(
    services: Services,
) -> None:
    root = services.auth.register("root@example.com", PASSWORD, ip=None)
    ada = services.auth.register("ada@example.com", PASSWORD, ip=None)
    key = services.api_keys.create(ada, "laptop")
    assert root.role is Role.ADMIN
    with transaction(services.db) as db:
        db.execute(update(User).where(User.id == root.id).values(role=Role.USER))

    with pytest.raises(NotFound):
        services.api_keys.revoke(root, key.info.id)
    assert services.api_keys.authenticate(key.secret).id == ada.id
