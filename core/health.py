"""Readiness: can we reach the database and the object store right now?"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.services import Services
from storage.db import ping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthReport:
    checks: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "unavailable", "checks": self.checks}


def check_health(services: Services) -> HealthReport:
    probes: dict[str, Callable[[], None]] = {
        "database": lambda: ping(services.engine),
        "object_store": lambda: services.objects.ping(services.settings.buckets),
    }
    checks: dict[str, dict[str, object]] = {}
    for name, probe in probes.items():
        started = time.perf_counter()
        try:
            probe()
            checks[name] = {"ok": True}
        except Exception as error:  # noqa: BLE001 - health reports every failure, whatever its type
            log.warning("health check failed", extra={"check": name, "error": str(error)})
            checks[name] = {"ok": False, "error": type(error).__name__}
        checks[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return HealthReport(checks)
