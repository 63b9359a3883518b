"""The caller's profile, their personal API keys and the export of their generations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse

from api.deps import CurrentAccount, ServicesDep
from api.schemas.accounts import ApiKeyName, ApiKeyOut, NewApiKeyOut, UserOut
from core.export import MAX_IDS, MEDIA_TYPE, ExportSelection

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


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A ZIP of the chosen generations, streamed as it is written.",
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def export(
    account: CurrentAccount,
    app: ServicesDep,
    ids: Annotated[
        list[str] | None,
        Query(
            description="Only these generations: repeat `ids`, or separate ids with commas; "
            f"at most {MAX_IDS}."
        ),
    ] = None,
    first_day: Annotated[
        str | None, Query(alias="from", description="The first day (UTC), YYYY-MM-DD.")
    ] = None,
    last_day: Annotated[
        str | None, Query(alias="to", description="The last day (UTC, included), YYYY-MM-DD.")
    ] = None,
    modality: Annotated[
        list[str] | None, Query(description="Only these kinds: image, speech, chat.")
    ] = None,
) -> StreamingResponse:
    """Your generations as one ZIP: every one's files in `{modality}/{yyyy-mm-dd}/{id}/`, an
    `index.csv` of them all with their parameters, and `missing.txt` for anything asked for
    that could not be read. With no parameter, everything; each one given narrows it."""
    # Parsed here rather than typed in the signature: a bad value is a 400 whose sentence says
    # what to change, not FastAPI's 422 list.
    selection = ExportSelection.parse(
        ids=ids or (), first_day=first_day, last_day=last_day, modalities=modality or ()
    )
    exports = app.exports
    return StreamingResponse(
        exports.archive(account.id, selection),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{exports.file_name()}"'},
    )
