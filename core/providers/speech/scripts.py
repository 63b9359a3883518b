"""Which writing system (Unicode script) a text is in, and whether a language is written in it.

Only the script is told, never the language: English, French and Spanish share Latin letters,
so a Spanish text read with English selected is no mismatch here. A voice given text in a
script its language does not use reads it badly or not at all (Kokoro is silent on Cyrillic,
piper spells Japanese out), so that case is worth a word before a request is queued.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Script(Enum):
    """A writing system, as the user would name it ("This text is written in …")."""

    LATIN = "Latin letters"
    CYRILLIC = "Cyrillic letters"
    GREEK = "Greek letters"
    ARMENIAN = "Armenian letters"
    GEORGIAN = "Georgian letters"
    HEBREW = "Hebrew letters"
    ARABIC = "Arabic script"
    ETHIOPIC = "Ethiopic script"
    DEVANAGARI = "Devanagari"
    BENGALI = "Bengali script"
    GURMUKHI = "Gurmukhi"
    GUJARATI = "Gujarati script"
    ORIYA = "Odia script"
    TAMIL = "Tamil script"
    TELUGU = "Telugu script"
    KANNADA = "Kannada script"
    MALAYALAM = "Malayalam script"
    SINHALA = "Sinhala script"
    THAI = "Thai script"
    LAO = "Lao script"
    KHMER = "Khmer script"
    MYANMAR = "Myanmar script"
    HAN = "Chinese characters"
    # Hiragana and katakana, and the kanji around them (see `script_of`).
    KANA = "Japanese kana"
    # Hangul, and any hanja among it.
    HANGUL = "Korean Hangul"


# A letter's Unicode name starts with its script ("CYRILLIC SMALL LETTER ZHE"), after
# "FULLWIDTH" or "HALFWIDTH" for the East Asian width variants.
_BY_NAME = {
    "LATIN": Script.LATIN,
    "CYRILLIC": Script.CYRILLIC,
    "GREEK": Script.GREEK,
    "ARMENIAN": Script.ARMENIAN,
    "GEORGIAN": Script.GEORGIAN,
    "HEBREW": Script.HEBREW,
    "ARABIC": Script.ARABIC,
    "ETHIOPIC": Script.ETHIOPIC,
    "DEVANAGARI": Script.DEVANAGARI,
    "BENGALI": Script.BENGALI,
    "GURMUKHI": Script.GURMUKHI,
    "GUJARATI": Script.GUJARATI,
    "ORIYA": Script.ORIYA,
    "TAMIL": Script.TAMIL,
    "TELUGU": Script.TELUGU,
    "KANNADA": Script.KANNADA,
    "MALAYALAM": Script.MALAYALAM,
    "SINHALA": Script.SINHALA,
    "THAI": Script.THAI,
    "LAO": Script.LAO,
    "KHMER": Script.KHMER,
    "MYANMAR": Script.MYANMAR,
    "CJK": Script.HAN,
    # 々, the kanji repeat mark.
    "IDEOGRAPHIC": Script.HAN,
    "HIRAGANA": Script.KANA,
    "KATAKANA": Script.KANA,
    # ー, the long-vowel mark.
    "KATAKANA-HIRAGANA": Script.KANA,
    "HANGUL": Script.HANGUL,
}
_WIDTH_PREFIXES = ("FULLWIDTH", "HALFWIDTH")

# The languages written in each script but Latin, by their primary code as gTTS and espeak-ng
# spell it. Every language listed nowhere is written in Latin letters.
_WRITTEN_IN: dict[Script, frozenset[str]] = {
    Script.CYRILLIC: frozenset(
        {"ba", "be", "bg", "cv", "kk", "ky", "mk", "mn", "nog", "ru", "sr", "tg", "tt", "uk", "uz"}
    ),
    Script.GREEK: frozenset({"el", "grc"}),
    Script.ARMENIAN: frozenset({"hy", "hyw"}),
    Script.GEORGIAN: frozenset({"ka"}),
    # gTTS still says "iw" for Hebrew.
    Script.HEBREW: frozenset({"he", "iw", "yi"}),
    Script.ARABIC: frozenset({"ar", "ckb", "fa", "ku", "ps", "sd", "ug", "ur"}),
    Script.ETHIOPIC: frozenset({"am", "ti"}),
    Script.DEVANAGARI: frozenset({"hi", "kok", "mr", "ne", "sa"}),
    Script.BENGALI: frozenset({"as", "bn", "bpy"}),
    Script.GURMUKHI: frozenset({"pa"}),
    Script.GUJARATI: frozenset({"gu"}),
    Script.ORIYA: frozenset({"or"}),
    Script.TAMIL: frozenset({"ta"}),
    Script.TELUGU: frozenset({"te"}),
    Script.KANNADA: frozenset({"kn"}),
    Script.MALAYALAM: frozenset({"ml"}),
    Script.SINHALA: frozenset({"si"}),
    Script.THAI: frozenset({"th"}),
    Script.LAO: frozenset({"lo"}),
    Script.KHMER: frozenset({"km"}),
    Script.MYANMAR: frozenset({"my", "shn"}),
    # Japanese may be written in kanji alone ("東京都").
    Script.HAN: frozenset({"cmn", "hak", "ja", "yue", "zh"}),
    Script.KANA: frozenset({"ja"}),
    Script.HANGUL: frozenset({"ko"}),
}
# Listed above, and written in Latin letters as well.
_ALSO_LATIN = frozenset({"kk", "ku", "sr", "uz"})


def scripts_in(text: str) -> Counter[Script]:
    """How many of the text's letters are in each script (digits and symbols do not count)."""
    counts = Counter(script for character in text if (script := _letter_script(character)))
    # Japanese mixes kanji with kana, Korean may carry hanja: with any kana (or hangul) in
    # the text, its Chinese characters are Japanese (or Korean).
    for script in (Script.KANA, Script.HANGUL):
        if counts[script]:
            counts[script] += counts.pop(Script.HAN, 0)
    return counts


