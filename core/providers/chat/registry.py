"""Which chat providers these settings offer, and which one to preselect.

Building is cheap: no model is loaded and nothing is fetched until the first answer. Build
once per process and share the result: the API provider keeps a connection pool, and the
offline model is loaded once per process whatever the number of providers pointing at it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.config import Settings
from core.errors import ConfigurationError
from core.providers.chat.base import ChatProvider
from core.providers.chat.catalogue import (
    BUNDLED_MODEL_PACKAGE,
    installed_models,
)
from core.providers.chat.local_llama import LocalChatProvider
from core.providers.chat.local_model import LocalModelSpec, llama_cpp_installed
from core.providers.chat.openai_compatible import ChatApiConfig, OpenAICompatibleChatProvider
from core.providers.http import RetryPolicy

log = logging.getLogger(__name__)


def build_chat_providers(settings: Settings) -> dict[str, ChatProvider]:
    providers: dict[str, ChatProvider] = {}
    specs = local_model_specs(settings)
    if specs:
        providers[LocalChatProvider.name] = LocalChatProvider(
            specs, default_max_tokens=settings.local_chat_max_tokens
        )
    config = chat_api_config(settings)
    if config is not None:
        providers[OpenAICompatibleChatProvider.name] = OpenAICompatibleChatProvider(config)
    return providers


def default_chat_provider(settings: Settings) -> str:
    """The offline model, unless an API with a key is configured or a setting says otherwise."""
    available = [
        name
        for name, offered in (
            (LocalChatProvider.name, bool(local_model_specs(settings))),
            (OpenAICompatibleChatProvider.name, chat_api_config(settings) is not None),
        )
        if offered
    ]
    if settings.chat_default_provider:
        if settings.chat_default_provider not in available:
            raise ConfigurationError(
                f"CHAT_DEFAULT_PROVIDER is {settings.chat_default_provider!r}, which these "
                f"settings do not offer (available: {', '.join(available) or 'none'})."
            )
        return settings.chat_default_provider
    api_with_key = bool(settings.chat_api_base_url and settings.chat_api_key.get_secret_value())
    preferred = OpenAICompatibleChatProvider.name if api_with_key else LocalChatProvider.name
    if preferred in available:
        return preferred
    if available:
        return available[0]
    raise ConfigurationError(
        "No chat provider is available: install llama-cpp-python and "
        f"{BUNDLED_MODEL_PACKAGE} for the offline model, or set CHAT_API_BASE_URL."
    )


def local_model_specs(settings: Settings) -> list[LocalModelSpec]:
    """The offline models to offer, the default first; none when this machine cannot run one.

    The default is LOCAL_CHAT_MODEL_PATH, or else SmolLM2; then every optional model found in
    LOCAL_CHAT_MODELS_DIR (see `make models`).
    """
    if not llama_cpp_installed():
        log.warning("offline chat disabled: llama-cpp-python is not installed")
        return []
    # A path the administrator set is kept even if it is wrong: the first answer says why.
    installed = installed_models(Path(settings.local_chat_models_dir).expanduser())
    if settings.local_chat_model_path:
        # The set file takes the bundled SmolLM2's place as the default.
        configured = Path(settings.local_chat_model_path).expanduser()
        optional = [i.path for i in installed if i.model.parts and i.path != configured]
        paths = [configured, *optional]
    else:
        paths = [i.path for i in installed]
    if not paths:
        log.warning(
            "offline chat disabled: no LOCAL_CHAT_MODEL_PATH and no bundled model",
            extra={"package": BUNDLED_MODEL_PACKAGE},
        )
    n_ctx, n_threads = settings.local_chat_n_ctx, settings.local_chat_n_threads
    return [LocalModelSpec(path, n_ctx=n_ctx, n_threads=n_threads) for path in paths]


def chat_api_config(settings: Settings) -> ChatApiConfig | None:
    if not settings.chat_api_base_url:
        return None
    return ChatApiConfig(
        base_url=settings.chat_api_base_url,
        api_key=settings.chat_api_key.get_secret_value(),
        models=tuple(m.strip() for m in settings.chat_api_models.split(",") if m.strip()),
        label=settings.chat_api_label,
        connect_timeout=settings.chat_api_connect_timeout_seconds,
        read_timeout=settings.chat_api_read_timeout_seconds,
        first_token_timeout=settings.chat_api_first_token_timeout_seconds,
        retry=RetryPolicy(attempts=settings.chat_api_retry_attempts),
    )
