"""Seed 002's limit on administrators' API calls: 100 a minute per administrator."""

from __future__ import annotations

from core import metrics
from core.auth.account import Account
from core.auth.rate_limit import RateLimiter
from core.errors import RateLimited
from core.permissions import require_admin


class AdminRequests:
    def __init__(self, limiter: RateLimiter, *, per_minute: int) -> None:
        self._limiter = limiter
        self._per_minute = per_minute

    def admit(self, actor: Account) -> None:
        """Refuse a non-administrator, then count one request of this administrator."""
        require_admin(actor)
        count, closes_in = self._limiter.hit(f"admin-request:{actor.id}", 60)
        if count > self._per_minute:
            metrics.record_refusal("admin_requests_per_minute")
            raise RateLimited(
                "admin request",
                closes_in,
                f"You can make {self._per_minute} admin requests a minute. "
                f"Try again in {closes_in} s.",
            )
