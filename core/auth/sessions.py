"""Refresh sessions: one row per refresh token, rotated on every use, revoked as a family.

The browser never receives a refresh token from the page script. The script gets a one-time
handoff code, and the browser trades that code at an HTTP route that sets the HttpOnly cookie
(see `ui/routes.py`); trading it is what rotates the token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth.tokens import hash_opaque_token, new_opaque_token
from core.errors import AuthenticationFailed
from core.storable import storable_note
from storage.db import reading_rows, transaction
from storage.models import AuthSession, User

log = logging.getLogger(__name__)

SESSION_ENDED = "Your session has ended. Please log in again."
ACCOUNT_BEING_DELETED = "This account is being deleted."


@dataclass(frozen=True)
class ResumedSession:
    user_id: uuid.UUID
    family_id: uuid.UUID
    handoff_code: str


@dataclass(frozen=True)
class LiveAccount:
    """The user columns an account is made of, read by the session check."""

    id: uuid.UUID
    email: str
    role: str
    is_active: bool
    created_at: datetime


# Built once: building the statement and its cache key cost more than running it.
_LIVE_ACCOUNT = (
    select(User.id, User.email, User.role, User.is_active, User.created_at)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        AuthSession.family_id == bindparam("family_id"),
        AuthSession.rotated_at.is_(None),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    )
    .limit(1)
)


class RefreshSessions:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl_days: int,
        handoff_ttl_seconds: int,
        reuse_leeway_seconds: int = 0,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._ttl = timedelta(days=ttl_days)
        self._handoff_ttl = timedelta(seconds=handoff_ttl_seconds)
        self._reuse_leeway = timedelta(seconds=reuse_leeway_seconds)
        self._now = now

    def open(
        self, db: Session, user_id: uuid.UUID, *, ip: str | None, user_agent: str | None
    ) -> tuple[uuid.UUID, str]:
        """Start a family for a fresh login; returns (family id, handoff code)."""
        now = self._now()
        code = new_opaque_token()
        row = AuthSession(
            user_id=user_id,
            family_id=uuid.uuid4(),
            handoff_hash=hash_opaque_token(code),
            handoff_expires_at=now + self._handoff_ttl,
            created_at=now,
            expires_at=now + self._ttl,
            # Whatever a client's headers say, the login goes through: these are notes.
            ip_address=storable_note(ip, 64),
            user_agent=storable_note(user_agent, 512),
        )
        db.add(row)
        return row.family_id, code

    def resume(self, refresh_token: str) -> ResumedSession:
        """Check a refresh cookie; a retired token means it was stolen or replayed.

        Except just after its rotation: a reload (or tabs restored together) can abort the
        request whose answer carried the new cookie, so the browser still sends the retired one.
        Within the leeway that resumes the family's current token instead of ending the family,
        as Auth0's "reuse interval" and Okta's grace period do.
        """
        now = self._now()
        with transaction(self._sessions) as db:
            row = db.scalars(
                select(AuthSession)
                .where(AuthSession.token_hash == hash_opaque_token(refresh_token))
                .with_for_update()
            ).one_or_none()
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise AuthenticationFailed(SESSION_ENDED)
            if row.rotated_at is None:
                return self._offer_handoff(row, now)
            if now - row.rotated_at <= self._reuse_leeway:
                current = self._current(db, row.family_id, now)
                if current is not None:
                    log.info(
                        "rotated refresh token presented within the leeway",
                        extra={"family_id": str(row.family_id)},
                    )
                    return self._offer_handoff(current, now)
            self._revoke_family(db, row.family_id, "refresh-token-reuse")
        log.warning("refresh token reused; family revoked", extra={"family_id": str(row.family_id)})
        raise AuthenticationFailed(SESSION_ENDED)

    def _offer_handoff(self, row: AuthSession, now: datetime) -> ResumedSession:
        code = new_opaque_token()
        row.handoff_hash = hash_opaque_token(code)
        row.handoff_expires_at = now + self._handoff_ttl
        return ResumedSession(row.user_id, row.family_id, code)

    def _current(self, db: Session, family_id: uuid.UUID, now: datetime) -> AuthSession | None:
        return db.scalars(
            select(AuthSession)
            .where(
                AuthSession.family_id == family_id,
                AuthSession.rotated_at.is_(None),
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
            .with_for_update()
        ).one_or_none()

    def redeem(self, handoff_code: str) -> str:
        """Trade a handoff code for a new refresh token, retiring the family's current one."""
        now = self._now()
        with transaction(self._sessions) as db:
            row = db.scalars(
                select(AuthSession)
                .where(AuthSession.handoff_hash == hash_opaque_token(handoff_code))
                .with_for_update()
            ).one_or_none()
            if (
                row is None
                or row.handoff_expires_at is None
                or row.handoff_expires_at <= now
                or row.rotated_at is not None
                or row.revoked_at is not None
                or row.expires_at <= now
                or not db.scalar(select(User.is_active).where(User.id == row.user_id))
            ):
                raise AuthenticationFailed(SESSION_ENDED)
            row.rotated_at = now
            row.handoff_hash = None
            token = new_opaque_token()
            db.add(
                AuthSession(
                    user_id=row.user_id,
                    family_id=row.family_id,
                    token_hash=hash_opaque_token(token),
                    created_at=now,
                    expires_at=now + self._ttl,
                    ip_address=row.ip_address,
                    user_agent=row.user_agent,
                )
            )
        return token

    def live_account(self, family_id: uuid.UUID) -> LiveAccount | None:
        """The family's user if its current token is neither revoked nor expired, in one query:
        every page run asks this."""
        with reading_rows(self._sessions) as connection:
            row = connection.execute(
                _LIVE_ACCOUNT, {"family_id": family_id, "now": self._now()}
            ).first()
        return None if row is None else LiveAccount(*row)

    def revoke_family(self, family_id: uuid.UUID, reason: str) -> None:
        with transaction(self._sessions) as db:
            self._revoke_family(db, family_id, reason)

    def revoke_by_token(self, refresh_token: str, reason: str) -> None:
        with transaction(self._sessions) as db:
            family_id = db.scalar(
                select(AuthSession.family_id).where(
                    AuthSession.token_hash == hash_opaque_token(refresh_token)
                )
            )
            if family_id is not None:
                self._revoke_family(db, family_id, reason)

    def revoke_user(self, db: Session, user_id: uuid.UUID, reason: str) -> None:
        db.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=self._now(), revoked_reason=reason, handoff_hash=None)
        )

    def _revoke_family(self, db: Session, family_id: uuid.UUID, reason: str) -> None:
        db.execute(
            update(AuthSession)
            .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=self._now(), revoked_reason=reason, handoff_hash=None)
        )
