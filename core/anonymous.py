"""Generations without an account (seeds 000/001), when ANONYMOUS_GENERATION allows them.

They belong to one real `users` row, the anonymous owner, so the pipeline, history, Gallery,
Analytics and Admin treat them like any other generation. That row cannot sign in: its email
is not an address (registration refuses it) and its password hash is of a random secret nobody
was told. It is created on first use, race-safe across replicas (an insert that does nothing on
conflict), is never counted as the first account that becomes admin, and is not listed among
the accounts on the Admin page.

Anonymous callers are limited per client IP (seed 002: 2 a minute); the owner itself gets no
per-minute limit of its own, or every anonymous caller would share one budget.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.auth.account import Account, Role
from core.auth.passwords import PasswordHasher
from core.auth.rate_limit import RateLimiter, enforce
from core.errors import AuthenticationFailed
from core.limits import UNLIMITED
from storage.db import transaction
from storage.models import User, UserLimits

log = logging.getLogger(__name__)

ANONYMOUS_USER_ID = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
ANONYMOUS_EMAIL = "anonymous"
TURNED_OFF = "Sign in first: generating without an account is turned off on this server."


class AnonymousGeneration:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        limiter: RateLimiter,
        hasher: PasswordHasher,
        *,
        enabled: bool,
        per_ip_per_minute: int,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._limiter = limiter
        self._hasher = hasher
        self.enabled = enabled
        self._per_minute = per_ip_per_minute
        self._now = now

    def admit(self, ip: str | None) -> Account:
        """Count one anonymous generation from `ip`; the owner to generate as, or a refusal."""
        if not self.enabled:
            raise AuthenticationFailed(TURNED_OFF)
        enforce(
            self._limiter,
            "anonymous-generate",
            {f"ip:{ip or 'local'}": self._per_minute},
            refusal=lambda wait: (
                f"Without an account you can start {self._per_minute} generations a minute. "
                f"Sign in for more, or try again in {wait} s."
            ),
        )
        return self.owner()

    def owner(self) -> Account:
        """The anonymous owner's account, created the first time it is needed."""
        if not self.enabled:
            raise AuthenticationFailed(TURNED_OFF)
        with self._sessions() as db:
            user = db.get(User, ANONYMOUS_USER_ID)
        if user is None:
            user = self._create()
        return Account.of(user)

    def _create(self) -> User:
        now = self._now()
        password_hash = self._hasher.hash(secrets.token_urlsafe(32))
        with transaction(self._sessions) as db:
            # Two replicas may get here at once: the second insert does nothing.
            db.execute(
                _insert(db, User)
                .values(
                    id=ANONYMOUS_USER_ID,
                    email=ANONYMOUS_EMAIL,
                    password_hash=password_hash,
                    role=Role.USER.value,
                    is_active=True,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            )
            db.execute(
                _insert(db, UserLimits)
                .values(user_id=ANONYMOUS_USER_ID, generations_per_minute=UNLIMITED, updated_at=now)
                .on_conflict_do_nothing()
            )
        log.info("anonymous owner ready", extra={"user_id": str(ANONYMOUS_USER_ID)})
        with self._sessions() as db:
            user = db.get(User, ANONYMOUS_USER_ID)
        assert user is not None, "the anonymous owner was just inserted"
        return user


def _insert(db: Session, table: type[User] | type[UserLimits]) -> postgresql.Insert | sqlite.Insert:
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
