"""Telling a text's script, and whether the chosen language is written in it."""

from __future__ import annotations

import pytest

from core.providers.speech.languages import gtts_languages, offline_languages
from core.providers.speech.scripts import Script, language_mismatch, scripts_for, scripts_in


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("The quick brown fox", Script.LATIN),
        ("Ｆｕｌｌｗｉｄｔｈ", Script.LATIN),
        ("Привет, как дела?", Script.CYRILLIC),
        ("Καλημέρα", Script.GREEK),
        ("مرحبا بالعالم", Script.ARABIC),
        ("שלום עולם", Script.HEBREW),
        ("नमस्ते दुनिया", Script.DEVANAGARI),
        ("今天天气很好。", Script.HAN),
        # Kanji among kana are Japanese; so are the long-vowel mark and half-width kana.
        ("今日は良い天気です。", Script.KANA),
        ("コーヒー", Script.KANA),
        ("ｺｰﾋｰ", Script.KANA),
        ("안녕하세요", Script.HANGUL),
        ("สวัสดีครับ", Script.THAI),
        ("Բարեւ", Script.ARMENIAN),
        ("გამარჯობა", Script.GEORGIAN),
    ],
)
def test_tells_the_script_most_letters_are_in(text: str, script: Script) -> None:
    assert scripts_in(text).most_common(1)[0][0] is script


def test_digits_and_symbols_are_no_letters() -> None:
    assert scripts_in("12:30 — 42 % !!") == {}
    assert language_mismatch("12:30 — 42 % !!", "ja", offline_languages()) is None


@pytest.mark.parametrize(
    ("language", "scripts"),
    [
        ("en", {Script.LATIN}),
        ("fr", {Script.LATIN}),
        ("ru", {Script.CYRILLIC}),
        ("sr", {Script.CYRILLIC, Script.LATIN}),
        ("zh-TW", {Script.HAN}),
        ("ja", {Script.HAN, Script.KANA}),
        ("iw", {Script.HEBREW}),
        ("EN-gb", {Script.LATIN}),
    ],
)
def test_knows_the_scripts_a_language_is_written_in(language: str, scripts: set[Script]) -> None:
    assert scripts_for(language) == scripts


@pytest.mark.parametrize(
    ("text", "language", "message", "fitting"),
    [
        (
            "今日は良い天気です。",
            "en",
            "This text looks like Japanese, but English is selected.",
            ("ja",),
        ),
        (
            "今日は良い天気です。",
            "zh-CN",
            "This text looks like Japanese, but Chinese (Simplified) is selected.",
            ("ja",),
        ),
        ("안녕하세요", "ja", "This text looks like Korean, but Japanese is selected.", ("ko",)),
        (
            "Γειά σου κόσμε",
            "en",
            "This text is written in Greek letters, but English is selected.",
            ("el", "grc"),
        ),
    ],
)
def test_a_text_in_a_script_its_language_does_not_use_is_a_mismatch(
    text: str, language: str, message: str, fitting: tuple[str, ...]
) -> None:
    mismatch = language_mismatch(text, language, offline_languages())

    assert mismatch is not None
    assert mismatch.message == message
    assert mismatch.languages == fitting


def test_languages_sharing_a_script_are_not_guessed_between() -> None:
    languages = offline_languages()

    for text in ("¿Qué tal? Hola desde el estudio.", "Bonjour à tous", "Guten Tag"):
        assert language_mismatch(text, "en", languages) is None
    # Chinese characters alone may be Chinese or Japanese: Japanese is not questioned.
    assert language_mismatch("東京都", "ja", languages) is None
    cyrillic = language_mismatch("Привет, как дела?", "en", languages)
    assert cyrillic is not None
    assert {"ru", "uk", "bg"} <= set(cyrillic.languages)


def test_a_few_words_from_another_script_do_not_make_a_mismatch() -> None:
    languages = offline_languages()

    assert language_mismatch("iPhoneを買いました", "ja", languages) is None
    assert language_mismatch("Я люблю Python", "ru", languages) is None
    latin = language_mismatch("I love 寿司 and ramen", "ja", languages)
    assert latin is not None
    assert latin.message == "This text is written in Latin letters, but Japanese is selected."


def test_says_so_when_no_offered_language_is_written_in_the_script() -> None:
    # Google offers no Armenian.
    mismatch = language_mismatch("Բարեւ ձեզ", "en", gtts_languages())

    assert mismatch is not None
    assert mismatch.languages == ()
    assert mismatch.message == (
        "This text is written in Armenian letters, and none of these voices speaks a language "
        "written that way."
    )
