"""Speech with no network: piper for English, Kokoro for Japanese and the languages it was
measured to read well (SPEECH_KOKORO_LANGUAGES), espeak-ng for the rest.

espeak-ng also stands behind piper and Kokoro: if their voice cannot load or cannot read a
text, espeak-ng speaks it and the result says so. An instant request goes to espeak-ng alone.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from core.errors import ProviderError
from core.providers.speech.audio import encode_mp3, mp3_duration, wav_duration
from core.providers.speech.base import SpeechRequest, SpeechResult
from core.providers.speech.engine import Engine, EngineFailure
from core.providers.speech.espeak_engine import EspeakEngine
from core.providers.speech.kokoro_engine import KokoroEngine
from core.providers.speech.languages import espeak_voice_for, match_language, offline_languages
from core.providers.speech.piper_engine import PiperEngine
from core.providers.speech.text import speakable_text

log = logging.getLogger(__name__)


class OfflineSpeechProvider:
    name = "offline"
    label = "Offline voices (piper, Kokoro, espeak-ng)"
    supports_slow = True
    supports_instant = True
    job_queue = "cpu"

    def __init__(
        self,
        *,
        max_characters: int,
        piper: Engine | None = None,
        kokoro: Engine | None = None,
        espeak: Engine | None = None,
    ) -> None:
        self._max_characters = max_characters
        self._piper = piper or PiperEngine()
        self._kokoro = kokoro or KokoroEngine()
        self._espeak = espeak or EspeakEngine()

    def close(self) -> None:
        """Nothing to release: loaded voices belong to the process, shared by every session."""

    def languages(self) -> dict[str, str]:
        return offline_languages()

    def route(self, language: str, *, instant: bool = False) -> list[tuple[Engine, str]]:
        """The engines to try for a listed language, best first, each with its own code."""
        fallback = (self._espeak, espeak_voice_for(language))
        if instant:
            return [fallback]
        preferred = [engine for engine in (self._piper, self._kokoro) if engine.reads(language)]
        return [(engine, language) for engine in preferred] + [fallback]

    def loading_note(self, language: str, *, instant: bool = False) -> str | None:
        """Said while this process loads the voice for `language`: a first request waits for
        it, and without a word it looks stuck."""
        listed = match_language(language, self.languages())
        if listed is None:
            return None
        engine, _ = self._reader(listed, instant=instant)
        takes = engine.loading_time()
        if takes is None:
            return None
        return f"Loading the {self.languages()[listed]} voice (first use only, {takes})…"

    def describe_reader(self, language: str, *, instant: bool = False) -> str:
        listed = match_language(language, self.languages()) or language
        engine, code = self._reader(listed, instant=instant)
        return f"{engine.name} · {engine.voice(code)} — {engine.pace}"

    def _reader(self, language: str, *, instant: bool) -> tuple[Engine, str]:
        """The engine that will speak: the first of the route not known to be broken. The
        broken ones stay in the route, so that a result still says why they did not speak."""
        route = self.route(language, instant=instant)
        return next(((engine, code) for engine, code in route if engine.available(code)), route[-1])

    def synthesize(self, request: SpeechRequest) -> SpeechResult:
        text = speakable_text(request.text, max_characters=self._max_characters)
        language = match_language(request.language, self.languages())
        if language is None:
            raise ProviderError(
                f"The offline voices do not speak {request.language!r}. "
                "Pick a language from the list."
            )
        failures: list[str] = []
        with tempfile.TemporaryDirectory(prefix="atelier-speech-") as folder:
            wav_path = Path(folder) / "speech.wav"
            for engine, engine_language in self.route(language, instant=request.instant):
                try:
                    engine.speak(
                        text, language=engine_language, slow=request.slow, wav_path=wav_path
                    )
                    if wav_duration(wav_path) == 0:
                        # A script the voice cannot read: Kokoro makes no sound for Cyrillic.
                        raise EngineFailure("found nothing it can read in this text")
                except EngineFailure as failure:
                    log.warning(
                        "speech engine failed, trying the next one",
                        extra={"engine": engine.name, "language": language, "reason": str(failure)},
                    )
                    failures.append(f"{engine.name}: {failure}")
                    continue
                mp3 = encode_mp3(wav_path)
                details: dict[str, Any] = {"language": language, "slow": request.slow}
                if failures:
                    details["fallback_reasons"] = failures
                return SpeechResult(
                    mp3=mp3,
                    duration_seconds=mp3_duration(mp3, source="The MP3 encoder"),
                    engine=engine.name,
                    voice=engine.voice(engine_language),
                    details=details,
                )
        raise ProviderError("No offline voice could read this text. " + "; ".join(failures))
