"""The job queue on Celery over Redis, with PostgreSQL + SeaweedFS and real `celery worker`s.

* enqueue-to-start latency: a job queued to a worker idle and waiting (p50/p95, from the rows'
  own `created_at` and `started_at`, one clock);
* overhead per job: a generation queued and waited for, against the same generation called
  in-process (`ImageStudio.generate`), one at a time and turn about: goal <= 20 ms p50;
* throughput of the offline engines (sketch image, espeak-ng speech) with 1 and 2 workers, a
  burst of jobs at once, against back-to-back in-process calls;
* fairness over 3 users: A queues 20 images, then B 5 and C 1; at which start (slot) B's first
  and C's job began.

    python -m bench.job_queue [--runs 60] [--burst 40]

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import text

from bench.stack import percentiles, production_stack
from core.generation.image import ImageOrder
from core.generation.speech import SpeechOrder
from core.jobs.model import Job
from core.services import Services
from storage.db import transaction
from tests.support.celery_workers import CeleryWorker, start_worker

BROKER = "redis://127.0.0.1:6379/12"
PASSWORD = "correct horse 42"


def _image(seed: int) -> ImageOrder:
    return ImageOrder(
        prompt="a lighthouse on a cliff at dusk",
        width=256,
        height=256,
        seed=seed,
        model="sketch-v2",
        style=None,
        provider="sketch",
    )


# Instant: espeak-ng, so the queue's cost is not lost in Kokoro's (Spanish's best voice) ~1 s.
SPEECH = SpeechOrder(
    text="Hola, esto es una prueba.", language="es", slow=False, provider="offline", instant=True
)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _alternated(
    services: Services, user: uuid.UUID, runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]]]:
    """Each generation called in process, then the same one queued and waited for, turn about:
    both see the same machine (other work on a 2-core box comes and goes). End-to-end times
    per kind, in process and queued, and where a queued image's time went."""
    direct: dict[str, list[float]] = {"image": [], "speech": []}
    queued: dict[str, list[float]] = {"image": [], "speech": []}
    parts: dict[str, list[float]] = {"submit": [], "to_start": [], "run": [], "noticed": []}
    for n in range(runs):
        started = time.perf_counter()
        services.images.generate(user, _image(n))
        direct["image"].append(_ms(started))
        started = time.perf_counter()
        [job] = services.jobs.submit_images(user, _image(n))
        parts["submit"].append(_ms(started))
        [done] = services.queue.outcome(user, [job.id], 60)
        noticed = datetime.now(UTC)
        queued["image"].append(_ms(started))
        assert done.started_at is not None and done.finished_at is not None
        parts["to_start"].append(_between_ms(done.created_at, done.started_at))
        parts["run"].append(_between_ms(done.started_at, done.finished_at))
        parts["noticed"].append(_between_ms(done.finished_at, noticed))
        started = time.perf_counter()
        services.speech.synthesize(user, SPEECH)
        direct["speech"].append(_ms(started))
        started = time.perf_counter()
        job = services.jobs.submit_speech(user, SPEECH)
        services.queue.outcome(user, [job.id], 60)
        queued["speech"].append(_ms(started))
    return direct, queued, parts


