"""The Analytics page through AppTest: KPIs, charts and CSV downloads; the scope is for admins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from core.auth.account import Account
from core.services import Services
from storage.db import transaction
from storage.models import Generation
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"


def _generate(services: Services, owner: Account, count: int, **values: object) -> None:
    now = datetime.now(UTC)
    with transaction(services.db) as db:
        for n in range(count):
            row: dict[str, object] = {
                "modality": "image", "provider": "sketch", "model": "sketch-v1",
                "status": "completed", "latency_ms": 100 + n, "cost_usd": Decimal("0.01"),
                "prompt": "a fox", "s3_bucket": "b", "created_at": now - timedelta(hours=n + 1),
            } | values  # fmt: skip
            db.add(Generation(id=uuid.uuid4(), user_id=owner.id, **row))


@pytest.fixture
def people(app_services: Services) -> dict[str, Account]:
    admin = app_services.auth.register("admin@example.com", PASSWORD, ip=None)
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    _generate(app_services, admin, 5)
    _generate(app_services, ada, 2)
    _generate(
        app_services, ada, 1, modality="speech", provider="offline", model="offline",
        duration_seconds=Decimal("90"),
    )  # fmt: skip
    _generate(app_services, ada, 1, status="failed", error="Pollinations is rate limiting us.")
    return {"admin": admin, "ada": ada}


def _open(app: AppTest, email: str) -> AppTest:
    log_in(app, email, PASSWORD)
    return app.switch_page("../pages/analytics.py").run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _selectbox_keys(at: AppTest) -> set[str | None]:
    return {s.key for s in at.selectbox}


def test_a_user_sees_own_kpis_charts_and_downloads(app: AppTest, people: object) -> None:
    at = _open(app, "ada@example.com")

    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = _metrics(at)
    assert metrics["Generations"] == "4"
    assert metrics["Failures"] == "1"
    assert metrics["Error rate"] == "25.0%"
    assert metrics["Images"] == "2"
    assert metrics["Audio minutes"] == "1.5"
    assert metrics["Cost"] == "$0.0400"
    assert len(at.get("vega_lite_chart")) >= 8
    assert len(at.get("download_button")) == len(at.get("vega_lite_chart"))
    assert "analytics_scope" not in _selectbox_keys(at)


def test_an_admin_can_switch_to_everyone_and_to_one_user(app: AppTest, people: object) -> None:
    at = _open(app, "admin@example.com")
    assert _metrics(at)["Generations"] == "5"

    at.selectbox(key="analytics_scope").select("everyone").run()
    assert _metrics(at)["Generations"] == "9"

    at.selectbox(key="analytics_scope").select("user").run()
    users = at.selectbox(key="analytics_user")
    assert users.options == ["ada@example.com", "admin@example.com"]
    users.select("ada@example.com").run()
    assert _metrics(at)["Generations"] == "4"


def test_an_empty_period_says_so(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    at = _open(app, "ada@example.com")

    assert not at.exception
    assert "No generations in this period" in at.info[0].value
    assert not at.metric and not at.get("vega_lite_chart")
