"""Usage analytics over a period and a scope, aggregated in SQL.

Every figure is computed by the database: the rows that come back are already aggregates (one
per day and modality, per provider and model, per provider, per error reason), a few hundred at
most, so a page never loads generations into memory. On PostgreSQL the "everyone" queries are
answered by the covering index `ix_generations_created_at_analytics` alone (index-only scans);
one user's come through `ix_generations_user_id_created_at_id`.

What counts: a generation is every request the pipeline took on, completed or failed (input
refused before it, such as text with nothing to speak, is none), so "Generations" and each
modality's count include failures, which are also a figure of their own; "made" (images made,
audio spoken) counts completed ones only. Imported images are not generations. The Admin page's
usage tiles are `totals` of the same aggregate, so both pages always agree.

Days are UTC days. Latency percentiles count completed generations only (a failure's latency is
the time until it gave up) and interpolate like PostgreSQL's `percentile_cont`, on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Executable,
    Float,
    Integer,
    case,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, sessionmaker

from core.auth.account import Account
from core.errors import PermissionDenied
from core.generation.status import Status
from core.imports.library import IMPORT_PROVIDER
from core.imports.usage import ImportUsage, import_usage
from core.modality import Modality
from core.periods import Period, Window, period_window
from storage.models import Generation

MICRODOLLAR = Decimal("0.000001")
TOP_ERRORS = 10
# What a count of generations means, for the pages that show one.
COUNTED = (
    "Every generation, failed ones included (they are also counted under Failures); "
    "imported images are not generations."
)


@dataclass(frozen=True)
class Scope:
    """Whose generations: one user's, or everyone's (`user_id` None)."""

    user_id: uuid.UUID | None

    @classmethod
    def everyone(cls) -> Scope:
        return cls(None)

    @classmethod
    def of(cls, user_id: uuid.UUID) -> Scope:
        return cls(user_id)


@dataclass(frozen=True)
class Kpis:
    generations: int
    failures: int
    error_rate: float
    # Generations of each modality, failed ones included, like `generations`.
    by_modality: dict[Modality, int]
    # Completed speech only.
    audio_minutes: float
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal


@dataclass(frozen=True)
class DailyUsage:
    """One UTC day and modality."""

    day: date
    modality: str
    generations: int
    failures: int
    # Completed only: images made, seconds of audio spoken.
    completed: int
    audio_seconds: float
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal


@dataclass(frozen=True)
class ModelUsage:
    provider: str
    model: str
    generations: int
    failures: int
    cost_usd: Decimal


@dataclass(frozen=True)
class ProviderLatency:
    provider: str
    completed: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class ErrorReason:
    reason: str
    count: int


@dataclass(frozen=True)
class Report:
    window: Window
    scope: Scope
    kpis: Kpis
    daily: list[DailyUsage]
    models: list[ModelUsage]
    latency: list[ProviderLatency]
    errors: list[ErrorReason]
    imports: ImportUsage

    @property
    def is_empty(self) -> bool:
        return self.kpis.generations == 0 and self.imports.jobs == 0


class Analytics:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def report(
        self,
        account: Account,
        period: Period,
        *,
        scope: Scope | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Report:
        """Every aggregate of the dashboard; `scope` defaults to the account's own data."""
        chosen = scope or Scope.of(account.id)
        _check_scope(account, chosen)
        window = period_window(period, self._now(), start=start, end=end)
        where = _conditions(window, chosen)
        with self._sessions() as db:
            postgres = db.get_bind().dialect.name == "postgresql"
            daily = daily_usage(db, window, chosen)
            models = [_model(row) for row in db.execute(_models_query(where))]
            latency = [_latency(row) for row in db.execute(_latency_query(where, postgres))]
            errors = [
                ErrorReason(r.reason, int(r.failures)) for r in db.execute(_errors_query(where))
            ]
            imports = import_usage(db, window, chosen.user_id)
        return Report(window, chosen, totals(daily), daily, models, latency, errors, imports)


def daily_usage(db: Session, window: Window, scope: Scope) -> list[DailyUsage]:
    """The per-day and modality aggregate alone, for callers that check permission themselves."""
    query = _daily_query(_conditions(window, scope), db.get_bind().dialect.name == "postgresql")
    return [_daily(row) for row in db.execute(query)]


def _check_scope(account: Account, scope: Scope) -> None:
    if scope.user_id != account.id and not account.is_admin:
        raise PermissionDenied("Only administrators can see other people's analytics.")


def _conditions(window: Window, scope: Scope) -> list[ColumnElement[bool]]:
    whose = [] if scope.user_id is None else [Generation.user_id == scope.user_id]
    # Imported images are not generations: they have figures of their own (`imports`).
    made_here = Generation.provider != IMPORT_PROVIDER
    return [*whose, made_here, *window.bounds(Generation.created_at)]


def _day(postgres: bool) -> ColumnElement[date]:
    if postgres:
        return cast(func.timezone("UTC", Generation.created_at), Date)
    # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" text.
    return type_coerce(func.substr(Generation.created_at, 1, 10), Date)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


_FAILED = Generation.status == Status.FAILED
_COMPLETED = Generation.status == Status.COMPLETED


