"""Shared fixtures: real PostgreSQL and SeaweedFS, and the embedded SQLite + folder backend.

Tests that take `services` run once per backend; both must behave the same.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from core.config import Settings
from core.services import Services, start_services
from storage.migrate import upgrade_to_head
from storage.models import Base
from tests.support.app_server import AppServer, stack_settings, start_app
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI
from tests.support.postgres import temporary_database
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs

BACKENDS = ["embedded", "postgres-s3"]
_bucket_counter = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def _hermetic_environment() -> Iterator[None]:
    """Settings come from each test, never from the shell that runs the suite."""
    saved = {
        name: os.environ.pop(name)
        for name in [field.upper() for field in Settings.model_fields]
        if name in os.environ
    }
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with temporary_database() as url:
        engine = create_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        yield url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    """Settings for the current backend; keyword arguments override single values."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "bcrypt_rounds": 4,
            "app_env": "test",
            "jwt_algorithm": "HS256",
            "jwt_secret": "test-secret-" + "x" * 32,
            # The import tests' image hosts are loopback addresses.
            "import_allow_private_networks": True,
        }
        if backend == "postgres-s3":
            server: SeaweedFS = request.getfixturevalue("seaweedfs")
            url: str = request.getfixturevalue("postgres_url")
            _truncate_all(url)
            # A bucket set of its own per test keeps the object stores apart without cleanup.
            prefix = f"t{next(_bucket_counter)}-{os.getpid()}"
            values |= {
                "database_url": url,
                "s3_endpoint_url": server.endpoint_url,
                "s3_public_endpoint_url": server.endpoint_url,
                "s3_access_key": server.access_key,
                "s3_secret_key": server.secret_key,
                "s3_bucket_image": f"{prefix}-image",
                "s3_bucket_speech": f"{prefix}-tts",
                "s3_bucket_chat": f"{prefix}-chat",
                "s3_bucket_imports": f"{prefix}-imports",
            }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    return make


@pytest.fixture
def services(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[Services]:
    built = start_services(make_settings(), now=clock)
    yield built
    built.close()


@pytest.fixture(scope="session")
def app_server(
    tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS
) -> Iterator[AppServer]:
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    with temporary_database() as database_url:
        server = start_app(
            tmp_path_factory.mktemp("app"), stack_settings(database_url, seaweedfs, prefix)
        )
        yield server
        server.stop()


@pytest.fixture
def fake_api() -> Iterator[FakeOpenAI]:
    """Chat answers from a local server speaking OpenAI's wire (`app_settings` points the app
    at it): quick, and known in advance."""
    server = FakeOpenAI().start()
    yield server
    server.stop()
