"""Personal API keys: a named secret per script or tool, shown once, kept only as a hash.

A key stands for its owner the way a session does: it stops working the moment it is revoked or
its owner is disabled, because every use checks both in the database.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth.account import Account
from core.auth.sessions import ACCOUNT_BEING_DELETED
from core.auth.tokens import hash_opaque_token
from core.errors import AuthenticationFailed, InvalidInput, NotFound
from core.permissions import is_current_admin, require_admin
from storage.db import transaction
from storage.models import ApiKey, User

log = logging.getLogger(__name__)

# Recognisable in logs and secret scanners, and never mistaken for a JWT (which has dots).
KEY_PREFIX = "atelier_"
MAX_NAME_CHARS = 100
MAX_KEYS_PER_USER = 50
KEY_REFUSED = "This API key is not valid, or it was revoked."
KEY_NOT_FOUND = "That API key does not exist or is not yours."
# Writing last_used_at on every call would turn each request into a write; a minute is precise
# enough to tell a key in use from a forgotten one.
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    # The first characters of the secret, so its owner can tell keys apart.
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyInfo:
        return cls(
            row.id,
            row.user_id,
            row.name,
            row.prefix,
            row.created_at,
            row.last_used_at,
            row.revoked_at,
        )


@dataclass(frozen=True)
class NewApiKey:
    info: ApiKeyInfo
    # The only time the secret exists outside its owner's hands.
    secret: str


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


class ApiKeys:
    def __init__(self, sessions: sessionmaker[Session], *, now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def create(self, owner: Account, name: str) -> NewApiKey:
        # Invisible format characters (zero-width spaces) would make a name that looks blank.
        name = " ".join("".join(c for c in name if unicodedata.category(c) != "Cf").split())
        if not name:
            raise InvalidInput("Give the key a name, so you can tell it apart later.")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput(f"Keep the key's name under {MAX_NAME_CHARS} characters.")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with transaction(self._sessions) as db:
            live = db.scalars(
                select(ApiKey.id).where(ApiKey.user_id == owner.id, ApiKey.revoked_at.is_(None))
            ).all()
            if len(live) >= MAX_KEYS_PER_USER:
                raise InvalidInput(
                    f"You have {MAX_KEYS_PER_USER} API keys already. Revoke one you no longer use."
                )
            row = ApiKey(
                user_id=owner.id,
                name=name,
                prefix=secret[: len(KEY_PREFIX) + 6],
                secret_hash=hash_opaque_token(secret),
                created_at=self._now(),
            )
            db.add(row)
            db.flush()
            info = ApiKeyInfo.of(row)
        log.info("api key created", extra={"user_id": str(owner.id), "key_id": str(info.id)})
        return NewApiKey(info, secret)

    def owned(self, owner: Account) -> list[ApiKeyInfo]:
        """The owner's keys, revoked ones included (they say when), newest first."""
        with self._sessions() as db:
            rows = db.scalars(
                select(ApiKey).where(ApiKey.user_id == owner.id).order_by(ApiKey.created_at.desc())
            ).all()
            return [ApiKeyInfo.of(row) for row in rows]

    def every(self, actor: Account) -> list[tuple[ApiKeyInfo, str]]:
        """Every live key with its owner's email, for administrators."""
        require_admin(actor)
        with self._sessions() as db:
            rows = db.execute(
                select(ApiKey, User.email)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.revoked_at.is_(None))
                .order_by(ApiKey.created_at.desc())
            ).all()
            return [(ApiKeyInfo.of(key), email) for key, email in rows]

    def revoke(self, actor: Account, key_id: uuid.UUID) -> None:
        """The owner revokes their own key; an administrator may revoke anyone's."""
        with transaction(self._sessions) as db:
            row = db.scalars(
                select(ApiKey).where(ApiKey.id == key_id).with_for_update()
            ).one_or_none()
            # The role is checked in the database: it may have been taken away since the page
            # or token that carries `actor` was made. Someone else's key is simply "not found".
            if row is None or (row.user_id != actor.id and not is_current_admin(db, actor)):
                raise NotFound(KEY_NOT_FOUND)
            if row.revoked_at is None:
                row.revoked_at = self._now()
        log.info("api key revoked", extra={"key_id": str(key_id), "by": str(actor.id)})

    def authenticate(self, secret: str) -> Account:
        now = self._now()
        with transaction(self._sessions) as db:
            found = db.execute(
                select(ApiKey, User)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.secret_hash == hash_opaque_token(secret))
            ).one_or_none()
            if found is None:
                raise AuthenticationFailed(KEY_REFUSED)
            key, user = found
            # Its keys were revoked when the deletion began; this says why.
            if user.deleting_since is not None:
                raise AuthenticationFailed(ACCOUNT_BEING_DELETED)
            if key.revoked_at is not None:
                raise AuthenticationFailed(KEY_REFUSED)
            if not user.is_active:
                raise AuthenticationFailed("This account is disabled. Contact an administrator.")
            if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_PRECISION:
                db.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
            return Account.of(user)
