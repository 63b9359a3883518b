"""The anonymous owner of generations made without an account (core/anonymous.py)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core.anonymous import ANONYMOUS_USER_ID
from core.auth.account import Role
from core.config import Settings
from core.errors import AuthenticationFailed, RateLimited
from core.generation.speech import SpeechOrder
from core.services import start_services
from storage.models import User
from tests.support.clock import FakeClock


def test_created_once_under_a_race_and_never_the_first_admin(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    app = start_services(make_settings(anonymous_generation=True), now=clock)
    try:
        with ThreadPoolExecutor(8) as pool:
            owners = list(pool.map(lambda _: app.anonymous.owner(), range(8)))
        assert {owner.id for owner in owners} == {ANONYMOUS_USER_ID}
        with app.db() as db:
            assert db.scalar(select(func.count()).select_from(User)) == 1
        # The first person to sign up after it is still the administrator ...
        first = app.auth.register("ada@example.com", "correct horse 42", ip=None)
        assert first.role is Role.ADMIN
        # ... who does not see it among the accounts to manage.
        assert [row.email for row in app.admin.users(first)] == ["ada@example.com"]
        with pytest.raises(AuthenticationFailed):
            app.auth.login("anonymous", "correct horse 42", ip=None)
    finally:
        app.close()


def test_limited_per_ip_but_not_as_one_user(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    app = start_services(
        make_settings(
            anonymous_generation=True,
            limit_anonymous_generations_per_minute=2,
            limit_generations_per_minute_user=1,
        ),
        now=clock,
    )
    try:
        for ip in ("10.0.0.1", "10.0.0.2"):
            for _ in range(2):
                owner = app.anonymous.admit(ip)
                # The owner's own per-minute limit is off: the IPs are what is limited.
                app.speech.synthesize(
                    owner.id, SpeechOrder(text="hi", language="en", slow=False, provider="offline")
                )
            with pytest.raises(RateLimited) as refused:
                app.anonymous.admit(ip)
            assert "2 generations a minute" in str(refused.value)
        clock.advance(seconds=61)
        assert app.anonymous.admit("10.0.0.1").id == ANONYMOUS_USER_ID
    finally:
        app.close()


def test_refused_when_turned_off(make_settings: Callable[..., Settings]) -> None:
    app = start_services(make_settings())
    try:
        with pytest.raises(AuthenticationFailed):
            app.anonymous.admit("10.0.0.1")
        with pytest.raises(AuthenticationFailed):
            app.anonymous.owner()
    finally:
        app.close()
