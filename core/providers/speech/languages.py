"""Language codes as gTTS writes them ("en", "zh-CN"), and which offline voice speaks each."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from gtts.lang import tts_langs

from core.providers.speech.espeak_engine import espeak_languages

# gTTS codes that espeak-ng spells differently. gTTS's "pt" is Brazilian Portuguese and its
# Chinese codes are all Mandarin.
_ESPEAK_VOICE_FOR_GTTS = {
    "en": "en-us",
    "fr": "fr-fr",
    "pt": "pt-br",
    "pt-PT": "pt",
    "iw": "he",
    "no": "nb",
    "zh": "cmn",
    "zh-CN": "cmn",
    "zh-TW": "cmn",
}


def by_name(languages: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(languages.items(), key=lambda item: (item[1], item[0])))


@functools.cache
def gtts_languages() -> dict[str, str]:
    """What Google Translate speaks (gTTS ships this list; reading it needs no network)."""
    return by_name(tts_langs())


def espeak_voice_for(code: str) -> str:
    return _ESPEAK_VOICE_FOR_GTTS.get(code, code)


@functools.cache
def offline_languages() -> dict[str, str]:
    """Every language espeak-ng speaks, under gTTS's code and name when gTTS has it too, so a
    choice survives a switch of provider. English and Japanese are always there (piper, Kokoro).
    """
    google = gtts_languages()
    espeak = espeak_languages()
    languages = {"en": google["en"], "ja": google["ja"]}
    covered = set()
    for code, name in google.items():
        voice = espeak_voice_for(code)
        if voice in espeak:
            languages[code] = name
            covered.add(voice)
    for voice, name in espeak.items():
        # Regional variants ("es-419", "vi-vn-x-central") would crowd the picker.
        if voice not in covered and "-" not in voice:
            languages[voice] = name
    return by_name(languages)


def match_language(code: str, languages: Mapping[str, str]) -> str | None:
    """The listed code for `code`, forgiving case and a region the list lacks ("en-GB" -> "en")."""
    by_lower = {known.lower(): known for known in languages}
    wanted = code.strip().lower()
    return by_lower.get(wanted) or by_lower.get(wanted.split("-")[0])
