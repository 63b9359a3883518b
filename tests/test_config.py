import re
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


def _example_variables() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if re.match(r"^[A-Z0-9_]+=", line))
    return {name: value for name, value in pairs}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert set(_example_variables()) == {name.upper() for name in Settings.model_fields}


def test_env_example_defaults_match_the_code() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for name, value in _example_variables().items():
        actual = getattr(defaults, name.lower())
        actual = getattr(actual, "get_secret_value", lambda a=actual: a)()
        shown = "" if actual is None else str(actual).lower()
        assert shown == value.lower(), name


def test_development_runs_with_no_settings_at_all() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert not settings.uses_s3


@pytest.mark.parametrize("secret", ["", "change-me", "short-but-not-placeholder"])
def test_production_refuses_a_weak_jwt_secret(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        Settings(_env_file=None, app_env="production", jwt_algorithm="HS256", jwt_secret=secret)  # type: ignore[call-arg]


def test_production_refuses_the_placeholder_s3_secret() -> None:
    with pytest.raises(ConfigurationError, match="S3_SECRET_KEY"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            app_env="production",
            s3_endpoint_url="http://minio:9000",
            s3_access_key="minio",
            s3_secret_key="minio123",
        )


def test_production_accepts_real_secrets() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, app_env="production", jwt_algorithm="HS256", jwt_secret="k" * 48
    )
    assert settings.secure_cookies


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db:5432/atelier")
    monkeypatch.setenv("LOGIN_LIMIT_PER_MINUTE", "7")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url == "postgresql+psycopg://u@db:5432/atelier"
    assert settings.login_limit_per_minute == 7
