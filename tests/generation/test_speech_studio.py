"""The Speech Studio's steps as a job reports them, and its language check before queueing."""

from __future__ import annotations

import uuid

import pytest

from core.errors import InvalidInput
from core.generation.speech import SpeechOrder, SpeechStudio
from core.providers.speech.engine import SharedModel
from core.providers.speech.offline_provider import OfflineSpeechProvider
from core.providers.speech.piper_engine import PiperEngine, load_joe_voice
from core.services import Services


def test_a_first_request_says_its_voice_is_loading(services: Services, user_id: uuid.UUID) -> None:
    # A fresh shared voice, as in a worker that has not spoken English yet.
    piper = PiperEngine(SharedModel("The piper English voice", load_joe_voice))
    studio = SpeechStudio(
        services.pipeline,
        {"offline": OfflineSpeechProvider(max_characters=100, piper=piper)},
        default_provider="offline",
        max_characters=100,
    )
    order = SpeechOrder(text="Hello there.", language="en", slow=False, provider="offline")
    first: list[str] = []
    again: list[str] = []

    studio.synthesize(user_id, order, progress=first.append)
    studio.synthesize(user_id, order, progress=again.append)

    assert first == [
        "Generating with offline · offline…",
        "Loading the English voice (first use only, a few seconds)…",
        "Saving to your history…",
    ]
    assert again == ["Generating with offline · offline…", "Saving to your history…"]


def test_the_language_check_checks_the_order_first(services: Services) -> None:
    studio = services.speech

    def order(text: str, language: str) -> SpeechOrder:
        return SpeechOrder(text=text, language=language, slow=False, provider="offline")

    mismatch = studio.language_mismatch(order("  今日は良い天気です。 ", "en"))
    assert mismatch is not None and mismatch.languages == ("ja",)
    assert studio.language_mismatch(order("今日は良い天気です。", "ja")) is None
    with pytest.raises(InvalidInput, match="the limit is 2,000"):
        studio.language_mismatch(order("あ" * 2001, "en"))