def _daily_query(where: Sequence[ColumnElement[bool]], postgres: bool) -> Executable:
    day = _day(postgres).label("day")
    return (
        select(
            day,
            Generation.modality,
            func.count().label("generations"),
            _count_if(_FAILED).label("failures"),
            _count_if(_COMPLETED).label("completed"),
            func.coalesce(
                func.sum(case((_COMPLETED, cast(Generation.duration_seconds, Float)))), 0.0
            ).label("audio_seconds"),
            func.coalesce(func.sum(Generation.tokens_in), 0).label("tokens_in"),
            func.coalesce(func.sum(Generation.tokens_out), 0).label("tokens_out"),
            func.coalesce(func.sum(Generation.cost_usd), 0).label("cost_usd"),
        )
        .where(*where)
        .group_by(day, Generation.modality)
        .order_by(day, Generation.modality)
    )


def _models_query(where: Sequence[ColumnElement[bool]]) -> Executable:
    generations = func.count().label("generations")
    return (
        select(
            Generation.provider,
            Generation.model,
            generations,
            _count_if(_FAILED).label("failures"),
            func.coalesce(func.sum(Generation.cost_usd), 0).label("cost_usd"),
        )
        .where(*where)
        .group_by(Generation.provider, Generation.model)
        .order_by(generations.desc(), Generation.provider, Generation.model)
    )


def _latency_query(where: Sequence[ColumnElement[bool]], postgres: bool) -> Executable:
    timed = [*where, _COMPLETED, Generation.latency_ms.is_not(None)]
    if postgres:
        return (
            select(
                Generation.provider,
                func.count().label("completed"),
                func.percentile_cont(0.5).within_group(Generation.latency_ms).label("p50"),
                func.percentile_cont(0.95).within_group(Generation.latency_ms).label("p95"),
            )
            .where(*timed)
            .group_by(Generation.provider)
            .order_by(Generation.provider)
        )
    # SQLite has no percentile_cont: number the latencies per provider with window functions,
    # then interpolate between the two rows around position p * (n - 1), as percentile_cont does.
    ranked = (
        select(
            Generation.provider,
            Generation.latency_ms.label("latency"),
            func.row_number()
            .over(partition_by=Generation.provider, order_by=Generation.latency_ms)
            .label("rank"),
            func.count().over(partition_by=Generation.provider).label("n"),
        )
        .where(*timed)
        .subquery()
    )
    return (
        select(
            ranked.c.provider,
            func.max(ranked.c.n).label("completed"),
            _interpolated(ranked.c.rank, ranked.c.n, ranked.c.latency, 0.5).label("p50"),
            _interpolated(ranked.c.rank, ranked.c.n, ranked.c.latency, 0.95).label("p95"),
        )
        .group_by(ranked.c.provider)
        .order_by(ranked.c.provider)
    )


def _interpolated(
    rank: ColumnElement[int], n: ColumnElement[int], value: ColumnElement[int], fraction: float
) -> ColumnElement[float]:
    # 1-based position of the percentile; `below` is the row at or just under it.
    position = 1 + fraction * (n - 1)
    below = cast(position, Integer)  # truncation is floor here: position >= 1
    weight = position - below
    return func.sum(
        case(
            (rank == below, value * (1 - weight)),
            (rank == below + 1, value * weight),
            else_=0,
        )
    )


def _errors_query(where: Sequence[ColumnElement[bool]]) -> Executable:
    failures = func.count().label("failures")
    reason = func.coalesce(Generation.error, "(no reason recorded)").label("reason")
    return (
        select(reason, failures)
        .where(*where, _FAILED)
        .group_by(reason)
        .order_by(failures.desc(), reason)
        .limit(TOP_ERRORS)
    )


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(MICRODOLLAR)


def _day_value(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _daily(row: Any) -> DailyUsage:
    return DailyUsage(
        day=_day_value(row.day),
        modality=row.modality,
        generations=int(row.generations),
        failures=int(row.failures),
        completed=int(row.completed),
        audio_seconds=round(float(row.audio_seconds), 2),
        tokens_in=int(row.tokens_in),
        tokens_out=int(row.tokens_out),
        cost_usd=_money(row.cost_usd),
    )


def _model(row: Any) -> ModelUsage:
    return ModelUsage(
        row.provider,
        row.model,
        int(row.generations),
        int(row.failures),
        _money(row.cost_usd),
    )


def _latency(row: Any) -> ProviderLatency:
    return ProviderLatency(
        row.provider, int(row.completed), round(float(row.p50), 1), round(float(row.p95), 1)
    )


def totals(daily: list[DailyUsage]) -> Kpis:
    """Totals of the per-day aggregates (a few hundred rows), not of generations."""
    generations = sum(d.generations for d in daily)
    failures = sum(d.failures for d in daily)
    by_modality = dict.fromkeys(Modality, 0)
    for day in daily:
        by_modality[Modality(day.modality)] += day.generations
    return Kpis(
        generations=generations,
        failures=failures,
        error_rate=failures / generations if generations else 0.0,
        by_modality=by_modality,
        audio_minutes=round(
            sum(d.audio_seconds for d in daily if d.modality == Modality.SPEECH) / 60, 2
        ),
        tokens_in=sum(d.tokens_in for d in daily),
        tokens_out=sum(d.tokens_out for d in daily),
        cost_usd=sum((d.cost_usd for d in daily), Decimal(0)).quantize(MICRODOLLAR),
    )
