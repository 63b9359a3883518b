"""Which chat providers settings offer, and which one is preselected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.errors import ConfigurationError
from core.providers.chat.catalogue import QWEN_CODER_15B, SMOLLM2
from core.providers.chat.local_llama import LocalChatProvider
from core.providers.chat.openai_compatible import OpenAICompatibleChatProvider
from core.providers.chat.registry import build_chat_providers, default_chat_provider
from tests.providers.chat.fake_models import install_fake

MakeSettings = Callable[..., Settings]


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """The optional models' folder, empty as in CI (this machine's own may hold models)."""
    return tmp_path / "models"


@pytest.fixture
def settings(models_dir: Path) -> MakeSettings:
    def make(**values: Any) -> Settings:
        values.setdefault("local_chat_models_dir", str(models_dir))
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


def test_with_no_settings_only_the_offline_model_is_offered(settings: MakeSettings) -> None:
    plain = settings()
    providers = build_chat_providers(plain)

    assert list(providers) == ["local"]
    assert default_chat_provider(plain) == "local"
    local = providers["local"]
    assert isinstance(local, LocalChatProvider)
    assert local.models() == [SMOLLM2.name]
    (spec,) = local.specs.values()
    assert spec.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (spec.n_ctx, spec.n_threads) == (2048, 2)


def test_an_api_with_a_key_is_offered_and_preselected(settings: MakeSettings) -> None:
    github = settings(
        chat_api_base_url="https://models.github.ai/inference",
        chat_api_key="ghp_secret",
        chat_api_models="openai/gpt-4o, openai/gpt-4o-mini",
    )
    providers = build_chat_providers(github)

    assert set(providers) == {"local", "openai"}
    assert default_chat_provider(github) == "openai"
    api = providers["openai"]
    assert isinstance(api, OpenAICompatibleChatProvider)
    assert api.label == "GitHub Models"
    assert api.models() == ["openai/gpt-4o", "openai/gpt-4o-mini"]
    assert "ghp_secret" not in repr(api.config)


def test_an_api_without_a_key_is_offered_but_the_offline_model_stays_preselected(
    settings: MakeSettings,
) -> None:
    ollama = settings(chat_api_base_url="http://localhost:11434/v1", chat_api_models="llama3.2")
    assert set(build_chat_providers(ollama)) == {"local", "openai"}
    assert default_chat_provider(ollama) == "local"
    assert default_chat_provider(ollama.model_copy(update={"chat_default_provider": "openai"}))


def test_a_setting_can_choose_the_provider(settings: MakeSettings) -> None:
    chosen = settings(
        chat_api_base_url="https://api.openai.com/v1",
        chat_api_key="sk-x",
        chat_default_provider="local",
    )
    assert default_chat_provider(chosen) == "local"


def test_choosing_a_provider_that_is_not_configured_is_a_configuration_error(
    settings: MakeSettings,
) -> None:
    with pytest.raises(ConfigurationError, match="CHAT_DEFAULT_PROVIDER"):
        default_chat_provider(settings(chat_default_provider="openai"))


def test_a_model_path_setting_replaces_the_bundled_model(
    settings: MakeSettings, tmp_path: Path
) -> None:
    own = tmp_path / "my-model.Q4_K_M.gguf"
    configured = settings(
        local_chat_model_path=str(own), local_chat_n_ctx=4096, local_chat_n_threads=4
    )
    local = build_chat_providers(configured)["local"]
    assert isinstance(local, LocalChatProvider)
    (spec,) = local.specs.values()
    assert (spec.path, spec.n_ctx, spec.n_threads) == (own, 4096, 4)
    assert local.models() == ["my-model.Q4_K_M"]


def test_settings_are_read_from_the_environment(
    settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_API_BASE_URL", "https://text.pollinations.ai/openai")
    monkeypatch.setenv("CHAT_API_MODELS", "openai,mistral")
    monkeypatch.setenv("LOCAL_CHAT_MODEL_PATH", "")
    from_env = settings()
    api = build_chat_providers(from_env)["openai"]
    assert api.label == "Pollinations"
    assert api.models() == ["openai", "mistral"]
    assert default_chat_provider(from_env) == "local"


def test_installed_optional_models_are_offered_after_the_default(
    settings: MakeSettings, models_dir: Path
) -> None:
    qwen = install_fake(models_dir, QWEN_CODER_15B)
    local = build_chat_providers(settings())["local"]

    assert local.models() == [SMOLLM2.name, QWEN_CODER_15B.name]
    assert isinstance(local, LocalChatProvider)
    assert local.specs[QWEN_CODER_15B.name].path == qwen


def test_a_model_path_setting_is_the_default_before_the_optional_models(
    settings: MakeSettings, models_dir: Path, tmp_path: Path
) -> None:
    install_fake(models_dir, QWEN_CODER_15B)
    own = settings(local_chat_model_path=str(tmp_path / "mine.gguf"))
    assert build_chat_providers(own)["local"].models() == ["mine", QWEN_CODER_15B.name]
    # Pointing the setting at an optional model does not offer it twice.
    qwen = settings(local_chat_model_path=str(models_dir / QWEN_CODER_15B.file_name))
    assert build_chat_providers(qwen)["local"].models() == [QWEN_CODER_15B.name]
