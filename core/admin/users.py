"""Accounts for an administrator: the list, role and access changes, and each one's usage.

Changes take an advisory lock and check the actor again inside the transaction, so two
administrators demoting each other at once cannot leave nobody in charge.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.analytics import Scope, daily_usage
from core.anonymous import ANONYMOUS_USER_ID
from core.auth.account import Account, Role
from core.auth.sessions import RefreshSessions
from core.errors import NotFound, PermissionDenied
from core.modality import Modality
from core.periods import Window
from core.permissions import require_admin, require_current_admin
from storage.db import lock_for_transaction, transaction
from storage.models import Generation, User
from storage.text_search import contains_text

log = logging.getLogger(__name__)

USAGE_DAYS = 30
NO_SUCH_USER = "There is no such user."


@dataclass(frozen=True)
class AdminUserRow:
    id: uuid.UUID
    email: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    generation_count: int
    last_generation_at: datetime | None


@dataclass(frozen=True)
class UsageSummary:
    since: datetime
    generations: int
    by_modality: dict[Modality, int] = field(default_factory=dict)
    failures: int = 0
    cost_usd: Decimal = Decimal(0)


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
        """Accounts by email, with how much each has generated."""
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
        return [
            AdminUserRow(
                id=user.id,
                email=user.email,
                role=Role(user.role),
                is_active=user.is_active,
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                generation_count=int(generations or 0),
                last_generation_at=_aware(latest),
            )
            for user, generations, latest in rows
        ]

    def set_role(self, actor: Account, user_id: uuid.UUID, role: Role) -> None:
        require_admin(actor)
        with transaction(self._sessions) as db:
            user = self._target(db, actor, user_id)
            if user.role == role.value:
                return
            if role is not Role.ADMIN:
                if user.is_active and _active_admins(db) <= 1:
                    raise PermissionDenied(
                        "This is the last active administrator. Make someone else an "
                        "administrator first."
                    )
                if user.id == actor.id:
                    raise PermissionDenied(
                        "You cannot remove your own administrator role. "
                        "Ask another administrator to do it."
                    )
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
                if user.role == Role.ADMIN and user.is_active and _active_admins(db) <= 1:
                    raise PermissionDenied("The last active administrator cannot be disabled.")
                if user.id == actor.id:
                    raise PermissionDenied(
                        "You cannot disable your own account. Ask another administrator."
                    )
                # Same transaction: the account is never disabled with a session still live.
                self._refresh.revoke_user(db, user.id, "account-disabled")
            user.is_active = active
            user.updated_at = self._now()
        log.info(
            "account enabled" if active else "account disabled",
            extra={"actor_id": str(actor.id), "user_id": str(user_id)},
        )

    def usage(self, actor: Account, user_id: uuid.UUID, *, days: int = USAGE_DAYS) -> UsageSummary:
        """A user's generations over the last `days` days: per modality, failures, cost."""
        require_admin(actor)
        since = self._now() - timedelta(days=days)
        with self._sessions() as db:
            if db.get(User, user_id) is None:
                raise NotFound(NO_SUCH_USER)
            # The Analytics page's own aggregate, so both pages always show the same numbers.
            daily = daily_usage(db, Window(since, None), Scope.of(user_id))
        by_modality = dict.fromkeys(Modality, 0)
        for day in daily:
            by_modality[Modality(day.modality)] += day.generations
        return UsageSummary(
            since,
            sum(by_modality.values()),
            by_modality,
            sum(day.failures for day in daily),
            sum((day.cost_usd for day in daily), Decimal(0)),
        )

    def _target(self, db: Session, actor: Account, user_id: uuid.UUID) -> User:
        # The actor's role is checked again inside the transaction: it may have just changed.
        lock_for_transaction(db, "admins")
        require_current_admin(db, actor)
        user = db.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        return user


def _active_admins(db: Session) -> int:
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
