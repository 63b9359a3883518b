"""Accounts: register, log in, resume from a refresh cookie, authenticate, log out."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.anonymous import ANONYMOUS_USER_ID
from core.auth.account import Account, Role
from core.auth.passwords import PasswordHasher, check_password_rules, normalize_email
from core.auth.rate_limit import RateLimiter, enforce
from core.auth.sessions import ACCOUNT_BEING_DELETED, SESSION_ENDED, RefreshSessions
from core.auth.tokens import AccessTokens
from core.errors import AuthenticationFailed, InvalidInput
from storage.db import lock_for_transaction, transaction
from storage.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    account: Account
    family_id: uuid.UUID
    access_token: str
    # One-time code the browser trades at /auth/session for its HttpOnly refresh cookie.
    handoff_code: str


@dataclass(frozen=True)
class Authenticated:
    account: Account
    family_id: uuid.UUID


@dataclass(frozen=True)
class AuthLimits:
    login_per_minute: int
    login_per_ip_per_minute: int
    register_per_ip_per_minute: int
    password_min_length: int


class AuthService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        refresh: RefreshSessions,
        limiter: RateLimiter,
        limits: AuthLimits,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._hasher = hasher
        self._tokens = tokens
        self._refresh = refresh
        self._limiter = limiter
        self._limits = limits
        self._now = now

    def register(self, email: str, password: str, *, ip: str | None) -> Account:
        enforce(
            self._limiter,
            "register",
            {f"ip:{ip or 'local'}": self._limits.register_per_ip_per_minute},
        )
        email = normalize_email(email)
        check_password_rules(password, email=email, min_length=self._limits.password_min_length)
        password_hash = self._hasher.hash(password)
        try:
            with transaction(self._sessions) as db:
                # Two first sign-ups at once must not both become admin.
                lock_for_transaction(db, "first-admin")
                # The anonymous owner (core.anonymous) is nobody: it never makes a sign-up
                # the second account.
                is_first = not db.scalar(
                    select(func.count()).select_from(User).where(User.id != ANONYMOUS_USER_ID)
                )
                user = User(
                    email=email,
                    password_hash=password_hash,
                    role=Role.ADMIN if is_first else Role.USER,
                    created_at=self._now(),
                    updated_at=self._now(),
                )
                db.add(user)
        except IntegrityError:
            raise InvalidInput(
                "An account with this email already exists. Log in instead."
            ) from None
        log.info("account registered", extra={"user_id": str(user.id), "role": user.role})
        return Account.of(user)

    def login(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None = None
    ) -> SignedIn:
        try:
            account_key, well_formed = normalize_email(email), True
        except InvalidInput:
            # Still counted against the limit; no account can have it (nor may a NUL reach SQL).
            account_key, well_formed = email.strip().lower(), False
        enforce(
            self._limiter,
            "login",
            {
                f"account:{account_key}": self._limits.login_per_minute,
                f"ip:{ip or 'local'}": self._limits.login_per_ip_per_minute,
            },
        )
        with transaction(self._sessions) as db:
            user = (
                db.scalars(select(User).where(User.email == account_key)).one_or_none()
                if well_formed
                else None
            )
            if (
                not self._hasher.verify(password, user.password_hash if user else None)
                or user is None
            ):
                raise AuthenticationFailed("Wrong email or password.")
            # Told apart from "disabled": it is the owner's own doing, and nobody can undo it.
            if user.deleting_since is not None:
                raise AuthenticationFailed(ACCOUNT_BEING_DELETED)
            if not user.is_active:
                raise AuthenticationFailed("This account is disabled. Contact an administrator.")
            user.last_login_at = self._now()
            if self._hasher.needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            family_id, code = self._refresh.open(db, user.id, ip=ip, user_agent=user_agent)
            account = Account.of(user)
        log.info("logged in", extra={"user_id": str(account.id), "family_id": str(family_id)})
        return SignedIn(account, family_id, self._issue(account, family_id), code)

    def resume(self, refresh_token: str) -> SignedIn:
        """A new browser tab or a reload: the refresh cookie proves who this is."""
        resumed = self._refresh.resume(refresh_token)
        account = self._live_account(resumed.family_id, resumed.user_id)
        return SignedIn(
            account,
            resumed.family_id,
            self._issue(account, resumed.family_id),
            resumed.handoff_code,
        )

    def redeem_handoff(self, code: str) -> str:
        """The refresh token itself: the browser gets it as a cookie (at /api/session), an API
        client in the body of its login or refresh answer."""
        return self._refresh.redeem(code)

    def authenticate(self, access_token: str) -> Authenticated:
        """Check the token, then that its session is still live and the account still active.

        The database check on every call is what makes logout, reuse detection and disabling
        an account take effect at once. The role comes from the database, not the token.
        """
        claims = self._tokens.verify(access_token)
        return Authenticated(self._live_account(claims.family_id, claims.user_id), claims.family_id)

    def renew_access_token(self, family_id: uuid.UUID) -> str:
        """A new access token for a session the server already holds (the page's own state)."""
        return self._issue(self._live_account(family_id), family_id)

    def logout(self, family_id: uuid.UUID) -> None:
        self._refresh.revoke_family(family_id, "logout")
        log.info("logged out", extra={"family_id": str(family_id)})

    def logout_refresh_token(self, refresh_token: str) -> None:
        self._refresh.revoke_by_token(refresh_token, "logout")

    def _live_account(self, family_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Account:
        user = self._refresh.live_account(family_id)
        if user is None or not user.is_active or user_id not in (None, user.id):
            raise AuthenticationFailed(SESSION_ENDED)
        return Account(user.id, user.email, Role(user.role), user.is_active, user.created_at)

    def _issue(self, account: Account, family_id: uuid.UUID) -> str:
        return self._tokens.issue(user_id=account.id, family_id=family_id, role=account.role)
