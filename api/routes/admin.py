"""Seed 001/002's admin routes: every user's images and audios a numbered page at a time, and
every live API key. Administrators only, at most LIMIT_ADMIN_REQUESTS_PER_MINUTE calls a minute
each (seed 002: 100)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import CurrentAccount, ServicesDep
from api.schemas.accounts import ApiKeyOut
from api.schemas.admin import AdminAudio, AdminAudiosOut, AdminImage, AdminImagesOut
from core.admin.generations import (
    MAX_NUMBERED_PAGE_SIZE,
    MAX_PAGE_NUMBER,
    NUMBERED_PAGE_SIZE,
    GenerationFilter,
)
from core.auth.account import Account
from core.modality import Modality


def admin_account(account: CurrentAccount, app: ServicesDep) -> Account:
    app.admin.admit_request(account)
    return account


AdminAccount = Annotated[Account, Depends(admin_account)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="From 1.")]
PerPage = Annotated[int, Query(ge=1, le=MAX_NUMBERED_PAGE_SIZE)]

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/images")
def list_images(
    account: AdminAccount, app: ServicesDep, page: Page = 1, per_page: PerPage = NUMBERED_PAGE_SIZE
) -> AdminImagesOut:
    found = app.admin.generation_page(
        account, GenerationFilter(modality=Modality.IMAGE), page=page, per_page=per_page
    )
    return AdminImagesOut(
        images=[AdminImage.of(listed) for listed in found.rows],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )


@router.get("/audios")
def list_audios(
    account: AdminAccount, app: ServicesDep, page: Page = 1, per_page: PerPage = NUMBERED_PAGE_SIZE
) -> AdminAudiosOut:
    found = app.admin.generation_page(
        account, GenerationFilter(modality=Modality.SPEECH), page=page, per_page=per_page
    )
    return AdminAudiosOut(
        audios=[AdminAudio.of(listed) for listed in found.rows],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )


@router.get("/api-keys")
def list_api_keys(account: AdminAccount, app: ServicesDep) -> list[ApiKeyOut]:
    """Every live key, with its owner's email."""
    return [ApiKeyOut.of(info, email) for info, email in app.api_keys.every(account)]


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: uuid.UUID, account: AdminAccount, app: ServicesDep) -> None:
    app.api_keys.revoke(account, key_id)
