"""Generation limits: how many generations a user may start a minute, and a day per modality.

Each role has limits from the settings; an administrator may override any of them for one user
(a `user_limits` row, where NULL keeps the role's). 0 means unlimited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import NoReturn, assert_never

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.auth.account import Account, Role
from core.auth.rate_limit import RateLimiter
from core.errors import InvalidInput, NotFound, RateLimited
from core.generation.status import Status, usage_event_type
from core.modality import Modality
from core.permissions import require_admin, require_current_admin
from storage.db import transaction
from storage.models import UsageEvent, User, UserLimits

UNLIMITED = 0


@dataclass(frozen=True)
class LimitOverrides:
    """A set of limits; `None` means "not set here" (the role's value applies)."""

    generations_per_minute: int | None = None
    daily_image: int | None = None
    daily_speech: int | None = None
    daily_chat: int | None = None

    def daily(self, modality: Modality) -> int | None:
        match modality:
            case Modality.IMAGE:
                return self.daily_image
            case Modality.SPEECH:
                return self.daily_speech
            case Modality.CHAT:
                return self.daily_chat
            case _:
                assert_never(modality)

    def over(self, base: LimitOverrides) -> LimitOverrides:
        """These values where set, the base's elsewhere."""
        return replace(
            base,
            **{
                field.name: getattr(self, field.name)
                for field in fields(self)
                if getattr(self, field.name) is not None
            },
        )

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, field.name) is None for field in fields(self))


class LimitReached(RateLimited):
    """A generation refused by a limit; the message says which one and when it resets."""


class GenerationLimits:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        limiter: RateLimiter,
        roles: Mapping[Role, LimitOverrides],
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._limiter = limiter
        self._roles = roles
        self._now = now

    def role_limits(self, role: Role) -> LimitOverrides:
        return self._roles[role]

    def overrides(self, actor: Account, user_id: uuid.UUID) -> LimitOverrides:
        require_admin(actor)
        with self._sessions() as db:
            return _overrides_of(db.get(UserLimits, user_id))

    def set_overrides(self, actor: Account, user_id: uuid.UUID, overrides: LimitOverrides) -> None:
        require_admin(actor)
        if any((getattr(overrides, f.name) or 0) < 0 for f in fields(overrides)):
            raise InvalidInput("A limit cannot be negative (0 means unlimited).")
        with transaction(self._sessions) as db:
            require_current_admin(db, actor)
            if db.get(User, user_id) is None:
                raise NotFound("There is no such user.")
            if overrides.is_empty:
                db.execute(delete(UserLimits).where(UserLimits.user_id == user_id))
                return
            row = db.get(UserLimits, user_id) or UserLimits(user_id=user_id)
            for field in fields(overrides):
                setattr(row, field.name, getattr(overrides, field.name))
            row.updated_at = self._now()
            db.add(row)

    def effective(self, user_id: uuid.UUID) -> LimitOverrides:
        with self._sessions() as db:
            return self._effective(db, user_id)

    def used_today(self, user_id: uuid.UUID) -> dict[Modality, int]:
        with self._sessions() as db:
            rows = db.execute(
                self._today_query(user_id)
                .add_columns(UsageEvent.modality)
                .group_by(UsageEvent.modality)
            ).all()
        counts = {Modality(modality): int(count) for count, modality in rows}
        return {modality: counts.get(modality, 0) for modality in Modality}

    def admit(
        self,
        user_id: uuid.UUID,
        modality: Modality,
        *,
        count: int = 1,
        in_flight: Callable[[], int] = lambda: 0,
    ) -> None:
        """Count `count` generations about to start (or be queued), all or none, or raise
        `LimitReached` saying when to retry.

        The daily quota counts completed generations from the append-only usage events, so
        deleting one from the gallery does not give it back; failures are free. `in_flight`
        counts the user's generations queued or running (not in the events yet) as used; it
        is only asked when a daily quota applies.
        Generations running in this thread are not counted, so a burst started at the same
        instant can pass the daily quota by the number in flight. The per-minute limit counts
        every start atomically, which is what bounds such a burst.
        """
        per_minute = self._check_daily(user_id, modality, wanted=count, queued=in_flight)
        if per_minute == UNLIMITED:
            return
        key = f"generate:{user_id}"
        if count > 1:
            started, closes_in = self._limiter.peek(key, 60)
            if started + count > per_minute:
                self._refuse_per_minute(per_minute, closes_in, room=max(0, per_minute - started))
        for _ in range(count):
            started, closes_in = self._limiter.hit(key, 60)
        if started > per_minute:
            self._refuse_per_minute(per_minute, closes_in)

    def _check_daily(
        self,
        user_id: uuid.UUID,
        modality: Modality,
        *,
        wanted: int,
        queued: Callable[[], int] = lambda: 0,
    ) -> int:
        """Refuse if `wanted` more would pass today's quota; the per-minute limit that applies."""
        with self._sessions() as db:
            limits = self._effective(db, user_id)
            daily = limits.daily(modality) or UNLIMITED
            if daily != UNLIMITED:
                done = db.scalar(
                    self._today_query(user_id).where(UsageEvent.modality == modality.value)
                )
                used = (done or 0) + queued()
                if used + wanted > daily:
                    self._refuse_daily(modality, daily, used, wanted)
        return limits.generations_per_minute or UNLIMITED

    def _refuse_per_minute(
        self, per_minute: int, closes_in: int, room: int | None = None
    ) -> NoReturn:
        metrics.record_refusal("generations_per_minute")
        left = "" if room is None else f" {room} more can start now."
        raise LimitReached(
            "generation",
            closes_in,
            f"You can start {per_minute} generations a minute.{left} Try again in {closes_in} s.",
        )

    def _refuse_daily(self, modality: Modality, quota: int, used: int, wanted: int) -> NoReturn:
        now = self._now()
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
        wait = max(1, int((midnight - now).total_seconds()))
        hours, minutes = divmod(max(1, wait // 60), 60)
        metrics.record_refusal(f"daily_{modality.value}")
        spent = (
            f"You have used today's {quota} {modality.value} generations."
            if used >= quota
            else f"Today's quota leaves {quota - used} {modality.value} generations; "
            f"you asked for {wanted}."
        )
        raise LimitReached(
            modality.value,
            wait,
            f"{spent} The quota resets at 00:00 UTC, in {hours} h {minutes} min.",
        )

    def _effective(self, db: Session, user_id: uuid.UUID) -> LimitOverrides:
        # One round trip: this runs before every generation.
        found = db.execute(
            select(User.role, UserLimits)
            .outerjoin(UserLimits, UserLimits.user_id == User.id)
            .where(User.id == user_id)
        ).one_or_none()
        if found is None:
            raise NotFound("There is no such user.")
        role, overrides = found
        return _overrides_of(overrides).over(self._roles[Role(role)])

    def _today_query(self, user_id: uuid.UUID) -> Select[int]:
        now = self._now()
        start = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        return select(func.count()).where(
            UsageEvent.user_id == user_id,
            UsageEvent.created_at >= start,
            UsageEvent.event_type == usage_event_type(Status.COMPLETED),
        )


def _overrides_of(row: UserLimits | None) -> LimitOverrides:
    if row is None:
        return LimitOverrides()
    return LimitOverrides(
        generations_per_minute=row.generations_per_minute,
        daily_image=row.daily_image,
        daily_speech=row.daily_speech,
        daily_chat=row.daily_chat,
    )
