"""Bodies of the seeds' auth and profile routes (seed 002's field names: camelCase tokens)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.auth.account import Account, Role
from core.auth.api_keys import ApiKeyInfo


class Credentials(BaseModel):
    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024, examples=["correct horse 42"])


class RefreshBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    refresh_token: str = Field(alias="refreshToken", min_length=1, max_length=512)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> UserOut:
        return cls(
            id=account.id, email=account.email, role=account.role, created_at=account.created_at
        )


class TokenPair(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    access_token: str = Field(alias="accessToken")
    refresh_token: str = Field(alias="refreshToken")


class LoginOut(TokenPair):
    user: UserOut


class ApiKeyName(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["my laptop script"])


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    # Only for administrators' listing of everyone's keys.
    owner_email: str | None = None

    @classmethod
    def of(cls, info: ApiKeyInfo, owner_email: str | None = None) -> ApiKeyOut:
        return cls(
            id=info.id,
            name=info.name,
            prefix=info.prefix,
            created_at=info.created_at,
            last_used_at=info.last_used_at,
            revoked_at=info.revoked_at,
            owner_email=owner_email,
        )


class NewApiKeyOut(ApiKeyOut):
    # The secret, shown this once; only its hash is kept.
    key: str
