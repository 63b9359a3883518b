"""Analytics aggregates on both backends, against a handful of generations with known values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.analytics import DailyUsage, ErrorReason, ModelUsage, ProviderLatency, Scope
from core.auth.account import Account
from core.errors import InvalidInput, PermissionDenied
from core.generation.speech import SpeechOrder
from core.modality import Modality
from core.periods import Period, Window, period_window
from core.services import Services
from storage.db import transaction
from storage.models import Generation, Job, UsageEvent
from tests.support.clock import FakeClock

PASSWORD = "correct horse 42"
TIMEOUT = "Pollinations did not answer in time. Try again later."
BUSY = "The chat API is rate limiting us. Wait a minute and try again."


def _add(
    services: Services, clock: FakeClock, owner: Account, ago: timedelta, **values: Any
) -> None:
    row: dict[str, Any] = {
        "modality": "image", "provider": "sketch", "model": "sketch-v2", "status": "completed",
        "prompt": "a fox", "s3_bucket": "bucket", "latency_ms": 100,
    } | values  # fmt: skip
    if row["status"] == "failed":
        row.setdefault("error", TIMEOUT)
    with transaction(services.db) as db:
        db.add(Generation(id=uuid.uuid4(), user_id=owner.id, created_at=clock() - ago, **row))


@pytest.fixture
def people(services: Services, clock: FakeClock) -> dict[str, Account]:
    """An admin (first account), Ada with nine generations, Bob with two."""
    admin = services.auth.register("admin@example.com", PASSWORD, ip=None)
    ada = services.auth.register("ada@example.com", PASSWORD, ip=None)
    bob = services.auth.register("bob@example.com", PASSWORD, ip=None)
    hours = lambda n: timedelta(hours=n)  # noqa: E731
    # 2026-11-22 (the clock says 12:00): three sketches and a chat answer.
    for ago, latency in [(1, 100), (2, 200), (3, 400)]:
        _add(services, clock, ada, hours(ago), latency_ms=latency)
    _add(
        services, clock, ada, hours(3), modality="chat", provider="openai", model="gpt-4o-mini",
        latency_ms=1500, tokens_in=100, tokens_out=250, cost_usd=Decimal("0.000165"),
    )  # fmt: skip
    # 2026-11-21 11:00: a Pollinations timeout.
    _add(
        services, clock, ada, hours(25), provider="pollinations", model="flux",
        status="failed", latency_ms=60000,
    )  # fmt: skip
    # 2026-11-20 12:00: two spoken texts.
    for latency, seconds in [(1000, "90.50"), (3000, "29.50")]:
        _add(
            services, clock, ada, timedelta(days=2), modality="speech", provider="offline",
            model="piper", latency_ms=latency, duration_seconds=Decimal(seconds),
        )  # fmt: skip
    # Older: a busy chat API ten days ago, a sketch forty days ago.
    _add(
        services, clock, ada, timedelta(days=10), modality="chat", provider="openai",
        model="gpt-4o-mini", status="failed", error=BUSY, latency_ms=20,
    )  # fmt: skip
    _add(services, clock, ada, timedelta(days=40), latency_ms=300)
    # Bob: one sketch and one failed speech today.
    _add(services, clock, bob, hours(1), latency_ms=1000, cost_usd=Decimal("0.5"))
    _add(
        services, clock, bob, hours(2), modality="speech", provider="gtts", model="gtts",
        status="failed", error="Could not reach Google Text-to-Speech.", latency_ms=5,
    )  # fmt: skip
    return {"admin": admin, "ada": ada, "bob": bob}


def test_a_week_of_own_generations(services: Services, people: dict[str, Account]) -> None:
    report = services.analytics.report(people["ada"], Period.WEEK)

    kpis = report.kpis
    assert (kpis.generations, kpis.failures) == (7, 1)
    # The failed Pollinations image counts among the image generations, and as a failure.
    assert kpis.by_modality == {Modality.IMAGE: 4, Modality.SPEECH: 2, Modality.CHAT: 1}
    assert kpis.error_rate == pytest.approx(1 / 7)
    assert kpis.audio_minutes == 2.0
    assert (kpis.tokens_in, kpis.tokens_out) == (100, 250)
    assert kpis.cost_usd == Decimal("0.000165")
    assert report.daily == [
        DailyUsage(date(2026, 11, 20), "speech", 2, 0, 2, 120.0, 0, 0, Decimal("0.000000")),
        DailyUsage(date(2026, 11, 21), "image", 1, 1, 0, 0.0, 0, 0, Decimal("0.000000")),
        DailyUsage(date(2026, 11, 22), "chat", 1, 0, 1, 0.0, 100, 250, Decimal("0.000165")),
        DailyUsage(date(2026, 11, 22), "image", 3, 0, 3, 0.0, 0, 0, Decimal("0.000000")),
    ]
    assert report.models == [
        ModelUsage("sketch", "sketch-v2", 3, 0, Decimal("0.000000")),
        ModelUsage("offline", "piper", 2, 0, Decimal("0.000000")),
        ModelUsage("openai", "gpt-4o-mini", 1, 0, Decimal("0.000165")),
        ModelUsage("pollinations", "flux", 1, 1, Decimal("0.000000")),
    ]
    assert report.errors == [ErrorReason(TIMEOUT, 1)]


def test_latency_percentiles_interpolate_completed_generations(
    services: Services, people: dict[str, Account]
) -> None:
    report = services.analytics.report(people["ada"], Period.WEEK)

    # sketch [100, 200, 400]: p95 sits at 0.9 of the way from 200 to 400.
    # piper [1000, 3000]: p50 halfway, p95 at 0.95. The failed Pollinations call has none.
    assert report.latency == [
        ProviderLatency("offline", 2, 2000.0, 2900.0),
        ProviderLatency("openai", 1, 1500.0, 1500.0),
        ProviderLatency("sketch", 3, 200.0, 380.0),
    ]


def test_periods_pick_their_rows(services: Services, people: dict[str, Account]) -> None:
    ada = people["ada"]

    def count(period: Period, **days: date) -> int:
        return services.analytics.report(ada, period, **days).kpis.generations

    assert count(Period.DAY) == 4
    assert count(Period.WEEK) == 7
    assert count(Period.MONTH) == 8
    assert count(Period.ALL) == 9
    assert count(Period.CUSTOM, start=date(2026, 11, 20), end=date(2026, 11, 21)) == 3
    assert count(Period.CUSTOM, start=date(2026, 11, 21), end=date(2026, 11, 21)) == 1
    month = services.analytics.report(ada, Period.MONTH)
    assert month.errors == [ErrorReason(TIMEOUT, 1), ErrorReason(BUSY, 1)]


def test_the_edges_of_a_period(services: Services, clock: FakeClock) -> None:
    ada = services.auth.register("ada@example.com", PASSWORD, ip=None)
    _add(services, clock, ada, timedelta(hours=24))  # exactly on the edge: inside
    _add(services, clock, ada, timedelta(hours=24, seconds=1))  # just before it: outside
    _add(services, clock, ada, timedelta(hours=12))  # 2026-11-22 00:00:00, first instant of a day
    _add(services, clock, ada, timedelta(hours=12, microseconds=1))  # last instant of 11-21

    assert services.analytics.report(ada, Period.DAY).kpis.generations == 3
    only_the_21st = services.analytics.report(
        ada, Period.CUSTOM, start=date(2026, 11, 21), end=date(2026, 11, 21)
    )
    assert only_the_21st.kpis.generations == 3
    assert [(d.day, d.generations) for d in only_the_21st.daily] == [(date(2026, 11, 21), 3)]


def test_a_user_sees_only_their_own(services: Services, people: dict[str, Account]) -> None:
    bob = services.analytics.report(people["bob"], Period.DAY)

    assert (bob.kpis.generations, bob.kpis.failures, bob.kpis.cost_usd) == (2, 1, Decimal("0.5"))
    assert bob.errors == [ErrorReason("Could not reach Google Text-to-Speech.", 1)]
    assert {m.provider for m in bob.models} == {"sketch", "gtts"}
    assert bob.scope == Scope.of(people["bob"].id)


def test_a_user_cannot_ask_for_everyone_or_someone_else(
    services: Services, people: dict[str, Account]
) -> None:
    ada = people["ada"]
    with pytest.raises(PermissionDenied):
        services.analytics.report(ada, Period.ALL, scope=Scope.everyone())
    with pytest.raises(PermissionDenied):
        services.analytics.report(ada, Period.ALL, scope=Scope.of(people["bob"].id))
    assert services.analytics.report(ada, Period.ALL, scope=Scope.of(ada.id)).kpis.generations == 9


def test_an_admin_sees_everyone_or_one_user(services: Services, people: dict[str, Account]) -> None:
    admin = people["admin"]

    everyone = services.analytics.report(admin, Period.DAY, scope=Scope.everyone())
    assert (everyone.kpis.generations, everyone.kpis.failures) == (6, 1)
    assert everyone.kpis.cost_usd == Decimal("0.500165")
    assert [lat.provider for lat in everyone.latency] == ["openai", "sketch"]
    assert everyone.latency[1] == ProviderLatency("sketch", 4, 300.0, 910.0)
    bob = services.analytics.report(admin, Period.DAY, scope=Scope.of(people["bob"].id))
    assert bob.kpis.generations == 2
    assert services.analytics.report(admin, Period.DAY).is_empty


def test_an_empty_period(services: Services, people: dict[str, Account]) -> None:
    report = services.analytics.report(
        people["ada"], Period.CUSTOM, start=date(2025, 1, 1), end=date(2025, 1, 31)
    )

    assert report.is_empty
    assert report.kpis.error_rate == 0.0 and report.kpis.cost_usd == Decimal(0)
    assert report.daily == report.models == report.latency == report.errors == []


def test_a_custom_period_needs_both_days_in_order() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        period_window(Period.CUSTOM, now, start=date(2026, 11, 2), end=date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        period_window(Period.CUSTOM, now, start=date(2026, 11, 2))
    assert period_window(Period.WEEK, now) == Window(now - timedelta(days=7), None)
    assert period_window(Period.ALL, now) == Window(None, None)


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("... !!! ???", "en", "There is nothing to speak in this text, only symbols."),
        ("🙂🙂 ?!", "es", "There is nothing to speak in this text, only symbols."),
        ("   ", "en", "There is no text to speak."),
        ("x" * 2001, "en", "the limit is 2,000"),
        ("Hello.", "xx-nope", "does not speak"),
    ],
)
def test_rejected_speech_input_is_not_a_failed_generation(
    services: Services, text: str, language: str, reason: str
) -> None:
    """Input the user can fix is refused before a job, a row or a usage event exists, so no
    page counts it as a failure, whichever check refuses it."""
    ada = services.auth.register("ada@example.com", PASSWORD, ip=None)
    order = SpeechOrder(text=text, language=language, slow=False, provider="offline")

    with pytest.raises(InvalidInput, match=reason):
        services.jobs.submit_speech(ada.id, order)

    with services.db() as db:
        for table in (Job, Generation, UsageEvent):
            assert db.scalar(select(func.count()).select_from(table)) == 0, table.__name__
    assert services.analytics.report(ada, Period.ALL).is_empty
