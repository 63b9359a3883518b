from __future__ import annotations

from typing import Any

import pytest

from core.config import Settings
from core.errors import ConfigurationError
from core.providers.speech.kokoro_engine import DEFAULT_VOICES, kokoro_voices
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


def test_kokoro_reads_the_measured_languages_by_default() -> None:
    assert kokoro_voices(settings().speech_kokoro_languages) == DEFAULT_VOICES
    assert set(DEFAULT_VOICES) == {"es", "it", "pt", "de", "fr", "hi"}
    assert DEFAULT_VOICES["pt"] == "jf_gongitsune"
    assert DEFAULT_VOICES["es"] == "jm_kumo"


def test_the_kokoro_languages_and_their_voices_come_from_the_settings() -> None:
    chosen = settings(speech_kokoro_languages="fr, es:jf_alpha", speech_kokoro_voice="jf_nezumi")
    offline = build_speech_providers(chosen)["offline"]

    assert kokoro_voices(chosen.speech_kokoro_languages) == {"fr": "jm_kumo", "es": "jf_alpha"}
    assert offline.describe_reader("fr").startswith("kokoro · fr jm_kumo")
    assert offline.describe_reader("es").startswith("kokoro · es jf_alpha")
    assert offline.describe_reader("ja").startswith("kokoro · ja jf_nezumi")
    # Left out of the list: espeak-ng again.
    assert offline.describe_reader("de").startswith("espeak-ng · de")
    assert (
        build_speech_providers(settings(speech_kokoro_languages=""))["offline"]
        .describe_reader("es")
        .startswith("espeak-ng · es")
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("es:jf_nobody", "Unknown Kokoro voice 'jf_nobody'"),
        ("es,sp", "SPEECH_KOKORO_LANGUAGES lists 'sp', which is no language code"),
        ("es,ja", "SPEECH_KOKORO_LANGUAGES lists Japanese, which Kokoro always reads"),
        ("es,en", "SPEECH_KOKORO_LANGUAGES lists English, which piper always reads"),
        # espeak-ng's regional codes: the offline voices route by the listed code ("pt").
        ("es,pt-br", "SPEECH_KOKORO_LANGUAGES lists 'pt-br', which is no language code"),
        ("es-419", "SPEECH_KOKORO_LANGUAGES lists 'es-419', which is no language code"),
    ],
)
def test_a_wrong_kokoro_language_list_is_a_configuration_error(setting: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_speech_providers(settings(speech_kokoro_languages=setting))
