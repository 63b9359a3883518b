"""The offline voices really speak: every check decodes the MP3 and looks at the sound."""

from __future__ import annotations

import threading
from pathlib import Path

import piper
import pytest

from core.errors import ProviderError
from core.providers.speech.base import SpeechRequest
from core.providers.speech.engine import SharedModel
from core.providers.speech.offline_provider import OfflineSpeechProvider
from core.providers.speech.piper_engine import PiperEngine, load_joe_voice
from tests.providers.speech.audio_checks import decode_mp3

SENTENCES = {
    "en": ("The quick brown fox jumps over the lazy dog.", "piper", "en_US joe (medium)"),
    "nl": ("De snelle bruine vos springt over de luie hond.", "espeak-ng", "nl"),
    "ru": ("Быстрая коричневая лиса прыгает через ленивую собаку.", "espeak-ng", "ru"),
    "ja": ("今日は良い天気です。", "kokoro", "ja jf_gongitsune"),
    "zh-CN": ("今天天气很好。", "espeak-ng", "cmn"),
}


@pytest.mark.parametrize("language", list(SENTENCES))
def test_speaks_each_language_and_slow_mode_is_slower(
    offline: OfflineSpeechProvider, language: str
) -> None:
    text, engine, voice = SENTENCES[language]

    normal = offline.synthesize(SpeechRequest(text=text, language=language))
    slow = offline.synthesize(SpeechRequest(text=text, language=language, slow=True))

    assert (normal.engine, normal.voice) == (engine, voice)
    for result in (normal, slow):
        audio = decode_mp3(result.mp3)
        assert audio.rms > 0.01, "the MP3 is silent"
        assert 0.5 < audio.seconds < 15
        # The duration the app records is the one a player will show.
        assert result.duration_seconds == pytest.approx(audio.seconds, abs=0.1)
        assert result.duration_seconds == pytest.approx(audio.header_seconds, abs=0.01)
    assert slow.duration_seconds > normal.duration_seconds * 1.15
    assert slow.details == {"language": language, "slow": True}


def test_lists_languages_with_names_under_gtts_codes(offline: OfflineSpeechProvider) -> None:
    languages = offline.languages()

    assert {"en", "es", "fr", "de", "it", "pt", "ja", "zh-CN"} <= set(languages)
    assert languages["zh-CN"] == "Chinese (Simplified)"
    assert languages["pt"] == "Portuguese (Brazil)"
    # Languages Google lacks still come from espeak-ng, under its own code and name.
    assert languages["eo"] == "Esperanto"
    assert len(languages) > 100
    assert offline.supports_slow


def test_regional_codes_fall_back_to_the_language(offline: OfflineSpeechProvider) -> None:
    result = offline.synthesize(SpeechRequest(text="¿Qué tal?", language="es-MX", instant=True))

    assert result.spoken_by == "espeak-ng · es"


@pytest.mark.parametrize(
    ("text", "language", "message"),
    [
        ("", "en", "There is no text to speak. Type a sentence first."),
        (" \n\t ", "en", "There is no text to speak. Type a sentence first."),
        ("... !!! ???", "es", "There is nothing to speak in this text, only symbols."),
        ("a" * 2001, "en", "The text is 2,001 characters long; the limit is 2,000."),
        ("Hello.", "xx", "The offline voices do not speak 'xx'. Pick a language from the list."),
    ],
)
def test_refuses_what_it_cannot_speak_in_plain_words(
    offline: OfflineSpeechProvider, text: str, language: str, message: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        offline.synthesize(SpeechRequest(text=text, language=language))

    assert str(raised.value).startswith(message)
    assert raised.value.retryable is False


def test_espeak_ng_speaks_when_the_piper_voice_cannot_load(tmp_path: Path) -> None:
    attempts = []

    def load_missing_voice() -> piper.PiperVoice:
        attempts.append(1)
        return piper.PiperVoice.load(tmp_path / "missing.onnx")

    broken = PiperEngine(SharedModel("The piper English voice", load_missing_voice))
    provider = OfflineSpeechProvider(max_characters=100, piper=broken)

    first = provider.synthesize(SpeechRequest(text="Hello there.", language="en"))
    second = provider.synthesize(SpeechRequest(text="Hello again.", language="en"))

    assert first.spoken_by == "espeak-ng · en-us"
    assert decode_mp3(first.mp3).rms > 0.01
    reasons = first.details["fallback_reasons"]
    assert reasons[0].startswith("piper: The piper English voice could not be loaded")
    assert second.engine == "espeak-ng"
    assert second.details["fallback_reasons"] == reasons
    assert provider.describe_reader("en") == "espeak-ng · en-us — instant, robotic"
    # A voice that failed to load is not loaded again for every request.
    assert len(attempts) == 1


def test_espeak_ng_speaks_japanese_text_kokoro_cannot_read(
    offline: OfflineSpeechProvider,
) -> None:
    # Kokoro's Japanese reader turns Cyrillic into no sound at all.
    result = offline.synthesize(SpeechRequest(text="Привет", language="ja"))

    assert result.spoken_by == "espeak-ng · ja"
    assert result.details["fallback_reasons"] == ["kokoro: found nothing it can read in this text"]
    assert decode_mp3(result.mp3).rms > 0.01


def test_two_sessions_asking_for_english_at_once_load_the_voice_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_load = piper.PiperVoice.load
    loads = []

    def counting_load(*args: object, **kwargs: object) -> piper.PiperVoice:
        loads.append(threading.current_thread().name)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(piper.PiperVoice, "load", counting_load)
    # A fresh shared voice, as in a process that has not spoken English yet.
    provider = OfflineSpeechProvider(
        max_characters=100,
        piper=PiperEngine(SharedModel("The piper English voice", load_joe_voice)),
    )
    start = threading.Barrier(2)
    results = {}

    def session(name: str) -> None:
        start.wait()
        results[name] = provider.synthesize(SpeechRequest(text=f"Hello {name}.", language="en"))

    threads = [threading.Thread(target=session, args=(name,), name=name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(loads) == 1
    assert sorted(results) == ["a", "b"]
    for result in results.values():
        assert result.engine == "piper"
        assert decode_mp3(result.mp3).rms > 0.01
