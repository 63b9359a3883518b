"""The administrator's console: every user's generations, and the users themselves.

Every method takes the acting `Account` and refuses anyone who is not an administrator. The
generation list pages by keyset on (created_at, id), never by OFFSET, so a deep page costs the
same as the first one at a million rows; the indexes of migration 0004 serve each filter.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Uuid, func, literal, select, text, tuple_
from sqlalchemy.orm import Session, sessionmaker

from core.auth.service import Account, Role
from core.auth.sessions import RefreshSessions
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.gallery import read_generation_file, read_record, signed_media_url
from core.generation.status import Status
from core.modality import Modality
from core.permissions import require_admin, require_current_admin
from storage.db import lock_for_transaction, transaction
from storage.models import Generation, User, UTCDateTime
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

PAGE_SIZE = 50
USAGE_DAYS = 30
NO_SUCH_GENERATION = "That generation does not exist (it may have been deleted)."
NO_SUCH_USER = "There is no such user."
_CURSOR_VERSION = 1


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


@dataclass(frozen=True)
class AdminGenerationPage:
    rows: list[AdminGenerationRow]
    # Opaque cursors for the next page further in the chosen order and the one before it;
    # None when there is nothing there.
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True)
class AdminGenerationItem:
    row: AdminGenerationRow
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


@dataclass(frozen=True)
class AdminUserRow:
    id: uuid.UUID
    email: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    generation_count: int
    last_generation_at: datetime | None


@dataclass(frozen=True)
class UsageSummary:
    since: datetime
    generations: int
    by_modality: dict[Modality, int] = field(default_factory=dict)
    failures: int = 0
    cost_usd: Decimal = Decimal(0)


class AdminConsole:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        *,
        refresh: RefreshSessions,
        presign_ttl_seconds: int,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._refresh = refresh
        self._presign_ttl = presign_ttl_seconds
        self._now = now

    # --- generations -------------------------------------------------------------------

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
        if (
            filters.created_from is not None
            and filters.created_before is not None
            and filters.created_from >= filters.created_before
        ):
            raise InvalidInput("The first day of the period must not be after the last day.")
        limit = max(1, min(limit, 500))
        position = _Cursor.decode(cursor) if cursor else None
        # Going back means reading the other way from the cursor, then flipping the rows.
        backwards = position is not None and position.backwards
        descending = (order is SortOrder.NEWEST) != backwards
        key = tuple_(Generation.created_at, Generation.id)
        with self._sessions() as db:
            query = _row_query().where(*_conditions(filters, db.get_bind().dialect.name))
            if position is not None:
                bound = tuple_(
                    literal(position.created_at, UTCDateTime()), literal(position.id, Uuid())
                )
                query = query.where(key < bound if descending else key > bound)
            if descending:
                query = query.order_by(Generation.created_at.desc(), Generation.id.desc())
            else:
                query = query.order_by(Generation.created_at.asc(), Generation.id.asc())
            found = [_row(r) for r in db.execute(query.limit(limit + 1)).all()]
        more = len(found) > limit
        rows = found[:limit]
        if backwards:
            rows.reverse()
        if not rows:
            return AdminGenerationPage([], None, None)
        # In the direction we read, `more` tells; the other way, a cursor means we came from there.
        further = more if not backwards else position is not None
        earlier = more if backwards else position is not None
        return AdminGenerationPage(
            rows,
            _Cursor.after(rows[-1]).encode() if further else None,
            _Cursor.before(rows[0]).encode() if earlier else None,
        )

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
            generation.content_type,
            read_record(self._store, generation),
            media,
            signed_media_url(self._store, generation, self._presign_ttl) if media else None,
        )

    # --- users -------------------------------------------------------------------------

    def user_emails(self, actor: Account) -> dict[uuid.UUID, str]:
        """Every account's email by id, sorted by email: the choices of the user filter."""
        require_admin(actor)
        with self._sessions() as db:
            rows = db.execute(select(User.id, User.email).order_by(User.email)).all()
        return {user_id: email for user_id, email in rows}

    def users(self, actor: Account, *, email: str = "", limit: int = 500) -> list[AdminUserRow]:
        """Accounts by email, with how much each has generated."""
        require_admin(actor)
        count = (
            select(func.count())
            .where(Generation.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
        last = (
            select(func.max(Generation.created_at))
            .where(Generation.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
        query = select(User, count, last).order_by(User.email).limit(max(1, limit))
        if needle := email.strip().lower():
            query = query.where(User.email.like("%" + _escape_like(needle) + "%", escape="\\"))
        with self._sessions() as db:
            rows = db.execute(query).all()
        return [
            AdminUserRow(
                id=user.id,
                email=user.email,
                role=Role(user.role),
                is_active=user.is_active,
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                generation_count=int(generations or 0),
                last_generation_at=_aware(latest),
            )
            for user, generations, latest in rows
        ]

    def set_role(self, actor: Account, user_id: uuid.UUID, role: Role) -> None:
        require_admin(actor)
        with transaction(self._sessions) as db:
            user = self._target(db, actor, user_id)
            if user.role == role.value:
                return
            if role is not Role.ADMIN:
                if user.is_active and self._active_admins(db) <= 1:
                    raise PermissionDenied(
                        "This is the last active administrator. Make someone else an "
                        "administrator first."
                    )
                if user.id == actor.id:
                    raise PermissionDenied(
                        "You cannot remove your own administrator role. "
                        "Ask another administrator to do it."
                    )
            user.role = role.value
            user.updated_at = self._now()
        log.info(
            "role changed",
            extra={"actor_id": str(actor.id), "user_id": str(user_id), "role": role.value},
        )

    def set_active(self, actor: Account, user_id: uuid.UUID, active: bool) -> None:
        """Enable or disable an account; disabling ends all its sessions at once."""
        require_admin(actor)
        with transaction(self._sessions) as db:
            user = self._target(db, actor, user_id)
            if not active:
                if user.role == Role.ADMIN and user.is_active and self._active_admins(db) <= 1:
                    raise PermissionDenied("The last active administrator cannot be disabled.")
                if user.id == actor.id:
                    raise PermissionDenied(
                        "You cannot disable your own account. Ask another administrator."
                    )
                # Same transaction: the account is never disabled with a session still live.
                self._refresh.revoke_user(db, user.id, "account-disabled")
            user.is_active = active
            user.updated_at = self._now()
        log.info(
            "account enabled" if active else "account disabled",
            extra={"actor_id": str(actor.id), "user_id": str(user_id)},
        )

    def usage(self, actor: Account, user_id: uuid.UUID, *, days: int = USAGE_DAYS) -> UsageSummary:
        """A user's generations over the last `days` days: per modality, failures, cost."""
        require_admin(actor)
        since = self._now() - timedelta(days=days)
        with self._sessions() as db:
            if db.get(User, user_id) is None:
                raise NotFound(NO_SUCH_USER)
            rows = db.execute(
                select(
                    Generation.modality,
                    Generation.status,
                    func.count(),
                    func.coalesce(func.sum(Generation.cost_usd), 0),
                )
                .where(Generation.user_id == user_id, Generation.created_at >= since)
                .group_by(Generation.modality, Generation.status)
            ).all()
        by_modality = dict.fromkeys(Modality, 0)
        failures = 0
        cost = Decimal(0)
        for modality, status, count, spent in rows:
            by_modality[Modality(modality)] += int(count)
            failures += int(count) if status == Status.FAILED else 0
            cost += Decimal(str(spent))
        return UsageSummary(since, sum(by_modality.values()), by_modality, failures, cost)

    def _target(self, db: Session, actor: Account, user_id: uuid.UUID) -> User:
        # The actor's role is checked again inside the transaction: it may have just changed.
        lock_for_transaction(db, "admins")
        require_current_admin(db, actor)
        user = db.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        return user

    @staticmethod
    def _active_admins(db: Session) -> int:
        return int(
            db.scalar(
                select(func.count())
                .select_from(User)
                .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
            )
            or 0
        )


def _conditions(filters: GenerationFilter, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
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
    if filters.created_from is not None:
        conditions.append(Generation.created_at >= filters.created_from)
    if filters.created_before is not None:
        conditions.append(Generation.created_at < filters.created_before)
    if needle := filters.text.strip():
        pattern = "%" + _escape_like(needle) + "%"
        # ILIKE is what the pg_trgm index serves; SQLite's LIKE ignores ASCII case already.
        if dialect == "postgresql":
            conditions.append(Generation.prompt.ilike(pattern, escape="\\"))
        else:
            conditions.append(Generation.prompt.like(pattern, escape="\\"))
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


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate bypasses the column type: SQLite hands back text, PostgreSQL a datetime."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


@dataclass(frozen=True)
class _Cursor:
    """A position in the list: the (created_at, id) of a row and which side of it to read."""

    created_at: datetime
    id: uuid.UUID
    backwards: bool

    @classmethod
    def after(cls, row: AdminGenerationRow) -> _Cursor:
        return cls(row.created_at, row.id, backwards=False)

    @classmethod
    def before(cls, row: AdminGenerationRow) -> _Cursor:
        return cls(row.created_at, row.id, backwards=True)

    def encode(self) -> str:
        document = {
            "v": _CURSOR_VERSION,
            "t": self.created_at.isoformat(),
            "i": self.id.hex,
            "b": self.backwards,
        }
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> _Cursor:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            document = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if document["v"] != _CURSOR_VERSION:
                raise ValueError(document["v"])
            created_at = datetime.fromisoformat(document["t"])
            if created_at.tzinfo is None:
                raise ValueError("naive time")
            return cls(created_at, uuid.UUID(hex=document["i"]), bool(document["b"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidInput(
                "This page position is no longer valid; start from the first page."
            ) from None
