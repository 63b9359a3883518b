"""A first request in a language whose voice is not loaded yet says so, once per process."""

from __future__ import annotations

from pathlib import Path

import piper

from core.providers.speech.base import SpeechRequest
from core.providers.speech.engine import SharedModel
from core.providers.speech.kokoro_engine import KokoroEngine, load_kokoro
from core.providers.speech.offline_provider import OfflineSpeechProvider
from core.providers.speech.piper_engine import PiperEngine


def test_the_first_japanese_request_says_the_voice_is_loading() -> None:
    # A fresh shared voice, as in a process that has not spoken Japanese yet.
    kokoro = SharedModel("The Kokoro Japanese voice", load_kokoro, takes="up to 20 s")
    provider = OfflineSpeechProvider(max_characters=100, kokoro=KokoroEngine(model=kokoro))

    assert provider.loading_note("ja") == (
        "Loading the Japanese voice (first use only, up to 20 s)…"
    )
    provider.synthesize(SpeechRequest(text="こんにちは。", language="ja"))

    assert provider.loading_note("ja") is None


def test_espeak_languages_and_a_voice_that_failed_to_load_wait_for_nothing(
    tmp_path: Path,
) -> None:
    def load_missing_voice() -> piper.PiperVoice:
        return piper.PiperVoice.load(tmp_path / "missing.onnx")

    broken = PiperEngine(SharedModel("The piper English voice", load_missing_voice))
    provider = OfflineSpeechProvider(max_characters=100, piper=broken)

    assert provider.loading_note("es") is None
    assert provider.loading_note("en-GB") == (
        "Loading the English voice (first use only, a few seconds)…"
    )
    provider.synthesize(SpeechRequest(text="Hello there.", language="en"))
    # espeak-ng spoke instead, and the broken voice is not loaded again.
    assert provider.loading_note("en") is None
    assert provider.loading_note("xx") is None
