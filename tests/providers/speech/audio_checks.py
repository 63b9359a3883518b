"""Decode MP3 the way a player would (ffmpeg) and measure what is really in it."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import numpy as np
from mutagen.mp3 import MP3

_RATE = 22050


@dataclass(frozen=True)
class DecodedAudio:
    seconds: float
    rms: float
    header_seconds: float


def decode_mp3(mp3: bytes) -> DecodedAudio:
    """Decode to mono PCM; also read the MP3 headers as mutagen sees them."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed to decode MP3 in the tests"
    pcm = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(_RATE), "-"],
        input=mp3,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64) / 32768
    parsed: Any = MP3(io.BytesIO(mp3))
    return DecodedAudio(
        seconds=len(samples) / _RATE,
        rms=float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0,
        header_seconds=float(parsed.info.length),
    )
