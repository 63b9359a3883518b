"""Access tokens (JWT, RS256 or HS256) and the opaque refresh / handoff tokens."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import secrets
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.config import Settings
from core.errors import AuthenticationFailed, ConfigurationError

log = logging.getLogger(__name__)


# Tolerated difference between the clocks of replicas that issue and check tokens.
_CLOCK_SKEW = timedelta(seconds=30)
# About one token per signed-in session a process serves at once; more only costs re-checks.
_GENUINE_TOKENS_KEPT = 1024


class AccessTokenExpired(AuthenticationFailed):
    """Genuine but too old: the holder may renew it if its session is still live."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    family_id: uuid.UUID
    role: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True)
class SigningKeys:
    algorithm: str
    # Parsed key objects for RS256: PyJWT would otherwise parse (and check) a PEM on every
    # call, which costs ~50 ms per token.
    signing_key: str | rsa.RSAPrivateKey
    verification_key: str | rsa.RSAPublicKey


class AccessTokens:
    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        ttl_seconds: int,
        now: Callable[[], datetime],
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._ttl = timedelta(seconds=ttl_seconds)
        self._now = now
        # A page run checks its session's token on every run: the signature of one token
        # (RSA, ~0.3 ms) is checked once, its times and its session on every call. Only
        # genuine tokens are kept (a refusal raises, which is never cached).
        self._genuine_claims = functools.lru_cache(maxsize=_GENUINE_TOKENS_KEPT)(
            self._genuine_claims_uncached
        )

    def issue(self, *, user_id: uuid.UUID, family_id: uuid.UUID, role: str) -> str:
        issued_at = self._now()
        claims = {
            "iss": self._issuer,
            "sub": str(user_id),
            "sid": str(family_id),
            "role": role,
            "iat": issued_at,
            "exp": issued_at + self._ttl,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._keys.signing_key, algorithm=self._keys.algorithm)

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = self._genuine_claims(token)
            expires_at = _checked_times(claims, self._now())
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                family_id=uuid.UUID(claims["sid"]),
                role=str(claims.get("role", "user")),
                token_id=str(claims["jti"]),
                expires_at=expires_at,
            )
        except jwt.ExpiredSignatureError:
            raise AccessTokenExpired("Your session has expired. Please log in again.") from None
        except (jwt.InvalidTokenError, ValueError) as error:
            log.warning("refused access token: %s", error)
            raise AuthenticationFailed("Your session is not valid. Please log in again.") from None

    def _genuine_claims_uncached(self, token: str) -> Mapping[str, Any]:
        # Only the configured algorithm is accepted: this refuses "none" and any RS256/HS256
        # confusion. Times are checked by the caller against our own clock, the one that
        # stamped the token.
        claims = jwt.decode(
            token,
            self._keys.verification_key,
            algorithms=[self._keys.algorithm],
            issuer=self._issuer,
            options={
                "require": ["iss", "sub", "exp", "iat", "jti", "sid"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        # Shared by every later call with this token: read-only.
        return MappingProxyType(claims)


@dataclass(frozen=True)
class TicketClaims:
    user_id: uuid.UUID
    # What the ticket was issued with, besides who and until when.
    claims: dict[str, Any]
    expires_at: datetime


class TicketExpired(AuthenticationFailed):
    """Genuine but too old."""


class Tickets:
    """Short-lived signed tickets that let a plain link act for one user, for one purpose.

    A browser follows a link (a download) without the access token, which only the server-side
    session holds; the ticket goes in the link instead. Its `aud` names the purpose: a ticket is
    only accepted for that purpose, and never as an access token (PyJWT refuses a token with an
    `aud` when no audience is expected), nor an access token as a ticket (it has no `aud`).
    """

    def __init__(self, keys: SigningKeys, *, issuer: str, now: Callable[[], datetime]) -> None:
        self._keys = keys
        self._issuer = issuer
        self._now = now

    def issue(
        self,
        purpose: str,
        user_id: uuid.UUID,
        claims: Mapping[str, Any],
        *,
        ttl_seconds: int,
    ) -> str:
        issued_at = self._now()
        document = {
            **claims,
            "iss": self._issuer,
            "aud": purpose,
            "sub": str(user_id),
            "iat": issued_at,
            "exp": issued_at + timedelta(seconds=ttl_seconds),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(document, self._keys.signing_key, algorithm=self._keys.algorithm)

    def verify(self, purpose: str, ticket: str) -> TicketClaims:
        try:
            claims = jwt.decode(
                ticket,
                self._keys.verification_key,
                algorithms=[self._keys.algorithm],
                issuer=self._issuer,
                audience=purpose,
                options={
                    "require": ["iss", "aud", "sub", "exp", "iat", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            expires_at = _checked_times(claims, self._now())
            user_id = uuid.UUID(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise TicketExpired("This link has expired.") from None
        except (jwt.InvalidTokenError, ValueError) as error:
            log.warning("refused ticket: %s", error)
            raise AuthenticationFailed("This link is not valid.") from None
        own = {"iss", "aud", "sub", "iat", "exp", "jti"}
        return TicketClaims(user_id, {k: v for k, v in claims.items() if k not in own}, expires_at)


def _checked_times(claims: Mapping[str, Any], now: datetime) -> datetime:
    """The expiry, once `iat` and `exp` are checked against our own clock, the one that stamped
    the token (PyJWT would check them against the system clock)."""
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if datetime.fromtimestamp(int(claims["iat"]), UTC) > now + _CLOCK_SKEW:
        raise jwt.ImmatureSignatureError("issued in the future")
    if expires_at <= now:
        raise jwt.ExpiredSignatureError("expired")
    return expires_at


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    # Refresh and handoff tokens are 256-bit random values: a fast hash is enough and lets the
    # database look them up by equality.
    return hashlib.sha256(token.encode()).hexdigest()


def load_signing_keys(settings: Settings) -> SigningKeys:
    if settings.jwt_algorithm == "HS256":
        secret = settings.jwt_secret.get_secret_value()
        if not secret:
            raise ConfigurationError("JWT_ALGORITHM=HS256 needs JWT_SECRET.")
        return SigningKeys("HS256", secret, secret)
    private_path = settings.jwt_private_key_path or settings.data_dir / "keys" / "jwt-private.pem"
    public_path = settings.jwt_public_key_path or settings.data_dir / "keys" / "jwt-public.pem"
    if not private_path.exists():
        if settings.jwt_private_key_path:
            raise ConfigurationError(f"JWT private key not found at {private_path}.")
        _generate_key_pair(private_path, public_path)
    private_key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{private_path} is not an RSA private key (RS256 needs one).")
    public_key = (
        serialization.load_pem_public_key(public_path.read_bytes())
        if public_path.exists()
        else private_key.public_key()
    )
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ConfigurationError(f"{public_path} is not an RSA public key (RS256 needs one).")
    return SigningKeys("RS256", private_key, public_key)


def _generate_key_pair(private_path: Path, public_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written aside with mode 0600, then linked into place: the key is never readable by others,
    # never seen half-written, and when two processes start at once the first link wins.
    fd, tmp = tempfile.mkstemp(dir=private_path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        os.link(tmp, private_path)
    except FileExistsError:
        return
    finally:
        Path(tmp).unlink()
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    log.info("generated a JWT signing key pair", extra={"path": str(private_path)})
