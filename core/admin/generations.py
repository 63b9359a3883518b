"""Every user's generations for an administrator: filtered, paged by keyset, opened one by one.

The Admin page's list pages by keyset on (created_at, id), never by OFFSET, so a deep page costs
the same as the first one at a million rows; the indexes of migration 0004 serve each filter.
Seed 002's API asks for numbered pages with a total instead (`generation_page`), over the same
filters.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.auth.account import Account
from core.errors import InvalidInput, NotFound
from core.gallery import read_generation_file, read_record, signed_media_url
from core.generation.status import Status
from core.modality import Modality
from core.periods import Window
from core.permissions import require_admin
from storage.keyset import Cursor, Keyset, KeysetPage
from storage.models import Generation, User
from storage.objects import ObjectStore
from storage.text_search import contains_text

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
NUMBERED_PAGE_SIZE = 10
MAX_NUMBERED_PAGE_SIZE = 100
# Far past any real listing, and well inside what an SQL OFFSET takes.
MAX_PAGE_NUMBER = 1_000_000
NO_SUCH_GENERATION = "That generation does not exist (it may have been deleted)."


class SortOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True)
class GenerationFilter:
    """What to narrow the list to; every field left empty matches everything."""

    user_id: uuid.UUID | None = None
    modality: Modality | None = None
    provider: str | None = None
    model: str | None = None
    status: Status | None = None
    # Inclusive start, exclusive end.
    created_from: datetime | None = None
    created_before: datetime | None = None
    # Case-insensitive; % and _ are literal characters here.
    text: str = ""


@dataclass(frozen=True)
class AdminGenerationRow:
    id: uuid.UUID
    created_at: datetime
    user_id: uuid.UUID
    email: str
    modality: Modality
    provider: str
    model: str
    status: str
    prompt: str
    latency_ms: int | None
    size_bytes: int | None
    cost_usd: Decimal
    error: str | None


AdminGenerationPage = KeysetPage[AdminGenerationRow]


@dataclass(frozen=True)
class AdminListedGeneration:
    """A row of the numbered list, with the facts a modality's listing shows."""

    row: AdminGenerationRow
    # The row's metadata document: the request's `params` and the result's facts (size, ...).
    meta: dict[str, Any]
    language: str | None
    voice: str | None
    duration_seconds: Decimal | None


@dataclass(frozen=True)
class NumberedGenerationPage:
    """Seed 002's `/admin/images` page: numbered from 1, with the total that matches."""

    rows: list[AdminListedGeneration]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class AdminGenerationItem:
    row: AdminGenerationRow
    # What the generation was asked with, from its row: there even when record.json is gone.
    params: dict[str, Any]
    content_type: str | None
    # record.json as stored; None when it is missing from storage.
    record: dict[str, Any] | None
    # The media bytes; None for a failed generation or a file no longer in storage.
    media: bytes | None
    signed_url: str | None


@dataclass(frozen=True)
class FilterChoices:
    providers: list[str]
    # provider -> its models
    models: dict[str, list[str]]


