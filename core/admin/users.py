"""Accounts for an administrator: the list, role and access changes, and each one's usage.
Deleting one is `core.account_deletion`'s job; who may be deleted is decided here, with the
other refusals.

Changes take an advisory lock and check the actor again inside the transaction, so two
administrators demoting each other at once cannot leave nobody in charge.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.analytics import Kpis, Scope, daily_usage, totals
from core.anonymous import ANONYMOUS_USER_ID
from core.auth.account import Account, Role
from core.auth.sessions import ACCOUNT_BEING_DELETED, RefreshSessions
from core.errors import NotFound, PermissionDenied
from core.periods import Window
from core.permissions import require_admin, require_current_admin
from storage.db import lock_for_transaction, transaction
from storage.models import Generation, User
from storage.text_search import contains_text

log = logging.getLogger(__name__)

USAGE_DAYS = 30
NO_SUCH_USER = "There is no such user."
LAST_ADMIN_DEMOTED = (
    "This is the last active administrator. Make someone else an administrator first."
)
SELF_DEMOTED = "You cannot remove your own administrator role. Ask another administrator to do it."
LAST_ADMIN_DISABLED = "The last active administrator cannot be disabled."
SELF_DISABLED = "You cannot disable your own account. Ask another administrator."
LAST_ADMIN_DELETED = (
    "This is the last active administrator, so the account cannot be deleted. "
    "Make someone else an administrator first."
)
SELF_DELETED = "Delete your own account on the Account page."


@dataclass(frozen=True)
class AdminUserRow:
    id: uuid.UUID
    email: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    # Every row the account owns, ever: generations (failed included) and imported images.
    # Leaving imports out would visit each row in the table (no index holds the provider next
    # to the user), so the page names the column for what it counts instead.
    item_count: int
    last_item_at: datetime | None
    # Its deletion began and did not finish: only deleting it again is left to do.
    deleting: bool
    # Why the actor who listed the accounts may not do this; None when they may.
    cannot_demote: str | None
    cannot_disable: str | None
    cannot_delete: str | None


class UserManagement:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        refresh: RefreshSessions,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._refresh = refresh
        self._now = now

    def user_emails(self, actor: Account) -> dict[uuid.UUID, str]:
        """Every account's email by id, sorted by email: the choices of the user filter."""
        require_admin(actor)
        with self._sessions() as db:
            rows = db.execute(select(User.id, User.email).order_by(User.email)).all()
        return {user_id: email for user_id, email in rows}

    def users(self, actor: Account, *, email: str = "", limit: int = 500) -> list[AdminUserRow]:
        """Accounts by email, with how much each has generated and what the actor may not do."""
        require_admin(actor)
        count = (
            select(func.count())
            .where(Generation.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
        last = (
            select(func.max(Generation.created_at))
            .where(Generation.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
        # The anonymous owner is not a person to manage; its generations are listed all the same.
        query = (
            select(User, count, last)
            .where(User.id != ANONYMOUS_USER_ID)
            .order_by(User.email)
            .limit(max(1, limit))
        )
        # Emails are stored lower-cased, so a plain LIKE on the lowered needle ignores case.
        if needle := email.strip().lower():
            query = query.where(contains_text(User.email, needle))
        with self._sessions() as db:
            rows = db.execute(query).all()
            admins = active_admins(db)
        return [
            AdminUserRow(
                id=user.id,
                email=user.email,
                role=Role(user.role),
                is_active=user.is_active,
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                item_count=int(items or 0),
                last_item_at=_aware(latest),
                deleting=user.deleting_since is not None,
                cannot_demote=_demotion_refusal(actor, user, admins),
                cannot_disable=_disabling_refusal(actor, user, admins),
                cannot_delete=admin_deletion_refusal(actor, user, admins),
            )
            for user, items, latest in rows
        ]

    def set_role(self, actor: Account, user_id: uuid.UUID, role: Role) -> None:
        require_admin(actor)
        with transaction(self._sessions) as db:
            user = self._target(db, actor, user_id)
            if user.role == role.value:
                return
            if role is not Role.ADMIN and (
                refusal := _demotion_refusal(actor, user, active_admins(db))
            ):
                raise PermissionDenied(refusal)
            user.role = role.value
            user.updated_at = self._now()
        log.info(
            "role changed",
            extra={"actor_id": str(actor.id), "user_id": str(user_id), "role": role.value},
        )

    def set_active(self, actor: Account, user_id: uuid.UUID, active: bool) -> None:
        """Enable or disable an account; disabling ends all its sessions at once."""
        require_admin(actor)
        with transaction(self._sessions) as db:
            user = self._target(db, actor, user_id)
            if not active:
                if refusal := _disabling_refusal(actor, user, active_admins(db)):
                    raise PermissionDenied(refusal)
                # Same transaction: the account is never disabled with a session still live.
                self._refresh.revoke_user(db, user.id, "account-disabled")
            user.is_active = active
            user.updated_at = self._now()
        log.info(
            "account enabled" if active else "account disabled",
            extra={"actor_id": str(actor.id), "user_id": str(user_id)},
        )

    def usage(self, actor: Account, user_id: uuid.UUID, *, days: int = USAGE_DAYS) -> Kpis:
        """A user's totals over the last `days` days, counted as the Analytics page counts."""
        require_admin(actor)
        since = self._now() - timedelta(days=days)
        with self._sessions() as db:
            if db.get(User, user_id) is None:
                raise NotFound(NO_SUCH_USER)
            return totals(daily_usage(db, Window(since, None), Scope.of(user_id)))

    def _target(self, db: Session, actor: Account, user_id: uuid.UUID) -> User:
        # The actor's role is checked again inside the transaction: it may have just changed.
        lock_for_transaction(db, "admins")
        require_current_admin(db, actor)
        user = db.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        # Enabling it again, or any other change, would undo the refusals deleting relies on.
        if user.deleting_since is not None:
            raise PermissionDenied(ACCOUNT_BEING_DELETED)
        return user


def _demotion_refusal(actor: Account, user: User, active_admins: int) -> str | None:
    """Why `actor` may not take `user`'s administrator role away; None when they may."""
    if user.role != Role.ADMIN:
        return None
    if user.is_active and active_admins <= 1:
        return LAST_ADMIN_DEMOTED
    if user.id == actor.id:
        return SELF_DEMOTED
    return None


def _disabling_refusal(actor: Account, user: User, active_admins: int) -> str | None:
    """Why `actor` may not disable `user`; None when they may."""
    if user.role == Role.ADMIN and user.is_active and active_admins <= 1:
        return LAST_ADMIN_DISABLED
    if user.id == actor.id:
        return SELF_DISABLED
    return None


def deletion_refusal(user: User, active_admins: int) -> str | None:
    """Why nobody may delete `user` now (the owner included); None when the account may go."""
    if user.role == Role.ADMIN and user.is_active and active_admins <= 1:
        return LAST_ADMIN_DELETED
    return None


def admin_deletion_refusal(actor: Account, user: User, active_admins: int) -> str | None:
    """Why `actor` may not delete `user` from the Admin page; None when they may."""
    if refusal := deletion_refusal(user, active_admins):
        return refusal
    # An administrator's own account goes where everyone's does, and signs them out there.
    if user.id == actor.id:
        return SELF_DELETED
    return None


def active_admins(db: Session) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        )
        or 0
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate bypasses the column type: SQLite hands back text, PostgreSQL a datetime."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
