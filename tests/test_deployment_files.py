"""compose.yaml is valid Compose and only sets settings the app really reads."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose_command() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    if compose := shutil.which("docker-compose"):
        return [compose]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (.ci/prepare adds it)")


def _resolved_compose() -> dict[str, object]:
    result = subprocess.run(
        [*_compose_command(), "-f", "compose.yaml", "config"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    import yaml

    return dict(yaml.safe_load(result.stdout))


def test_compose_file_validates() -> None:
    services = _resolved_compose()["services"]
    assert isinstance(services, dict)
    assert {"app", "worker", "postgres", "redis", "minio", "minio-buckets"} <= set(services)


@pytest.mark.parametrize("service", ["app", "worker"])
def test_compose_only_sets_known_settings(service: str) -> None:
    services = _resolved_compose()["services"]
    assert isinstance(services, dict)
    environment = services[service]["environment"]
    known = {name.upper() for name in Settings.model_fields}
    assert set(environment) - known == set(), json.dumps(environment, indent=1)


def test_the_worker_shares_the_apps_settings() -> None:
    services = _resolved_compose()["services"]
    assert isinstance(services, dict)
    app, worker = services["app"]["environment"], services["worker"]["environment"]
    assert {k: v for k, v in worker.items() if k in app} == app
    assert app["CELERY_BROKER_URL"].startswith("redis://")


def test_compose_creates_every_bucket_the_app_uses() -> None:
    services = _resolved_compose()["services"]
    assert isinstance(services, dict)
    environment = services["app"]["environment"]
    script = " ".join(services["minio-buckets"]["entrypoint"])
    for variable in ("S3_BUCKET_IMAGE", "S3_BUCKET_SPEECH", "S3_BUCKET_CHAT", "S3_BUCKET_IMPORTS"):
        assert f"atelier/{environment[variable]}" in script


def test_image_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER atelier\n" in dockerfile
    assert "FROM python:3.11-slim" in dockerfile
