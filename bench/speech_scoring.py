"""Word and character error rates of a transcript against its reference sentence."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Written without spaces between words: only characters can be counted.
UNSPACED_LANGUAGES = frozenset({"ja"})


@dataclass(frozen=True)
class Score:
    wer: float | None  # None where the language has no word boundaries
    cer: float


def normalise(text: str) -> str:
    """NFKC, casefold, punctuation to spaces, single spaces: a listener cannot hear a comma or a
    capital, so a recogniser's choice of them is no error. Numbers stay as written (the
    reference sentences spell them out)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    unpunctuated = "".join(
        " " if unicodedata.category(character).startswith("P") else character
        for character in folded
    )
    return " ".join(unpunctuated.split())


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance (substitutions, insertions and deletions) between token lists."""
    previous = list(range(len(hypothesis) + 1))
    for row, wanted in enumerate(reference, start=1):
        current = [row]
        for column, heard in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[column] + 1,
                    current[column - 1] + 1,
                    previous[column - 1] + (wanted != heard),
                )
            )
        previous = current
    return previous[-1]


def error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    if not reference:
        raise ValueError("An error rate needs a reference of at least one token.")
    return edit_distance(reference, hypothesis) / len(reference)


def score(reference: str, transcript: str, language: str) -> Score:
    wanted, heard = normalise(reference), normalise(transcript)
    if language.split("-")[0] in UNSPACED_LANGUAGES:
        # A recogniser may still put spaces between Japanese phrases: they are not characters.
        return Score(wer=None, cer=error_rate(wanted.replace(" ", ""), heard.replace(" ", "")))
    return Score(wer=error_rate(wanted.split(), heard.split()), cer=error_rate(wanted, heard))
