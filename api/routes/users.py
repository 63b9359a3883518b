"""The caller's profile and their personal API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentAccount, ServicesDep
from api.schemas.accounts import ApiKeyName, ApiKeyOut, NewApiKeyOut, UserOut

router = APIRouter(prefix="/users/me", tags=["users"])


@router.get("")
def me(account: CurrentAccount) -> UserOut:
    return UserOut.of(account)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyName, account: CurrentAccount, app: ServicesDep) -> NewApiKeyOut:
    created = app.api_keys.create(account, body.name)
    return NewApiKeyOut(**ApiKeyOut.of(created.info).model_dump(), key=created.secret)


@router.get("/api-keys")
def list_api_keys(account: CurrentAccount, app: ServicesDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(info) for info in app.api_keys.owned(account)]


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: uuid.UUID, account: CurrentAccount, app: ServicesDep) -> None:
    app.api_keys.revoke(account, key_id)
