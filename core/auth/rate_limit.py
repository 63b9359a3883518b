"""Fixed-window rate limits, counted in the database or, when configured, in Redis.

A window opens at a key's first hit and lasts `window_seconds`; the answer to a refused hit says
when that window closes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.errors import RateLimited
from storage.db import transaction
from storage.models import RateLimitCounter


class RateLimiter(Protocol):
    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one hit; return (hits in the current window, seconds until it closes)."""
        ...

    def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        """The same answer as `hit`, without counting: 0 when no window is open."""
        ...


class SqlRateLimiter:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = self._now()
        expired = RateLimitCounter.window_started_at <= now - timedelta(seconds=window_seconds)
        with transaction(self._sessions) as session:
            insert = (
                postgresql.insert
                if session.get_bind().dialect.name == "postgresql"
                else sqlite.insert
            )
            # One statement, so two requests racing on the same key both get counted.
            statement = (
                insert(RateLimitCounter)
                .values(key=key, window_started_at=now, count=1)
                .on_conflict_do_update(
                    index_elements=[RateLimitCounter.key],
                    set_={
                        "count": case((expired, literal(1)), else_=RateLimitCounter.count + 1),
                        "window_started_at": case(
                            (expired, literal(now, RateLimitCounter.window_started_at.type)),
                            else_=RateLimitCounter.window_started_at,
                        ),
                    },
                )
                .returning(RateLimitCounter.count, RateLimitCounter.window_started_at)
            )
            count, started = session.execute(statement).one()
        closes_in = (started + timedelta(seconds=window_seconds) - now).total_seconds()
        return int(count), max(1, math.ceil(closes_in))

    def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = self._now()
        with self._sessions() as session:
            row = session.get(RateLimitCounter, key)
        if row is None or row.window_started_at <= now - timedelta(seconds=window_seconds):
            return 0, window_seconds
        closes_in = (
            row.window_started_at + timedelta(seconds=window_seconds) - now
        ).total_seconds()
        return row.count, max(1, math.ceil(closes_in))


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = f"atelier:rate:{key}"
        pipe = self._redis.pipeline()
        pipe.set(name, 0, ex=window_seconds, nx=True)
        pipe.incr(name)
        pipe.ttl(name)
        _created, count, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = f"atelier:rate:{key}"
        pipe = self._redis.pipeline()
        pipe.get(name)
        pipe.ttl(name)
        count, ttl = pipe.execute()
        if count is None or int(ttl) <= 0:
            return 0, window_seconds
        return int(count), int(ttl)


def limit_key(action: str, key: str) -> str:
    """The counter's name: the caller's part (an email, an IP) as a fixed-length digest, so no
    input can overflow the column or put arbitrary text into a key."""
    return f"{action}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


def enforce(
    limiter: RateLimiter,
    action: str,
    limits: dict[str, int],
    *,
    refusal: Callable[[int], str] | None = None,
) -> None:
    """Count a hit on every key; refuse if any key is over its limit per minute.

    An attempt that a full key refuses is counted on the full keys only. Counted on the others
    as well, it could fill one whose window opened later, and each try would push the time to
    wait further out (the login page said 47, 46, then 49 s). A window's end never moves, so
    the wait a run of refusals names only goes down until an attempt is let through.

    `refusal` words the message from the seconds to wait; the default names the action."""
    keys = {limit_key(action, key): limit for key, limit in limits.items()}
    # With one key there is no other to keep out of it: no need to look before counting.
    full = _full(limiter, keys) if len(keys) > 1 else {}
    waits = _count(limiter, full or keys)
    if full and not waits:
        # Their windows closed between the look and the count: an ordinary attempt after all.
        waits = _count(limiter, {key: limit for key, limit in keys.items() if key not in full})
    if waits:
        wait = max(waits)
        metrics.record_refusal(action)
        raise RateLimited(action, wait, refusal(wait) if refusal else None)


def _full(limiter: RateLimiter, limits: dict[str, int]) -> dict[str, int]:
    """The keys that would refuse one more hit."""
    return {key: limit for key, limit in limits.items() if limiter.peek(key, 60)[0] >= limit}


def _count(limiter: RateLimiter, limits: dict[str, int]) -> list[int]:
    """Count one hit on each key; the seconds to wait for each key now past its limit."""
    waits = []
    for key, limit in limits.items():
        count, closes_in = limiter.hit(key, 60)
        if count > limit:
            waits.append(closes_in)
    return waits
