"""Deleting an account in core, on both storage backends: what goes, what stays, who may, and
an attempt stopped half-way that the next one finishes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from core.account_deletion import NOT_CONFIRMED, DeletionUnfinished
from core.admin.users import LAST_ADMIN_DELETED, SELF_DELETED
from core.analytics import Scope
from core.auth.account import Account, Role
from core.auth.sessions import ACCOUNT_BEING_DELETED
from core.config import Settings
from core.errors import AuthenticationFailed, NotFound, PermissionDenied
from core.periods import Period
from core.services import Services, start_services
from storage.models import (
    ApiKey,
    AuthSession,
    Base,
    Conversation,
    Generation,
    Job,
    User,
    UserLimits,
)
from tests.accounts.library import (
    PASSWORD,
    Credentials,
    FailingDeletes,
    every_object,
    fill_library,
    usage_events,
)
from tests.support.clock import FakeClock

# Every table that points at a user, and the column that does.
OWNED = {
    Generation: Generation.user_id,
    Conversation: Conversation.user_id,
    Job: Job.owner_id,
    ApiKey: ApiKey.user_id,
    AuthSession: AuthSession.user_id,
    UserLimits: UserLimits.user_id,
}


@pytest.fixture
def root(services: Services) -> Account:
    return services.auth.register("root@example.com", PASSWORD, ip=None)


@pytest.fixture
def bob(services: Services, root: Account) -> Account:
    """Someone else, whose things must all stay."""
    bob = services.auth.register("bob@example.com", PASSWORD, ip=None)
    fill_library(services, bob, root)
    return bob


@pytest.fixture
def ada(services: Services, root: Account) -> Account:
    return services.auth.register("ada@example.com", PASSWORD, ip=None)


def _rows_of(services: Services, user_id: uuid.UUID) -> dict[str, int]:
    with services.db() as db:
        counts = {
            model.__tablename__: int(db.scalar(select(func.count()).where(column == user_id)) or 0)
            for model, column in OWNED.items()
        }
        counts["users"] = int(db.scalar(select(func.count()).where(User.id == user_id)) or 0)
    return counts


def _refused_everywhere(services: Services, ada: Account, held: Credentials) -> None:
    with pytest.raises(AuthenticationFailed, match=ACCOUNT_BEING_DELETED):
        services.auth.login(ada.email, PASSWORD, ip=None)
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(held.access_token)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(held.refresh_token)
    with pytest.raises(AuthenticationFailed, match=ACCOUNT_BEING_DELETED):
        services.api_keys.authenticate(held.api_key)


def test_deleting_an_account_removes_all_it_owns_and_keeps_its_usage_without_it(
    services: Services, root: Account, bob: Account, ada: Account
) -> None:
    kept_objects = every_object(services)
    bob_rows = _rows_of(services, bob.id)
    bob_report = services.analytics.report(bob, Period.ALL)
    held = fill_library(services, ada, root)
    events = usage_events(services)
    assert {user for user, *_ in events.values()} == {bob.id, ada.id}

    services.account_deletion.delete_own(ada, PASSWORD)

    # Media, records, inputs, thumbnails, history lines (the orphan's too), the avatar, the
    # import, the job's reference: nothing of hers is left in any bucket, and all of bob's is.
    assert every_object(services) == kept_objects
    assert set(_rows_of(services, ada.id).values()) == {0}
    assert _rows_of(services, bob.id) == bob_rows
    # Every event is still there with the same figures; hers belong to nobody now.
    after = usage_events(services)
    assert after == {
        event_id: (None if user == ada.id else user, *figures)
        for event_id, (user, *figures) in events.items()
    }
    assert services.gallery.page(ada.id).entries == []
    # Analytics answer with events that have no user: everyone's view and another user's.
    assert services.analytics.report(root, Period.ALL, scope=Scope.everyone()).kpis.generations
    assert services.analytics.report(bob, Period.ALL) == bob_report
    with pytest.raises(AuthenticationFailed):
        services.auth.login(ada.email, PASSWORD, ip=None)
    with pytest.raises(AuthenticationFailed):
        services.api_keys.authenticate(held.api_key)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(held.refresh_token)


def test_a_wrong_password_is_refused_in_plain_words_and_changes_nothing(
    services: Services, root: Account, ada: Account
) -> None:
    services.api_keys.create(ada, "script")
    with pytest.raises(AuthenticationFailed, match=NOT_CONFIRMED):
        services.account_deletion.delete_own(ada, "wrong horse 42")
    with pytest.raises(AuthenticationFailed, match=NOT_CONFIRMED):
        # An administrator confirms with their own password, not the account's.
        services.account_deletion.delete_by_admin(root, ada.id, "wrong horse 42")

    assert services.auth.login(ada.email, PASSWORD, ip=None).account.id == ada.id
    assert _rows_of(services, ada.id)["api_keys"] == 1


def test_the_last_admin_cannot_delete_their_account_until_there_is_another(
    services: Services, root: Account, ada: Account
) -> None:
    assert services.account_deletion.own_refusal(root) == LAST_ADMIN_DELETED
    with pytest.raises(PermissionDenied, match=LAST_ADMIN_DELETED):
        services.account_deletion.delete_own(root, PASSWORD)
    rows = {row.email: row.cannot_delete for row in services.admin.users(root)}
    assert rows == {"root@example.com": LAST_ADMIN_DELETED, "ada@example.com": None}

    services.admin.set_role(root, ada.id, Role.ADMIN)
    rows = {row.email: row.cannot_delete for row in services.admin.users(root)}
    # On the Admin page one's own account is not offered: it goes from the Account page.
    assert rows == {"root@example.com": SELF_DELETED, "ada@example.com": None}
    with pytest.raises(PermissionDenied, match=SELF_DELETED):
        services.account_deletion.delete_by_admin(root, root.id, PASSWORD)
    services.account_deletion.delete_own(root, PASSWORD)

    ada_now = services.auth.login(ada.email, PASSWORD, ip=None).account
    assert services.account_deletion.own_refusal(ada_now) == LAST_ADMIN_DELETED
    assert [row.email for row in services.admin.users(ada_now)] == ["ada@example.com"]


def test_only_an_admin_deletes_someone_else(
    services: Services, root: Account, ada: Account
) -> None:
    with pytest.raises(PermissionDenied):
        services.account_deletion.delete_by_admin(ada, root.id, PASSWORD)
    with pytest.raises(NotFound):
        services.account_deletion.delete_by_admin(root, uuid.uuid4(), PASSWORD)

    services.account_deletion.delete_by_admin(root, ada.id, PASSWORD)
    assert _rows_of(services, ada.id)["users"] == 0


def test_a_deletion_stopped_half_way_is_finished_by_the_next_attempt(
    services: Services,
    root: Account,
    bob: Account,
    ada: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept_objects = every_object(services)
    held = fill_library(services, ada, root)
    events = usage_events(services)
    hers = every_object(services) - kept_objects
    delete = services.objects.delete

    # The owner's attempt stops after a few files: the account is closed at once all the same.
    monkeypatch.setattr(services.objects, "delete", FailingDeletes(delete, allowed=3))
    with pytest.raises(DeletionUnfinished, match="closed"):
        services.account_deletion.delete_own(ada, PASSWORD)
    _refused_everywhere(services, ada, held)
    left = every_object(services) - kept_objects
    assert len(left) == len(hers) - 3
    assert [row.deleting for row in services.admin.users(root) if row.id == ada.id] == [True]
    with pytest.raises(PermissionDenied, match=ACCOUNT_BEING_DELETED):
        services.admin.set_active(root, ada.id, True)

    # An administrator's attempt gets further and stops again, the owner's own finishes it.
    monkeypatch.setattr(services.objects, "delete", FailingDeletes(delete, allowed=4))
    with pytest.raises(DeletionUnfinished, match="Delete it again"):
        services.account_deletion.delete_by_admin(root, ada.id, PASSWORD)
    assert len(every_object(services) - kept_objects) == len(left) - 4
    monkeypatch.setattr(services.objects, "delete", delete)
    services.account_deletion.delete_own(ada, PASSWORD)

    assert every_object(services) == kept_objects
    assert set(_rows_of(services, ada.id).values()) == {0}
    assert usage_events(services) == {
        event_id: (None if user == ada.id else user, *figures)
        for event_id, (user, *figures) in events.items()
    }


def test_a_deletion_left_unfinished_is_finished_when_the_app_starts_again(
    services: Services,
    root: Account,
    ada: Account,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept_objects = every_object(services)
    fill_library(services, ada, root)
    monkeypatch.setattr(
        services.objects, "delete", FailingDeletes(services.objects.delete, allowed=2)
    )
    with pytest.raises(DeletionUnfinished):
        services.account_deletion.delete_by_admin(root, ada.id, PASSWORD)

    restarted = start_services(make_settings(), now=clock)
    try:
        assert every_object(restarted) == kept_objects
        assert set(_rows_of(restarted, ada.id).values()) == {0}
        assert restarted.account_deletion.finish_pending() == 0
    finally:
        restarted.close()


def test_every_table_that_points_at_a_user_is_covered() -> None:
    # A new table owning user data must be deleted with the account (or say why it stays).
    pointing = {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "users"
    }
    assert pointing == {model.__tablename__ for model in OWNED} | {"usage_events"}
