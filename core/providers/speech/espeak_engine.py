"""Every other language with the Debian `espeak-ng` program (about 130 voices, instant, robotic)."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from core.providers.speech.engine import SLOW_RATE, EngineFailure

log = logging.getLogger(__name__)

_NORMAL_WORDS_PER_MINUTE = 175  # espeak-ng's own default
_TIMEOUT_SECONDS = 120


@functools.cache
def espeak_languages() -> dict[str, str]:
    """espeak-ng voice code -> its English name ("es" -> "Spanish"); empty if not installed."""
    program = shutil.which("espeak-ng")
    if program is None:
        log.warning(
            "espeak-ng is not installed: the offline voices speak English and Japanese only"
        )
        return {}
    try:
        listing = subprocess.run(
            [program, "--voices"], check=True, capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("espeak-ng is not usable", extra={"error": repr(error)})
        return {}
    languages = {}
    # Columns: Pty Language Age/Gender VoiceName File Other-languages
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 4:
            languages[columns[1]] = columns[3].replace("_", " ")
    return languages


class EspeakEngine:
    name = "espeak-ng"
    pace = "instant, robotic"

    def reads(self, language: str) -> bool:
        """Every language: it is the voice of last resort."""
        return True

    def voice(self, language: str) -> str:
        return language

    def available(self, language: str) -> bool:
        """True: nothing is loaded that could have failed, and as the voice of last resort it
        is named even when the program is missing (speaking then says so plainly)."""
        return True

    def loading_time(self) -> str | None:
        """None: espeak-ng is a program started per request, with nothing to load first."""
        return None

    def speak(self, text: str, *, language: str, slow: bool, wav_path: Path) -> None:
        speed = round(_NORMAL_WORDS_PER_MINUTE * (SLOW_RATE if slow else 1.0))
        run_espeak(("-v", language, "-s", str(speed), "-w", str(wav_path)), text)


def run_espeak(options: Sequence[str], text: str) -> str:
    """What espeak-ng prints for `text` with these options (it writes a WAV with "-w")."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise EngineFailure("espeak-ng is not installed on the server (Debian package 'espeak-ng')")
    # The text goes through stdin, never the command line: it may start with "-".
    try:
        finished = subprocess.run(
            [program, *options, "-b", "1", "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise EngineFailure("espeak-ng took too long to read this text") from None
    except subprocess.CalledProcessError as error:
        raise EngineFailure(
            f"espeak-ng failed: {error.stderr.decode(errors='replace').strip()}"
        ) from None
    return finished.stdout.decode(errors="replace")
