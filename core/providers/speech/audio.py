"""MP3 in and out: encode an engine's WAV with LAME (and decode one back), measure an MP3's
real duration."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.mp3 import MP3

from core.errors import ProviderError

# Speech only: 64 kbit/s mono is clear and keeps a minute under 500 KB. Constant bit rate and a
# real file (not a pipe) let LAME write its info tag, from which the duration is exact.
_LAME_OPTIONS = ("--quiet", "--cbr", "-b", "64", "-m", "m")
_LAME_TIMEOUT_SECONDS = 120


def encode_mp3(wav_path: Path) -> bytes:
    """Encode a WAV file to MP3 bytes."""
    lame = shutil.which("lame")
    if lame is None:
        raise ProviderError(
            "The MP3 encoder is missing on the server (install the Debian package 'lame')."
        )
    mp3_path = wav_path.with_suffix(".mp3")
    _run_lame([lame, *_LAME_OPTIONS, str(wav_path), str(mp3_path)], "Encoding the audio to MP3")
    return mp3_path.read_bytes()


def _run_lame(command: list[str], doing: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=_LAME_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise ProviderError(f"{doing} took too long.") from None
    except subprocess.CalledProcessError as error:
        raise ProviderError(
            f"{doing} failed: {error.stderr.decode(errors='replace').strip()}"
        ) from None


def decode_mp3(mp3: bytes) -> bytes:
    """WAV bytes (16-bit PCM, the MP3's own sample rate) of an MP3, decoded by LAME."""
    lame = shutil.which("lame")
    if lame is None:
        raise ProviderError(
            "The MP3 decoder is missing on the server (install the Debian package 'lame')."
        )
    with tempfile.TemporaryDirectory() as folder:
        mp3_path, wav_path = Path(folder) / "in.mp3", Path(folder) / "out.wav"
        mp3_path.write_bytes(mp3)
        _run_lame([lame, "--quiet", "--decode", str(mp3_path), str(wav_path)], "Decoding the MP3")
        return wav_path.read_bytes()


def mp3_duration(mp3: bytes, *, source: str) -> float:
    """Seconds of audio in `mp3`, read from its frames; `ProviderError` if it is not an MP3."""
    try:
        # mutagen ships py.typed but leaves its constructors unannotated.
        parsed: Any = MP3(io.BytesIO(mp3))  # type: ignore[no-untyped-call]
        length = float(parsed.info.length)
    except MutagenError:
        raise ProviderError(f"{source} returned something that is not an MP3.") from None
    if length <= 0:
        raise ProviderError(f"{source} returned an MP3 without any audio.")
    return length


def wav_duration(wav_path: Path) -> float:
    with wave.open(str(wav_path), "rb") as wav_file:
        return wav_file.getnframes() / wav_file.getframerate()
