"""Seed 002's limit on administrators' API calls: 100 a minute per administrator."""

from __future__ import annotations

from core.auth.account import Account
from core.auth.rate_limit import RateLimiter, enforce
from core.permissions import require_admin


class AdminRequests:
    def __init__(self, limiter: RateLimiter, *, per_minute: int) -> None:
        self._limiter = limiter
        self._per_minute = per_minute

    def admit(self, actor: Account) -> None:
        """Refuse a non-administrator, then count one request of this administrator."""
        require_admin(actor)
        enforce(
            self._limiter,
            "admin-request",
            {str(actor.id): self._per_minute},
            refusal=lambda wait: (
                f"You can make {self._per_minute} admin requests a minute. Try again in {wait} s."
            ),
        )
