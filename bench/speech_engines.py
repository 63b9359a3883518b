"""How fast the offline voices speak: real-time factor per engine and language on one core, and
the first request of a fresh process (voice loading included).

    python -m bench.speech_engines

Real-time factor = seconds spent / seconds of audio (0.1 means ten times faster than real time).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.providers.speech.engine import Engine

TEXTS = {
    "en": "The library opens at nine. Please bring your card and return the books on time.",
    "es": "La biblioteca abre a las nueve. Traiga su tarjeta y devuelva los libros a tiempo.",
    "fr": "La bibliothèque ouvre à neuf heures. Apportez votre carte et rendez les livres à temps.",
    "de": "Die Bibliothek öffnet um neun. Bitte bringen Sie Ihre Karte und die Bücher pünktlich.",
    "it": "La biblioteca apre alle nove. Porti la tessera e restituisca i libri in tempo.",
    "pt": "A biblioteca abre às nove. Traga o seu cartão e devolva os livros a tempo.",
    "ja": "図書館は九時に開きます。カードを持って、本を期限までに返してください。",
    "zh-CN": "图书馆九点开门。请带上您的卡，并按时归还图书。",
}
RUNS = 3


def engines() -> dict[str, Engine]:
    from core.providers.speech.espeak_engine import EspeakEngine
    from core.providers.speech.kokoro_engine import KokoroEngine
    from core.providers.speech.piper_engine import PiperEngine

    return {"piper": PiperEngine(), "kokoro": KokoroEngine(), "espeak-ng": EspeakEngine()}


def cases(available: dict[str, Engine]) -> list[tuple[str, str]]:
    """Every language in espeak-ng, and in piper and Kokoro those they read first."""
    preferred = [
        (name, language)
        for name in ("piper", "kokoro")
        for language in TEXTS
        if available[name].reads(language)
    ]
    return preferred + [("espeak-ng", language) for language in TEXTS]


def real_time_factor(engine: Engine, language: str) -> dict[str, float]:
    from core.providers.speech.audio import encode_mp3, mp3_duration
    from core.providers.speech.languages import espeak_voice_for

    engine_language = espeak_voice_for(language) if engine.name == "espeak-ng" else language
    speak_times, encode_times, seconds = [], [], 0.0
    with tempfile.TemporaryDirectory() as folder:
        wav_path = Path(folder) / "speech.wav"
        # The first run loads the voice; only the later ones are timed.
        engine.speak(TEXTS[language], language=engine_language, slow=False, wav_path=wav_path)
        for _ in range(RUNS):
            started = time.perf_counter()
            engine.speak(TEXTS[language], language=engine_language, slow=False, wav_path=wav_path)
            spoken = time.perf_counter()
            mp3 = encode_mp3(wav_path)
            encode_times.append(time.perf_counter() - spoken)
            speak_times.append(spoken - started)
            seconds = mp3_duration(mp3, source="lame")
    speak, encode = statistics.median(speak_times), statistics.median(encode_times)
    return {
        "audio_seconds": round(seconds, 2),
        "synthesis_rtf": round(speak / seconds, 3),
        "with_mp3_rtf": round((speak + encode) / seconds, 3),
    }


def first_request(language: str) -> None:
    """In a fresh process: import, load the voice, speak once through the offline provider."""
    started = time.perf_counter()
    from core.providers.speech.base import SpeechRequest
    from core.providers.speech.offline_provider import OfflineSpeechProvider

    provider = OfflineSpeechProvider(max_characters=2000)
    result = provider.synthesize(SpeechRequest(text=TEXTS[language], language=language))
    elapsed = time.perf_counter() - started
    print(json.dumps({"spoken_by": result.spoken_by, "first_request_seconds": round(elapsed, 2)}))


def cold_start(language: str) -> dict[str, object]:
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "bench.speech_engines", "--first-request", language],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    measured = json.loads(finished.stdout.strip().splitlines()[-1])
    return measured | {"process_seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    if sys.argv[1:2] == ["--first-request"]:
        first_request(sys.argv[2])
        return
    # One core for this process and the subprocesses it starts (affinity is inherited).
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    available = engines()
    report = {
        "cpu": core,
        "cores_used": 1,
        "real_time_factor": {
            f"{name} · {language}": real_time_factor(available[name], language)
            for name, language in cases(available)
        },
        "cold_first_request": {language: cold_start(language) for language in ("en", "ja", "es")},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