def _commit_ms(services: Services, runs: int) -> dict[str, float]:
    """One write transaction on this database (an UPDATE and its commit): a job costs three
    of them beyond the generation's own (queued, claimed, ended)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with transaction(services.db) as db:
            db.execute(text("UPDATE jobs SET progress = progress WHERE false"))
            db.execute(text("SELECT txid_current()"))
        samples.append(_ms(started))
    return percentiles(samples)


def _between_ms(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() * 1000


def _burst(services: Services, user: uuid.UUID, burst: int) -> dict[str, float]:
    """Jobs per second for `burst` images queued at once, then as many speech jobs."""
    figures = {}
    for kind, submit in (
        ("image", lambda n: services.jobs.submit_images(user, _image(n))),
        ("speech", lambda _n: [services.jobs.submit_speech(user, SPEECH)]),
    ):
        started = time.perf_counter()
        jobs = [job for n in range(burst) for job in submit(n)]
        services.queue.outcome(user, [job.id for job in jobs], 300)
        figures[f"{kind}_jobs_per_second"] = round(burst / (time.perf_counter() - started), 2)
    return figures


def _fairness(services: Services, users: list[uuid.UUID]) -> dict[str, Any]:
    """A queues 20, then B 5 and C 1 while A's run: how many slots each newcomer waited."""
    a, b, c = users
    a_jobs = [j for n in (8, 8, 4) for j in services.jobs.submit_images(a, _image(n), count=n)]
    b_jobs = [j for _ in range(5) for j in services.jobs.submit_images(b, _image(1))]
    [c_job] = services.jobs.submit_images(c, _image(2))
    every = [*a_jobs, *b_jobs, c_job]
    services.queue.outcome(None, [job.id for job in every], 300)
    done = sorted(
        (services.queue.get(None, job.id) for job in every),
        key=lambda j: (j.started_at, str(j.id)),
    )

    def slot(job: Job) -> int:
        """1 = the first job to start after it was queued was this one."""
        finished = next(d for d in done if d.id == job.id)
        return sum(1 for d in done if job.created_at < d.started_at <= finished.started_at)

    return {
        "queued": {"A": 20, "B": 5, "C": 1},
        "slot_of_b_first_after_queued": slot(b_jobs[0]),
        "slot_of_c_after_queued": slot(c_job),
        "start_order": "".join("ABC"[users.index(job.owner_id)] for job in done),
    }


def _start_workers(services: Services, n: int, workdir: Path, running: list[CeleryWorker]) -> None:
    while len(running) < n:
        expected = len(running) + 1
        running.append(
            start_worker(
                workdir,
                services.settings,
                f"bench{len(running)}",
                ready=lambda expected=expected: len(services.queue.counts().workers) >= expected,
            )
        )


def _summary(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {kind: percentiles(values) for kind, values in samples.items()}


def _overhead(queued: dict[str, list[float]], direct: dict[str, list[float]]) -> dict[str, float]:
    def p50(values: list[float]) -> float:
        return percentiles(values)["p50"]

    return {kind: round(p50(queued[kind]) - p50(direct[kind]), 2) for kind in queued}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--burst", type=int, default=40)
    arguments = parser.parse_args()
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    result: dict[str, Any] = {"broker": "redis", "database": "postgresql", "store": "seaweedfs"}
    workers: list[CeleryWorker] = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        production_stack(
            celery_broker_url=BROKER,
            job_running_per_user=0,
            job_heartbeat_seconds=2.0,
            # A batch of 20 from one user must be admitted to measure how it is shared.
            limit_generations_per_minute_user=0,
            register_limit_per_minute=1000,
        ) as services,
    ):
        try:
            # The first account is an administrator: no per-minute limit in the way.
            user = services.auth.register("bench@example.com", PASSWORD, ip=None).id
            result["write_transaction_ms"] = _commit_ms(services, arguments.runs)
            _start_workers(services, 1, Path(workdir), workers)
            _alternated(services, user, 5)
            direct, queued, parts = _alternated(services, user, arguments.runs)
            result["direct_ms"] = _summary(direct)
            result["direct_jobs_per_second"] = {
                kind: round(1000 / percentiles(values)["p50"], 2) for kind, values in direct.items()
            }
            result["enqueue_to_start_ms"] = percentiles(parts["to_start"])
            # An image job's time: queueing it (checks, row, message), waiting for a worker,
            # the worker's run (claim to end), and the waiter noticing the end.
            result["image_job_parts_ms"] = _summary(parts)
            result["queued_ms"] = _summary(queued)
            result["overhead_p50_ms"] = _overhead(queued, direct)
            # The same, pair by pair (each queued run minus the direct run just before it).
            result["overhead_paired_p50_ms"] = {
                kind: percentiles([q - d for q, d in zip(queued[kind], direct[kind], strict=True)])[
                    "p50"
                ]
                for kind in queued
            }
            result["throughput"] = {"1_worker": _burst(services, user, arguments.burst)}
            _start_workers(services, 2, Path(workdir), workers)
            result["throughput"]["2_workers"] = _burst(services, user, arguments.burst)
            for extra in workers[1:]:
                extra.stop()
            del workers[1:]
            users = [
                services.auth.register(f"fair-{n}@example.com", PASSWORD, ip=None).id
                for n in range(3)
            ]
            result["fairness_1_worker"] = _fairness(services, users)
        finally:
            for worker in workers:
                worker.stop()
            client.flushdb()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
