"""The process-wide services, built once on first use by whichever face needs them first."""

from __future__ import annotations

import threading

from core.config import Settings
from core.logs import configure_logging
from core.services import Services, start_services

_lock = threading.Lock()
_services: Services | None = None


def services() -> Services:
    global _services
    with _lock:
        if _services is None:
            settings = Settings()
            configure_logging(settings.log_level)
            _services = start_services(settings)
        return _services
