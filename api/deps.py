"""The typed dependencies every router uses: the services, and who is calling.

A caller proves who they are with a JWT access token (seed 001's login flow) or a personal API
key, as `Authorization: Bearer <credential>` or `X-API-Key: <key>`. Either way they become the
same `Account` the pages use, checked in the database on every request, so a disabled account,
a revoked key or an ended session is refused at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from core.auth.account import Account
from core.auth.api_keys import looks_like_api_key
from core.errors import AuthenticationFailed
from core.runtime import services
from core.services import Services

SIGN_IN_FIRST = (
    "Sign in first: send 'Authorization: Bearer <access token or API key>' or 'X-API-Key: <key>'."
)

# Declared as security schemes so the OpenAPI document (and /api/docs) shows how to sign in.
_bearer = HTTPBearer(auto_error=False, description="A JWT access token or a personal API key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="A personal API key.")


async def get_services() -> Services:
    # async: a plain lookup, not worth a trip to the thread pool on every request.
    return services()


ServicesDep = Annotated[Services, Depends(get_services)]


async def _credential(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> str | None:
    if bearer is not None and bearer.credentials.strip():
        return bearer.credentials.strip()
    return api_key.strip() if api_key and api_key.strip() else None


Credential = Annotated[str | None, Depends(_credential)]


def _account_for(app: Services, credential: str) -> Account:
    if looks_like_api_key(credential):
        return app.api_keys.authenticate(credential)
    return app.auth.authenticate(credential).account


def optional_account(app: ServicesDep, credential: Credential) -> Account | None:
    """The caller, or None for a request that carries no credential at all (anonymous)."""
    return None if credential is None else _account_for(app, credential)


def current_account(app: ServicesDep, credential: Credential) -> Account:
    if credential is None:
        raise AuthenticationFailed(SIGN_IN_FIRST)
    return _account_for(app, credential)


CurrentAccount = Annotated[Account, Depends(current_account)]
OptionalAccount = Annotated[Account | None, Depends(optional_account)]


async def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


ClientIp = Annotated[str | None, Depends(client_ip)]


def generating_account(app: ServicesDep, account: OptionalAccount, ip: ClientIp) -> Account:
    """Who a generation belongs to: the caller, or, with no credential and
    ANONYMOUS_GENERATION on (seeds 000/001), the anonymous owner, counted per client IP."""
    if account is not None:
        return account
    if not app.anonymous.enabled:
        raise AuthenticationFailed(SIGN_IN_FIRST)
    return app.anonymous.admit(ip)


def reading_account(app: ServicesDep, account: OptionalAccount) -> Account:
    """Whose generations a read may see: the caller's, or with no credential (anonymous
    generation on) the anonymous owner's, which anyone holding an id may read, as in seed 000."""
    if account is not None:
        return account
    if not app.anonymous.enabled:
        raise AuthenticationFailed(SIGN_IN_FIRST)
    return app.anonymous.owner()


GeneratingAccount = Annotated[Account, Depends(generating_account)]
ReadingAccount = Annotated[Account, Depends(reading_account)]
