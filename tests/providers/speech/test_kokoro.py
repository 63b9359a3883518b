"""Kokoro beyond Japanese: espeak-ng's phonemes in Kokoro's letters, the model reading them, and
which engine reads which language (instant: espeak-ng alone)."""

from __future__ import annotations

import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.providers.speech.base import SpeechRequest
from core.providers.speech.engine import SharedModel
from core.providers.speech.kokoro_engine import KokoroEngine
from core.providers.speech.kokoro_model import (
    KOKORO_MODEL,
    KokoroModel,
    joined,
    load_kokoro_model,
    split_phonemes,
)
from core.providers.speech.kokoro_phonemes import espeak_sentences, to_kokoro
from core.providers.speech.offline_provider import OfflineSpeechProvider
from tests.providers.speech.audio_checks import decode_mp3

SPANISH = "Hola, ¿qué tal? Me llamo Ana."


@pytest.mark.parametrize(
    ("ipa", "phonemes"),
    [
        # Tied pairs are one letter each in Kokoro's set, as misaki writes them.
        ("t^ʃˈao", "ʧˈao"),
        ("ɪç hˈa^ɪsə", "ɪç hˈIsə"),
        ("bʊond^ʒˈɔrno", "bʊonʤˈɔrno"),
        ("tsˈuːk ˈe^ɪ ɡˈo^ʊ t^s ɔ^ɪ", "tsˈuːk ˈA ɡˈO ʦ Y"),
        # espeak-ng's marks for words read in another language go; so do its line breaks.
        ("ɪç lˈiːbə (^e^n)njˈuː(^d^e) jˈɔɾk\nʊnt", "ɪç lˈiːbə njˈuː jˈɔɾk ʊnt"),
    ],
)
def test_espeak_ipa_is_written_in_kokoros_letters(ipa: str, phonemes: str) -> None:
    assert to_kokoro(ipa) == phonemes


@pytest.mark.parametrize(
    ("text", "voice", "sentences"),
    [
        # A title's full stop before a capital ends nothing: one sentence, one falling tone.
        (
            "El Sr. García y la Dra. López llegan hoy. Adiós.",
            "es",
            ["el seɲˈoɾ ɡaɾθˈia i la ðoktˈoɾa lˈopeθ ʎˈeɣan ˈoɪ.", "aðjˈos."],
        ),
        # A single letter's, or one before a lowercase word, neither.
        ("Das ist z. B. ein Haus. Gut.", "de", ["das ɪst ʦˈɛt bˈeː In hˈWs.", "ɡˈuːt."]),
        # A short name still ends its sentence.
        ("Me llamo Ana. Hola.", "es", ["me ʎˈamo ˈana.", "ˈola."]),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str, voice: str, sentences: list[str]) -> None:
    assert espeak_sentences(text, voice) == sentences


def test_espeak_ng_runs_once_per_sentence_however_many_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = []
    real_run = subprocess.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        runs.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)

    sentences = espeak_sentences("Uno, dos, tres, cuatro; cinco. Seis, siete.", "es")

    assert sentences == ["ˈuno, dˈos, tɾˈes, kwˈatɾo; θˈinko.", "sˈAs, sjˈete."]
    assert len(runs) == 2


def test_espeak_reads_clause_by_clause_and_the_punctuation_comes_back() -> None:
    sentences = espeak_sentences("Hola, ¿cómo estás? Son las 3.5... ¡Bien!\nAdiós", "es")

    assert sentences == [
        "ˈola, kˈomo estˈas?",
        # "3.5" is one number, and an ellipsis is Kokoro's single letter.
        "sˈon las tɾˈes punto θˈinko…",
        "bjˈen!",
        "aðjˈos",
    ]
    # A text that stops on a comma or a dash loses nothing after its last full stop.
    assert espeak_sentences("Hola. Me llamo Ana,", "es") == ["ˈola.", "me ʎˈamo ˈana,"]
    assert espeak_sentences("Hola —", "es") == ["ˈola—"]
    # Hindi ends a sentence with a danda, which Kokoro writes as a full stop.
    assert espeak_sentences("फिर घर आया। ठीक है", "hi") == ["pʰˈɪɾ ɡʰˈʌɾ ˈaːjaː.", "ʈʰˈiːk hɛː"]


