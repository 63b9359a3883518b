"""The speech quality bench's scores: normalisation, edit distance, error rates, routing."""

from __future__ import annotations

from typing import Any

import pytest

from bench.speech_quality import SENTENCES, routing
from bench.speech_scoring import Score, edit_distance, normalise, score


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("¿Podría decirme, DÓNDE está?", "podría decirme dónde está"),
        ("Pouvez-vous… s'il te plaît !", "pouvez vous s il te plaît"),
        ("Bitte SCHLIESS das Fenster", "bitte schliess das fenster"),
        ("Bitte schließ das Fenster.", "bitte schliess das fenster"),
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full width"),
        # Devanagari's vowel signs and nasal marks are letters; the danda is punctuation.
        ("चाय पीता हूँ।", "चाय पीता हूँ"),
        ("毎朝、仕事の前に。", "毎朝 仕事の前に"),
        ("nine o'clock, 9", "nine o clock 9"),
    ],
)
def test_normalise(text: str, normalised: str) -> None:
    assert normalise(text) == normalised


@pytest.mark.parametrize(
    ("reference", "hypothesis", "distance"),
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("abc", "abc", 0),
        (["the", "cat", "sat"], ["a", "cat", "sat", "down"], 2),
        (["one", "two", "three"], ["three", "two", "one"], 2),
    ],
)
def test_edit_distance(reference: Any, hypothesis: Any, distance: int) -> None:
    assert edit_distance(reference, hypothesis) == distance
    assert edit_distance(hypothesis, reference) == distance


def test_score_counts_words_and_characters() -> None:
    assert score("The cat sat.", "the cat, sat", "en") == Score(wer=0.0, cer=0.0)
    dropped = score("the cat sat", "the cat", "en")
    assert dropped.wer == pytest.approx(1 / 3)
    assert dropped.cer == pytest.approx(4 / 11)
    # More inserted words than the reference has: the rate goes past 1.
    assert score("hola", "hola hola hola", "es").wer == 2.0


def test_japanese_is_scored_by_characters_without_spaces() -> None:
    assert score("毎朝、仕事の前に。", "毎朝 仕事の前に", "ja") == Score(wer=None, cer=0.0)
    wrong = score("一番近い駅はどこですか。", "一番近い焼きはどこですか?", "ja")
    assert wrong.wer is None
    assert wrong.cer == pytest.approx(2 / 11)


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="reference"):
        score("?!", "anything", "en")


def test_every_sentence_can_be_scored() -> None:
    for language, sentences in SENTENCES.items():
        for sentence in sentences:
            assert score(sentence, sentence, language).cer == 0.0


def _result(wer: float | None, cer: float, rtf: float) -> dict[str, Any]:
    return {
        "wer": wer,
        "cer": cer,
        "synthesis_rtf": rtf,
        "transcripts_in_another_script": 0,
        "audio_seconds": 12.5,
        "sentences": [],
    }


def test_routing_breaks_ties_by_cer_then_speed_and_skips_failures() -> None:
    best = routing(
        {
            "es": {
                "espeak-ng": {"es": _result(0.1, 0.05, 0.01)},
                "kokoro": {
                    "jf_alpha": _result(0.1, 0.02, 0.7),
                    "jm_kumo": _result(0.1, 0.02, 0.6),
                    "jf_nezumi": {"error": "Kokoro could not read this text"},
                },
            },
            "ja": {
                "espeak-ng": {"ja": _result(None, 4.7, 0.002)},
                "kokoro": {"jf_alpha": _result(None, 0.09, 0.45)},
            },
            "fr": {"kokoro": {"jm_kumo": {"error": "not installed"}}},
        }
    )
    assert best == {
        "es": {
            "engine": "kokoro",
            "voice": "jm_kumo",
            "wer": 0.1,
            "cer": 0.02,
            "synthesis_rtf": 0.6,
            "transcripts_in_another_script": 0,
        },
        "ja": {
            "engine": "kokoro",
            "voice": "jf_alpha",
            "wer": None,
            "cer": 0.09,
            "synthesis_rtf": 0.45,
            "transcripts_in_another_script": 0,
        },
    }
