"""Prometheus metrics: the counters and histograms every face updates, served at `/metrics`.

They live in prometheus-client's default registry, which is per process: with several
Streamlit processes (replicas), each one reports its own figures and Prometheus sums them.
Label values come from bounded sets (modalities, providers and their models, limit names,
route templates, HTTP statuses), never from what a client typed, so the series stay few.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

# From a 10 ms offline sketch to a 2-minute remote generation.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)

GENERATIONS = Counter(
    "atelier_generations",
    "Generations that finished, by modality, provider, model and status (completed or failed).",
    ["modality", "provider", "model", "status"],
)
GENERATION_SECONDS = Histogram(
    "atelier_generation_seconds",
    "Time a generation took from the provider call to its status being known, per provider.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
REFUSALS = Counter(
    "atelier_limit_refusals",
    "Requests refused by a limit (login, register, generations_per_minute, daily_image, ...).",
    ["limit"],
)
API_REQUESTS = Counter(
    "atelier_api_requests",
    "API requests by route template (e.g. /image/{image_id}) and HTTP status.",
    ["route", "status"],
)
UI_SESSIONS = Gauge(
    "atelier_ui_sessions_active",
    "Browser sessions of this process that are connected and signed in.",
)

JOB_WAIT_SECONDS = Histogram(
    "atelier_job_wait_seconds",
    "Time a job waited from being queued to a worker starting it, per queue.",
    ["queue"],
    buckets=(0.005, 0.01, 0.025, *LATENCY_BUCKETS[1:], 300, 600),
)
JOB_RUN_SECONDS = Histogram(
    "atelier_job_run_seconds",
    "Time a worker spent on a job, per kind and final state.",
    ["kind", "state"],
    buckets=LATENCY_BUCKETS,
)
JOB_RETRIES = Counter(
    "atelier_job_retries",
    "Jobs queued again because their worker stopped answering (stale heartbeat), per queue.",
    ["queue"],
)

IMPORT_DOWNLOADS = Counter(
    "atelier_import_downloads",
    "URLs an import finished with, by outcome (downloaded, duplicate, or the failure reason).",
    ["outcome"],
)
IMPORT_BYTES = Counter("atelier_import_bytes", "Bytes of images imported and kept.")
IMPORT_IN_FLIGHT = Gauge(
    "atelier_import_downloads_in_flight",
    "Import downloads in progress right now, per domain.",
    ["domain"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def record_generation(
    modality: str, provider: str, model: str, status: str, seconds: float
) -> None:
    GENERATIONS.labels(modality, provider, model, status).inc()
    GENERATION_SECONDS.labels(provider).observe(seconds)


def record_refusal(limit: str) -> None:
    REFUSALS.labels(limit).inc()


def record_api_request(route: str, status: int) -> None:
    API_REQUESTS.labels(route, str(status)).inc()


def count_ui_sessions_with(count: Callable[[], int]) -> None:
    """The UI says how to count its signed-in sessions; the gauge asks on every scrape."""
    UI_SESSIONS.set_function(count)


def record_job_start(queue: str, waited_seconds: float) -> None:
    JOB_WAIT_SECONDS.labels(queue).observe(max(0.0, waited_seconds))


def record_job_end(kind: str, state: str, seconds: float) -> None:
    JOB_RUN_SECONDS.labels(kind, state).observe(seconds)


def record_job_retry(queue: str) -> None:
    JOB_RETRIES.labels(queue).inc()


def record_import_download(outcome: str, size_bytes: int = 0) -> None:
    IMPORT_DOWNLOADS.labels(outcome).inc()
    if size_bytes:
        IMPORT_BYTES.inc(size_bytes)


def import_download_started(domain: str) -> None:
    IMPORT_IN_FLIGHT.labels(domain).inc()


def import_download_ended(domain: str) -> None:
    IMPORT_IN_FLIGHT.labels(domain).dec()


class _QueueDepth:
    """`atelier_jobs{queue,state}` read from the jobs table on each scrape: the table is
    shared by every replica and worker, so any process's answer is the whole queue's."""

    def __init__(self, count: Callable[[], dict[tuple[str, str], int]]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "atelier_jobs",
            "Jobs waiting or running, by queue and state.",
            labels=["queue", "state"],
        )
        try:
            counts = self._count()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
            counts = {}
        for (queue, state), n in sorted(counts.items()):
            family.add_metric([queue, state], n)
        yield family


_queue_depth: _QueueDepth | None = None


def count_jobs_with(count: Callable[[], dict[tuple[str, str], int]]) -> None:
    """Register (once per process) how to count the queue's jobs for `atelier_jobs`."""
    global _queue_depth
    if _queue_depth is None:
        _queue_depth = _QueueDepth(count)
        REGISTRY.register(_queue_depth)
    else:
        _queue_depth._count = count


def exposition() -> bytes:
    """Every metric in the Prometheus text format."""
    return _generate_latest(REGISTRY)