def _letter_script(character: str) -> Script | None:
    # Marks (Devanagari vowel signs, accents) go with their letter; the letter counts.
    if not unicodedata.category(character).startswith("L"):
        return None
    words = unicodedata.name(character, "").split(" ")
    if words[0] in _WIDTH_PREFIXES:
        words = words[1:]
    return _BY_NAME.get(words[0]) if words else None


def scripts_for(language: str) -> frozenset[Script]:
    """The scripts `language` is written in ("zh-TW" -> Chinese characters)."""
    code = language.strip().lower()
    primary = code.split("-")[0]
    scripts = {script for script, codes in _WRITTEN_IN.items() if {code, primary} & codes}
    if not scripts or primary in _ALSO_LATIN:
        scripts.add(Script.LATIN)
    return frozenset(scripts)


@dataclass(frozen=True)
class LanguageMismatch:
    """A text in a script its chosen language is not written in."""

    script: Script
    # The offered languages written in that script, in the offer's order.
    languages: tuple[str, ...]
    message: str


def language_mismatch(
    text: str, language: str, languages: Mapping[str, str]
) -> LanguageMismatch | None:
    """None when at least half the letters of `text` are in a script `language` is written in
    (a Japanese sentence may name an "iPhone"), or it has no letter to tell by; otherwise the
    script most of the others are in, in plain words, and which of `languages` (code -> name)
    are written in it."""
    counts = scripts_in(text)
    own = scripts_for(language)
    if 2 * sum(counts[script] for script in own) >= counts.total():
        return None
    script = next(script for script, _ in counts.most_common() if script not in own)
    fitting = tuple(code for code in languages if script in scripts_for(code))
    chosen = languages.get(language, language)
    if len(fitting) == 1:
        message = f"This text looks like {languages[fitting[0]]}, but {chosen} is selected."
    elif fitting:
        message = f"This text is written in {script.value}, but {chosen} is selected."
    else:
        message = (
            f"This text is written in {script.value}, and none of these voices speaks a "
            "language written that way."
        )
    return LanguageMismatch(script, fitting, message)
