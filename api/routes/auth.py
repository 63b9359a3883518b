"""Seed 001/002's auth routes: register, log in, rotate the refresh token, log out."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api.deps import ClientIp, ServicesDep
from api.schemas.accounts import Credentials, LoginOut, RefreshBody, TokenPair, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: Credentials, app: ServicesDep, ip: ClientIp) -> UserOut:
    return UserOut.of(app.auth.register(body.email, body.password, ip=ip))


@router.post("/login")
def login(body: Credentials, app: ServicesDep, ip: ClientIp, request: Request) -> LoginOut:
    signed_in = app.auth.login(
        body.email, body.password, ip=ip, user_agent=request.headers.get("user-agent")
    )
    return LoginOut(
        access_token=signed_in.access_token,
        refresh_token=app.auth.redeem_handoff(signed_in.handoff_code),
        user=UserOut.of(signed_in.account),
    )


@router.post("/refresh")
def refresh(body: RefreshBody, app: ServicesDep) -> TokenPair:
    """Rotates the refresh token: the old one is retired, and presenting it again ends the
    whole session (the same rule as the browser's cookie)."""
    resumed = app.auth.resume(body.refresh_token)
    return TokenPair(
        access_token=resumed.access_token,
        refresh_token=app.auth.redeem_handoff(resumed.handoff_code),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshBody, app: ServicesDep) -> None:
    app.auth.logout_refresh_token(body.refresh_token)
