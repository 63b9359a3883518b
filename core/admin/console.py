"""The one object the Admin page and the benchmarks hold; the work is done in `generations` and
`users`, so this only wires them and names their methods in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.admin.generations import GenerationBrowser
from core.admin.requests import AdminRequests
from core.admin.users import UserManagement
from core.auth.rate_limit import RateLimiter
from core.auth.sessions import RefreshSessions
from storage.objects import ObjectStore


class AdminConsole:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        *,
        refresh: RefreshSessions,
        presign_ttl_seconds: int,
        limiter: RateLimiter,
        requests_per_minute: int,
        now: Callable[[], datetime],
    ) -> None:
        browser = GenerationBrowser(sessions, store, presign_ttl_seconds=presign_ttl_seconds)
        users = UserManagement(sessions, refresh=refresh, now=now)
        # Bound methods rather than wrappers: one signature each, kept where the work is.
        self.admit_request = AdminRequests(limiter, per_minute=requests_per_minute).admit
        self.generations = browser.generations
        self.generation_page = browser.generation_page
        self.filter_choices = browser.filter_choices
        self.open_generation = browser.open_generation
        self.user_emails = users.user_emails
        self.users = users.users
        self.set_role = users.set_role
        self.set_active = users.set_active
        self.usage = users.usage
