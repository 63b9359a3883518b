"""The Celery worker: `celery -A queueing.worker worker --pool threads -Q cpu,gpu`.

It reads the same environment as the app, builds the services once for the process (thread
pools and database pools are not shared across a fork, hence the threads pool), beats for its
running jobs, and re-queues the jobs of workers that stopped beating.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from prometheus_client import start_http_server

from core.config import Settings
from core.logs import configure_logging
from core.services import Services, build_services
from queueing.celery_app import RUN_JOBS, celery_app

log = logging.getLogger(__name__)

settings = Settings()
configure_logging(settings.log_level)
app = celery_app(settings)

_lock = threading.Lock()
_services: Services | None = None


def worker_services() -> Services:
    global _services
    with _lock:
        if _services is None:
            _services = build_services(settings)
            _services.heartbeat.start()
            if settings.worker_metrics_port:
                start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
            log.info(
                "worker ready",
                extra={"worker": _services.job_runner.worker_id, "queues": settings.worker_queues},
            )
        return _services


@app.task(name=RUN_JOBS)
def run_jobs(queue_name: str, job_id: str) -> int:
    """Run the fairest pending jobs until none is left for this worker; how many ran."""
    return worker_services().job_runner.drain()


@worker_ready.connect
def _on_ready(**_kwargs: Any) -> None:
    # At once, not at the first message: the heartbeat also re-queues other workers' lost jobs.
    worker_services()


@worker_shutdown.connect
def _on_shutdown(**_kwargs: Any) -> None:
    with _lock:
        if _services is not None:
            _services.close()
