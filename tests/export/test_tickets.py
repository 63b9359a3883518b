"""The Gallery's export link: a ticket signed for one owner and selection, five minutes long,
redeemed by `/api/export`, which streams that owner's archive and nobody else's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

import core.runtime
from core.auth.tokens import SigningKeys, Tickets, load_signing_keys
from core.errors import AuthenticationFailed, PermissionDenied
from core.export import (
    TICKET_EXPIRED,
    TICKET_INVALID,
    TICKET_PURPOSE,
    Exports,
    ExportSelection,
)
from core.modality import Modality
from core.services import Services
from storage.db import transaction
from storage.models import User
from tests.export.conftest import PASSWORD, folder, index_rows, make, new_user, unzip
from tests.support.clock import FakeClock
from ui.routes import EXPORT_PATH, ROUTES

pytestmark = pytest.mark.parametrize("backend", ["embedded"])

SELECTION = ExportSelection(
    ids=(uuid.uuid4(),),
    first_day=date(2026, 11, 1),
    last_day=date(2026, 11, 30),
    modalities=(Modality.IMAGE, Modality.SPEECH),
)


def _tickets(services: Services, now: Callable[[], datetime], secret: str | None = None) -> Tickets:
    keys = SigningKeys("HS256", secret, secret) if secret else load_signing_keys(services.settings)
    return Tickets(keys, issuer=services.settings.jwt_issuer, now=now)


def _disable(services: Services, user_id: uuid.UUID) -> None:
    with transaction(services.db) as db:
        db.execute(update(User).where(User.id == user_id).values(is_active=False))


def test_a_ticket_names_its_owner_and_selection(services: Services, exports: Exports) -> None:
    owner = new_user(services)

    allowed = exports.redeem(exports.ticket(owner, SELECTION))

    assert (allowed.owner, allowed.selection) == (owner, SELECTION)


def test_a_ticket_lasts_five_minutes(
    services: Services, exports: Exports, clock: FakeClock
) -> None:
    ticket = exports.ticket(new_user(services), SELECTION)

    clock.advance(minutes=4, seconds=59)
    exports.redeem(ticket)
    clock.advance(seconds=1)
    with pytest.raises(AuthenticationFailed) as expired:
        exports.redeem(ticket)
    assert str(expired.value) == TICKET_EXPIRED


def test_a_forged_or_borrowed_ticket_is_refused(
    services: Services, exports: Exports, clock: FakeClock
) -> None:
    email = "ada@example.com"
    owner = services.auth.register(email, PASSWORD, ip=None).id
    ticket = exports.ticket(owner, SELECTION)
    header, claims, signature = ticket.split(".")
    forgeries = {
        "tampered": f"{header}.{claims[:-2]}xx.{signature}",
        "unsigned": f"{header}.{claims}.",
        "another key": _tickets(services, clock, secret="z" * 40).issue(
            TICKET_PURPOSE, owner, {"selection": SELECTION.to_claims()}, ttl_seconds=60
        ),
        "another purpose": _tickets(services, clock).issue(
            "atelier:other", owner, {"selection": SELECTION.to_claims()}, ttl_seconds=60
        ),
        "an access token": services.auth.login(email, PASSWORD, ip=None).access_token,
        "nonsense": "not a ticket",
        "empty": "",
    }
    for name, forged in forgeries.items():
        with pytest.raises(PermissionDenied) as refused:
            exports.redeem(forged)
        assert str(refused.value) == TICKET_INVALID, name
    # Nor does a ticket pass for an access token.
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(ticket)


def test_a_disabled_account_s_ticket_is_refused(services: Services, exports: Exports) -> None:
    owner = new_user(services)
    ticket = exports.ticket(owner, SELECTION)
    _disable(services, owner)

    with pytest.raises(PermissionDenied, match="not valid"):
        exports.redeem(ticket)


@pytest.fixture
def browser(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app's own routes (not the API), on these services, as a browser calls them."""
    monkeypatch.setattr(core.runtime, "_services", services)
    with TestClient(Starlette(routes=ROUTES)) as client:
        yield client


def test_the_link_streams_its_owner_s_archive_and_only_theirs(
    services: Services, browser: TestClient
) -> None:
    ada, bob = new_user(services, "ada"), new_user(services, "bob")
    hers = make(services, ada, "ada's garden", data=b"garden")
    his = make(services, bob, "bob's boat")
    # Bob's ticket, naming Ada's generation as well as his own.
    ticket = services.exports.ticket(bob, ExportSelection(ids=(hers.id, his.id)))

    answer = browser.get(EXPORT_PATH, params={"ticket": ticket})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith('attachment; filename="atelier-export-')
    assert answer.headers["cache-control"] == "no-store"
    # Streamed: no length known before the last byte.
    assert "content-length" not in answer.headers
    archive = unzip([answer.content])
    assert [r["id"] for r in index_rows(archive)] == [str(his.id)]
    assert not [n for n in archive.namelist() if n.startswith(folder(hers))]


def test_a_bad_link_answers_in_plain_words(
    services: Services, browser: TestClient, clock: FakeClock
) -> None:
    owner = new_user(services)
    exports = services.exports
    old = _tickets(services, lambda: clock() - timedelta(minutes=6)).issue(
        TICKET_PURPOSE, owner, {"selection": SELECTION.to_claims()}, ttl_seconds=300
    )
    disabled = exports.ticket(owner, SELECTION)
    _disable(services, owner)

    for ticket, status, message in [
        (old, 401, TICKET_EXPIRED),
        (exports.ticket(owner, SELECTION)[:-3] + "abc", 403, TICKET_INVALID),
        (disabled, 403, TICKET_INVALID),
        (None, 403, TICKET_INVALID),
    ]:
        answer = browser.get(EXPORT_PATH, params={"ticket": ticket} if ticket else {})
        assert (answer.status_code, answer.text) == (status, message)
        assert answer.headers["content-type"].startswith("text/plain")
