"""The speech providers these settings allow, by name, and the one to preselect."""

from __future__ import annotations

from core.config import Settings
from core.providers.speech.base import SpeechProvider
from core.providers.speech.gtts_provider import GttsSpeechProvider
from core.providers.speech.kokoro_engine import KokoroEngine, kokoro_voices
from core.providers.speech.offline_provider import OfflineSpeechProvider


def build_speech_providers(settings: Settings) -> dict[str, SpeechProvider]:
    """Cheap to call on every rerun: voices load on first use and are shared by the process."""
    providers: list[SpeechProvider] = [
        OfflineSpeechProvider(
            max_characters=settings.speech_max_characters,
            kokoro=KokoroEngine(
                voice=settings.speech_kokoro_voice,
                voices=kokoro_voices(settings.speech_kokoro_languages),
            ),
        )
    ]
    if settings.speech_gtts_enabled:
        providers.append(
            GttsSpeechProvider(
                tld=settings.speech_gtts_tld,
                timeout_seconds=settings.speech_gtts_timeout_seconds,
                max_characters=settings.speech_max_characters,
            )
        )
    return {provider.name: provider for provider in providers}


def default_speech_provider(settings: Settings) -> str:
    """The offline voices, unless the settings choose gTTS and allow it."""
    if settings.speech_default_provider == "gtts" and settings.speech_gtts_enabled:
        return "gtts"
    return "offline"