class GenerationBrowser:
    def __init__(
        self, sessions: sessionmaker[Session], store: ObjectStore, *, presign_ttl_seconds: int
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._presign_ttl = presign_ttl_seconds

    def generations(
        self,
        actor: Account,
        filters: GenerationFilter | None = None,
        *,
        order: SortOrder = SortOrder.NEWEST,
        cursor: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> AdminGenerationPage:
        """One page of every user's generations, in date order, narrowed by `filters`."""
        require_admin(actor)
        filters = filters or GenerationFilter()
        window = Window(filters.created_from, filters.created_before)
        keyset = Keyset(
            Generation.created_at,
            Generation.id,
            newest_first=order is SortOrder.NEWEST,
            cursor=Cursor.decode(cursor) if cursor else None,
            limit=max(1, min(limit, MAX_PAGE_SIZE)),
        )
        with self._sessions() as db:
            postgres = db.get_bind().dialect.name == "postgresql"
            query = _row_query().where(*_conditions(filters, window, postgres))
            found = [_row(r) for r in db.execute(keyset.query(query)).all()]
        return keyset.page(found, lambda row: (row.created_at, row.id))

    def generation_page(
        self,
        actor: Account,
        filters: GenerationFilter | None = None,
        *,
        page: int = 1,
        per_page: int = NUMBERED_PAGE_SIZE,
    ) -> NumberedGenerationPage:
        """Newest first, page `page` of `per_page`, with the total count.

        OFFSET paging, as seed 002's API asks: fine for the pages a script walks through; the
        Admin page uses the keyset `generations`, whose deep pages stay cheap at any size.
        """
        require_admin(actor)
        if not 1 <= page <= MAX_PAGE_NUMBER:
            raise InvalidInput(f"Pages are numbered from 1 to {MAX_PAGE_NUMBER:,}.")
        if not 1 <= per_page <= MAX_NUMBERED_PAGE_SIZE:
            raise InvalidInput(f"Ask for 1 to {MAX_NUMBERED_PAGE_SIZE} items a page.")
        filters = filters or GenerationFilter()
        window = Window(filters.created_from, filters.created_before)
        with self._sessions() as db:
            postgres = db.get_bind().dialect.name == "postgresql"
            conditions = _conditions(filters, window, postgres)
            total = db.scalar(select(func.count()).select_from(Generation).where(*conditions))
            found = db.execute(
                _row_query()
                .add_columns(
                    Generation.meta,
                    Generation.language,
                    Generation.voice,
                    Generation.duration_seconds,
                )
                .where(*conditions)
                .order_by(Generation.created_at.desc(), Generation.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
        rows = [
            AdminListedGeneration(
                _row(r), dict(r.meta or {}), r.language, r.voice, r.duration_seconds
            )
            for r in found
        ]
        return NumberedGenerationPage(rows, int(total or 0), page, per_page)

    def filter_choices(self, actor: Account) -> FilterChoices:
        """Providers and their models that occur, without reading every row."""
        require_admin(actor)
        with self._sessions() as db:
            pairs = _distinct_provider_models(db)
        models: dict[str, list[str]] = {}
        for provider, model in pairs:
            models.setdefault(provider, []).append(model)
        return FilterChoices(sorted(models), {p: sorted(m) for p, m in models.items()})

    def open_generation(self, actor: Account, generation_id: uuid.UUID) -> AdminGenerationItem:
        """A generation of any user: its row, record.json, media and a signed link."""
        require_admin(actor)
        with self._sessions() as db:
            found = db.execute(
                _row_query().add_columns(Generation).where(Generation.id == generation_id)
            ).one_or_none()
        if found is None:
            raise NotFound(NO_SUCH_GENERATION)
        generation: Generation = found.Generation
        media = None
        if generation.media_key:
            try:
                media = read_generation_file(self._store, generation, generation.media_key)
            except NotFound:
                media = None
        log.info(
            "admin opened generation",
            extra={"actor_id": str(actor.id), "generation_id": str(generation_id)},
        )
        return AdminGenerationItem(
            _row(found),
            dict((generation.meta or {}).get("params") or {}),
            generation.content_type,
            read_record(self._store, generation),
            media,
            signed_media_url(self._store, generation, self._presign_ttl) if media else None,
        )


def _conditions(
    filters: GenerationFilter, window: Window, postgres: bool
) -> list[ColumnElement[bool]]:
    # A deleted account's rows stay for Analytics, blanked: nobody's to browse (the join with
    # users drops them from a page; the count must agree).
    conditions: list[ColumnElement[bool]] = [Generation.user_id.is_not(None)]
    if filters.user_id is not None:
        conditions.append(Generation.user_id == filters.user_id)
    if filters.modality is not None:
        conditions.append(Generation.modality == filters.modality.value)
    if filters.provider:
        conditions.append(Generation.provider == filters.provider)
    if filters.model:
        conditions.append(Generation.model == filters.model)
    if filters.status is not None:
        conditions.append(Generation.status == filters.status.value)
    conditions += window.bounds(Generation.created_at)
    if needle := filters.text.strip():
        # ILIKE is what the pg_trgm index serves; SQLite's LIKE ignores ASCII case already.
        conditions.append(contains_text(Generation.prompt, needle, ignore_case=postgres))
    return conditions


def _row_query() -> Select[*tuple[Any, ...]]:
    return select(
        Generation.id,
        Generation.created_at,
        Generation.user_id,
        User.email,
        Generation.modality,
        Generation.provider,
        Generation.model,
        Generation.status,
        Generation.prompt,
        Generation.latency_ms,
        Generation.size_bytes,
        Generation.cost_usd,
        Generation.error,
    ).join(User, User.id == Generation.user_id)


def _row(found: Any) -> AdminGenerationRow:
    return AdminGenerationRow(
        id=found.id,
        created_at=found.created_at,
        user_id=found.user_id,
        email=found.email,
        modality=Modality(found.modality),
        provider=found.provider,
        model=found.model,
        status=found.status,
        prompt=found.prompt,
        latency_ms=found.latency_ms,
        size_bytes=found.size_bytes,
        cost_usd=found.cost_usd if found.cost_usd is not None else Decimal(0),
        error=found.error,
    )


def _distinct_provider_models(db: Session) -> list[tuple[str, str]]:
    if db.get_bind().dialect.name != "postgresql":
        return [
            (p, m) for p, m in db.execute(select(Generation.provider, Generation.model).distinct())
        ]
    # A loose index scan over (provider, model, created_at): one index probe per distinct pair
    # instead of reading a million entries.
    rows = db.execute(
        text(
            """
            WITH RECURSIVE pairs AS (
                (SELECT provider, model FROM generations ORDER BY provider, model LIMIT 1)
                UNION ALL
                SELECT next.provider, next.model FROM pairs, LATERAL (
                    SELECT g.provider, g.model FROM generations g
                    WHERE (g.provider, g.model) > (pairs.provider, pairs.model)
                    ORDER BY g.provider, g.model LIMIT 1
                ) AS next
            )
            SELECT provider, model FROM pairs
            """
        )
    )
    return [(str(p), str(m)) for p, m in rows]
