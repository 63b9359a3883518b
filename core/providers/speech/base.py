"""The speech provider protocol: text in, MP3 out, with its real duration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    # BCP-47-ish code as gTTS uses them: "en", "es", "ja", "zh-CN", ...
    language: str
    slow: bool = False
    voice: str | None = None
    # The quickest engine rather than the best one (offline: espeak-ng, instant and robotic).
    instant: bool = False


@dataclass(frozen=True)
class SpeechResult:
    mp3: bytes
    duration_seconds: float
    # Which engine and voice actually spoke, e.g. "piper" and "en_US joe (medium)"; shown in the UI.
    engine: str
    voice: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def spoken_by(self) -> str:
        """One line for the UI: "piper · en_US joe (medium)", "espeak-ng · es"."""
        return f"{self.engine} · {self.voice}"


class SpeechProvider(Protocol):
    name: str
    label: str
    # Whether `SpeechRequest.slow` changes anything; the UI hides the toggle otherwise.
    supports_slow: bool
    # Whether `SpeechRequest.instant` changes anything; the UI hides the choice otherwise.
    supports_instant: bool
    # The engine class of the workers that may run it (see the image provider's).
    job_queue: str

    def close(self) -> None:
        """Release what the provider holds (connection pools); called once, when the services
        close."""
        ...

    def languages(self) -> dict[str, str]:
        """Language code -> human name, for the picker."""
        ...

    def loading_note(self, language: str, *, instant: bool = False) -> str | None:
        """What a request in `language` will wait for before it is spoken, in plain words
        ("Loading the Japanese voice (first use only, up to 20 s)…"); None when nothing."""
        ...

    def describe_reader(self, language: str, *, instant: bool = False) -> str:
        """Who will read `language` and what to expect, shown before speaking:
        "kokoro · es jm_kumo — natural, about 1x real time"."""
        ...

    def synthesize(self, request: SpeechRequest) -> SpeechResult:
        """Raise `core.errors.ProviderError` with a plain message on any failure."""
        ...
