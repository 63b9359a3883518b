"""Real `celery worker` processes for the tests, started with the app's own settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CeleryWorker:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """As a lost node or the OOM killer would: no shutdown, no acknowledgement."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker exactly these settings."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[name.upper()] = str(plain).lower() if isinstance(plain, bool) else str(plain)
    return env


def start_worker(
    workdir: Path,
    settings: Settings,
    name: str,
    *,
    ready: Callable[[], bool],
    concurrency: int = 1,
) -> CeleryWorker:
    """Start a worker and wait until `ready()` (e.g. its row in `job_workers`) says it is up."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in {field.upper() for field in Settings.model_fields}
    }
    env |= settings_env(settings) | {"PYTHONUNBUFFERED": "1"}
    log_path = workdir / f"{name}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "queueing.worker",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--queues",
            settings.job_worker_queues,
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = CeleryWorker(name, process, log_path)
    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {name} did not start:\n{worker.log_tail()}")
        time.sleep(0.1)
    return worker
