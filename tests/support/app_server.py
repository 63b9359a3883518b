"""The real app in a subprocess (`streamlit run app.py`), as a user's browser would reach it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.seaweedfs import SeaweedFS

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AppServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stack_settings(database_url: str, seaweedfs: SeaweedFS, prefix: str) -> dict[str, str]:
    """The app on PostgreSQL + SeaweedFS with buckets of its own, as the tests start it."""
    return {
        "DATABASE_URL": database_url,
        "S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3_PUBLIC_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3_ACCESS_KEY": seaweedfs.access_key,
        "S3_SECRET_KEY": seaweedfs.secret_key,
        "S3_BUCKET_IMAGE": f"{prefix}-image",
        "S3_BUCKET_SPEECH": f"{prefix}-tts",
        "S3_BUCKET_CHAT": f"{prefix}-chat",
        "S3_BUCKET_IMPORTS": f"{prefix}-imports",
        # The import tests' image hosts are loopback addresses.
        "IMPORT_ALLOW_PRIVATE_NETWORKS": "true",
        "BCRYPT_ROUNDS": "4",
        # Every client here is 127.0.0.1: per-IP limits would couple the tests.
        "LOGIN_IP_LIMIT_PER_MINUTE": "10000",
        "REGISTER_LIMIT_PER_MINUTE": "10000",
    }


def start_app(workdir: Path, settings_env: dict[str, str]) -> AppServer:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # Only the test's settings reach the app, never the developer's shell or .env.
        if not key.startswith(("S3_", "DATABASE_", "JWT_", "REDIS_", "APP_"))
    }
    env |= {"DATA_DIR": str(workdir / "data"), "PYTHONUNBUFFERED": "1"} | settings_env
    log_path = workdir / "app.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = AppServer(f"http://127.0.0.1:{port}", env, process, log_path)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the app did not start:\n{server.log_tail()}")
        time.sleep(0.3)