@pytest.mark.parametrize(
    ("text", "voice"),
    [
        ("Können Sie mir sagen, wo der nächste Bahnhof ist?", "de"),
        ("Di solito bevo un caffè prima di andare al lavoro.", "it"),
        ("Você pode me dizer onde fica a estação de trem?", "pt-br"),
        ("¿Podría decirme dónde está la estación de tren?", "es"),
        ("Pourriez-vous me dire où se trouve la gare ?", "fr-fr"),
        ("क्या आप मुझे बता सकते हैं?", "hi"),
    ],
)
def test_every_phoneme_of_the_kokoro_languages_is_one_the_model_knows(
    text: str, voice: str
) -> None:
    with KOKORO_MODEL.borrow() as model:
        for sentence in espeak_sentences(text, voice):
            assert model.known(sentence) == sentence


@pytest.mark.parametrize(
    ("phonemes", "limit", "pieces"),
    [
        ("abc, def ghi.", 20, ["abc, def ghi."]),
        # After the last punctuation that fits, else at the last blank, else anywhere.
        ("abc, def ghi, jkl", 13, ["abc, def ghi,", "jkl"]),
        ("abcdef ghijkl", 8, ["abcdef", "ghijkl"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ],
)
def test_long_phoneme_strings_are_cut_where_a_reader_would_breathe(
    phonemes: str, limit: int, pieces: list[str]
) -> None:
    assert split_phonemes(phonemes, limit) == pieces
    assert all(len(piece) <= limit for piece in pieces)


def test_kokoro_reads_spanish_for_about_as_long_as_espeak_does(
    offline: OfflineSpeechProvider,
) -> None:
    natural = offline.synthesize(SpeechRequest(text=SPANISH, language="es"))
    robotic = offline.synthesize(SpeechRequest(text=SPANISH, language="es", instant=True))

    assert natural.spoken_by == "kokoro · es jm_kumo"
    assert robotic.spoken_by == "espeak-ng · es"
    audio = decode_mp3(natural.mp3)
    assert audio.rms > 0.02, "the MP3 is nearly silent"
    # Same words, same pace give or take: no clipped sentence, no runaway silence.
    assert 0.6 < natural.duration_seconds / robotic.duration_seconds < 1.7
    assert "fallback_reasons" not in natural.details


@pytest.mark.parametrize(
    ("language", "instant", "reader"),
    [
        ("en", False, "piper · en_US joe (medium) — natural, about 0.1x real time"),
        ("es", False, "kokoro · es jm_kumo — natural, about 1x real time"),
        ("pt", False, "kokoro · pt jf_gongitsune — natural, about 1x real time"),
        ("hi", False, "kokoro · hi jm_kumo — natural, about 1x real time"),
        ("ja", False, "kokoro · ja jf_gongitsune — natural, about 1x real time"),
        ("fr", False, "kokoro · fr jm_kumo — natural, about 1x real time"),
        ("nl", False, "espeak-ng · nl — instant, robotic"),
        ("zh-CN", False, "espeak-ng · cmn — instant, robotic"),
        ("es", True, "espeak-ng · es — instant, robotic"),
        ("en", True, "espeak-ng · en-us — instant, robotic"),
        ("pt", True, "espeak-ng · pt-br — instant, robotic"),
    ],
)
def test_says_which_engine_will_read_each_language(
    offline: OfflineSpeechProvider, language: str, instant: bool, reader: str
) -> None:
    assert offline.describe_reader(language, instant=instant) == reader
    engines = [engine.name for engine, _ in offline.route(language, instant=instant)]
    assert engines[0] == reader.split(" · ")[0]
    # espeak-ng stands behind every engine.
    assert engines[-1] == "espeak-ng"


def test_espeak_ng_speaks_when_kokoro_cannot_load(tmp_path: Path) -> None:
    def load_missing_model() -> KokoroModel:
        return load_kokoro_model(tmp_path / "missing.onnx")

    broken = SharedModel("The Kokoro voice model", load_missing_model)
    provider = OfflineSpeechProvider(max_characters=100, kokoro=KokoroEngine(model=broken))

    result = provider.synthesize(SpeechRequest(text="Guten Tag.", language="de"))

    assert result.spoken_by == "espeak-ng · de"
    assert decode_mp3(result.mp3).rms > 0.01
    [reason] = result.details["fallback_reasons"]
    assert reason.startswith("kokoro: The Kokoro voice model could not be loaded")
    # From then on the studio names the engine that really reads, and waits for nothing.
    assert provider.describe_reader("de") == "espeak-ng · de — instant, robotic"
    assert provider.describe_reader("ja") == "espeak-ng · ja — instant, robotic"
    assert provider.loading_note("de") is None
    again = provider.synthesize(SpeechRequest(text="Guten Abend.", language="de"))
    assert again.details["fallback_reasons"] == [reason]


def test_a_long_text_lets_other_requests_read_between_its_sentences(tmp_path: Path) -> None:
    with KOKORO_MODEL.borrow() as model:
        real = model
    readers: list[str] = []
    long_is_reading = threading.Event()

    class NamingSession:
        """The real session, noting whose inference it runs."""

        def run(self, *args: Any) -> Any:
            if not readers:
                long_is_reading.set()
                # The long request's first sentence ends once the short one queues for the model.
                deadline = time.monotonic() + 60
                while shared.waiting == 0 and time.monotonic() < deadline:
                    time.sleep(0.01)
            readers.append(threading.current_thread().name)
            return real.session.run(*args)

    shared = SharedModel(
        "Kokoro", lambda: KokoroModel(NamingSession(), real.vocabulary, real.voices)
    )
    engine = KokoroEngine(model=shared)

    def read(text: str, language: str) -> None:
        if language != "es":
            long_is_reading.wait(timeout=60)
        wav_path = tmp_path / f"{language}.wav"
        engine.speak(text, language=language, slow=False, wav_path=wav_path)

    requests = [
        threading.Thread(target=read, args=("Uno. Dos. Tres. Cuatro.", "es"), name="long"),
        threading.Thread(target=read, args=("Guten Tag.", "de"), name="short"),
    ]
    for request in requests:
        request.start()
    for request in requests:
        request.join(timeout=120)

    # The short request read between the long one's sentences, not after all of them.
    assert sorted(readers) == ["long"] * 4 + ["short"]
    assert readers[-1] == "long"
    # One model for both, as the process shares one.
    assert readers[0] == "long"


def test_kokoro_audio_is_its_sentences_read_one_after_the_other(tmp_path: Path) -> None:
    engine = KokoroEngine()
    wav_path = tmp_path / "speech.wav"
    engine.speak("Hola. Adiós.", language="es", slow=False, wav_path=wav_path)

    with KOKORO_MODEL.borrow() as model:
        pieces = [
            piece
            for sentence in espeak_sentences("Hola. Adiós.", "es")
            for piece in model.read(sentence, voice="jm_kumo", speed=1.0)
        ]
    expected = (np.clip(joined(pieces, speed=1.0), -1, 1) * 32767).astype(np.int16)
    with wave.open(str(wav_path), "rb") as wav_file:
        frames = wav_file.readframes(wav_file.getnframes())
    # Two sentences, one pause of PAUSE_SECONDS between them.
    assert len(pieces) == 2
    assert np.array_equal(np.frombuffer(frames, np.int16), expected)
