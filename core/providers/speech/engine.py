"""What the offline provider needs from a speech engine, and how heavy voices are shared."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# How much slower "slow" speaks, for every offline engine: 0.7 is close to gTTS's slow mode.
SLOW_RATE = 0.7


class EngineFailure(Exception):
    """An engine could not load or could not speak; the offline provider tries the next one."""


class Engine(Protocol):
    # Shown to the user as "<name> · <voice>".
    name: str
    # What to expect from it, shown before speaking: "natural, about 0.1x real time".
    pace: str

    def reads(self, language: str) -> bool:
        """Whether the offline provider sends this language (a listed code, "pt") to it first."""
        ...

    def voice(self, language: str) -> str: ...

    def available(self, language: str) -> bool:
        """False once this process knows it cannot read `language` (its model failed to load),
        so that the studio names the engine that will really speak."""
        ...

    def loading_time(self) -> str | None:
        """How long the first request in this process will wait for the voice to load ("up to
        20 s"); None when there is nothing left to load."""
        ...

    def speak(self, text: str, *, language: str, slow: bool, wav_path: Path) -> None:
        """Write the spoken text as a WAV file; raise `EngineFailure` if that is impossible."""
        ...


class SharedModel(Generic[T]):
    """A model loaded on first use, once per process, and used by one thread at a time.

    Streamlit runs each browser session in its own thread: without the lock two sessions would
    load the same weights twice, and the engines' native front ends (espeak-ng inside piper,
    OpenJTalk inside Kokoro) keep global state that concurrent calls can corrupt. On two cores,
    taking turns costs little next to that.

    Turns are taken in the order asked: an engine that borrows once per sentence lets a request
    that arrived meanwhile read its next sentence, where a plain lock would mostly go straight
    back to the thread that just released it.
    """

    def __init__(self, what: str, load: Callable[[], T], *, takes: str = "a few seconds") -> None:
        self._what = what
        self._load = load
        # How long a load takes on a small server, in words for the user ("up to 20 s").
        self._takes = takes
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._model: T | None = None
        # The weights come from installed packages: a failed load will not fix itself until
        # the process restarts, so it is not retried on every request.
        self._failure: str | None = None

    @property
    def waiting(self) -> int:
        """How many borrowers wait for their turn (the one being served not counted)."""
        with self._turns:
            return max(0, self._next_ticket - self._serving - 1)

    @property
    def failure(self) -> str | None:
        """Why the model could not be loaded in this process; None while it may still be."""
        return self._failure

    def loading_time(self) -> str | None:
        """How long the next borrow may wait for the load; None once loaded, and once a load
        failed (nothing is loaded again, the next engine speaks)."""
        # Read without the lock: at worst a request that races the end of a load is told so.
        if self._model is not None or self._failure is not None:
            return None
        return self._takes

    @contextmanager
    def borrow(self) -> Iterator[T]:
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turns.wait_for(lambda: self._serving == ticket)
        try:
            yield self._loaded()
        finally:
            with self._turns:
                self._serving += 1
                self._turns.notify_all()

    def _loaded(self) -> T:
        if self._model is not None:
            return self._model
        if self._failure is not None:
            raise EngineFailure(self._failure)
        started = time.perf_counter()
        try:
            self._model = self._load()
        except Exception as error:
            self._failure = f"{self._what} could not be loaded: {error}"
            log.exception("speech model failed to load", extra={"model": self._what})
            raise EngineFailure(self._failure) from error
        log.info(
            "speech model loaded",
            extra={"model": self._what, "seconds": round(time.perf_counter() - started, 2)},
        )
        return self._model
