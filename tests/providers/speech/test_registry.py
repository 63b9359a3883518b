from __future__ import annotations

from typing import Any

import pytest

from core.config import Settings
from core.errors import ConfigurationError
from core.providers.speech.languages import match_language
from core.providers.speech.registry import build_speech_providers, default_speech_provider


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_offline_by_default_with_gtts_on_offer() -> None:
    providers = build_speech_providers(settings())

    assert sorted(providers) == ["gtts", "offline"]
    assert default_speech_provider(settings()) == "offline"
    for provider in providers.values():
        assert provider.supports_slow
        assert provider.languages()["ja"] == "Japanese"


def test_settings_can_prefer_gtts_or_switch_it_off() -> None:
    assert default_speech_provider(settings(speech_default_provider="gtts")) == "gtts"

    no_google = settings(speech_default_provider="gtts", speech_gtts_enabled=False)
    assert sorted(build_speech_providers(no_google)) == ["offline"]
    assert default_speech_provider(no_google) == "offline"


def test_an_unknown_kokoro_voice_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Unknown Kokoro voice 'jf_nobody'"):
        build_speech_providers(settings(speech_kokoro_voice="jf_nobody"))


@pytest.mark.parametrize(
    ("asked", "listed"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("zh-cn", "zh-CN"),
        ("pt-PT", "pt-PT"),
        ("xx", None),
    ],
)
def test_language_codes_are_matched_forgivingly(asked: str, listed: str | None) -> None:
    languages = {"en": "English", "zh-CN": "Chinese (Simplified)", "pt": "Portuguese", "pt-PT": "P"}

    assert match_language(asked, languages) == listed
