"""gTTS against a local fake of Google's batchexecute endpoint: gTTS's own request building,
HTTP and response parsing all run; only the host is on loopback."""

from __future__ import annotations

import pytest

from core.errors import ProviderError
from core.providers.http import RetryPolicy
from core.providers.speech.base import SpeechRequest
from core.providers.speech.gtts_provider import GttsSpeechProvider
from tests.providers.speech.audio_checks import decode_mp3
from tests.providers.speech.fake_google import (
    AUDIO,
    GARBAGE,
    NO_AUDIO,
    NOT_MP3,
    SLOW,
    FakeGoogle,
    SeenRequest,
)
from tests.support.ports import free_port


def test_returns_googles_mp3_and_its_real_duration(
    google: GttsSpeechProvider, fake_google: FakeGoogle, google_like_mp3: bytes
) -> None:
    result = google.synthesize(SpeechRequest(text="Hello there.", language="en"))

    assert result.mp3 == google_like_mp3
    decoded = decode_mp3(result.mp3)
    assert result.duration_seconds == pytest.approx(decoded.seconds, abs=0.1)
    assert decoded.rms > 0.01
    assert result.spoken_by == "gTTS · en (translate.google.com)"
    assert fake_google.seen == [SeenRequest(tld="com", text="Hello there.", lang="en", slow=False)]


def test_slow_mode_language_and_tld_reach_google(
    fake_google: FakeGoogle, google_like_mp3: bytes
) -> None:
    british = GttsSpeechProvider(tld="co.uk", timeout_seconds=5, max_characters=2000)

    result = british.synthesize(SpeechRequest(text="Bonjour.", language="FR", slow=True))

    assert fake_google.seen == [SeenRequest(tld="co.uk", text="Bonjour.", lang="fr", slow=True)]
    assert result.details == {"language": "fr", "slow": True, "tld": "co.uk", "parts": 1}


def test_long_text_is_fetched_in_parts_and_the_durations_add_up(
    google: GttsSpeechProvider, fake_google: FakeGoogle, google_like_mp3: bytes
) -> None:
    sentence = "This sentence is here to make the text longer than one request can carry. "
    result = google.synthesize(SpeechRequest(text=sentence * 4, language="en"))

    parts = len(fake_google.seen)
    assert parts >= 3
    assert all(len(seen.text) <= 100 for seen in fake_google.seen)
    assert result.mp3 == google_like_mp3 * parts
    single = decode_mp3(google_like_mp3).seconds
    assert result.duration_seconds == pytest.approx(single * parts, abs=0.1 * parts)
    assert result.duration_seconds == pytest.approx(decode_mp3(result.mp3).seconds, abs=0.2)


def test_rate_limit_is_retried_then_succeeds(
    google: GttsSpeechProvider, fake_google: FakeGoogle
) -> None:
    fake_google.answer_with(429, AUDIO)

    result = google.synthesize(SpeechRequest(text="Hello.", language="en"))

    assert len(fake_google.seen) == 2
    assert result.duration_seconds > 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Google Text-to-Speech is rate limiting us. Wait a minute and try again"),
        (500, "Google Text-to-Speech is having trouble (HTTP 500). Try again later"),
        (503, "Google Text-to-Speech is having trouble (HTTP 503). Try again later"),
    ],
)
def test_lasting_server_trouble_is_retried_then_reported(
    google: GttsSpeechProvider, fake_google: FakeGoogle, status: int, message: str
) -> None:
    fake_google.answer_with(status)

    with pytest.raises(ProviderError) as raised:
        google.synthesize(SpeechRequest(text="Hello.", language="en"))

    assert str(raised.value).startswith(message)
    assert "offline voices" in str(raised.value)
    # Every attempt is already spent here, as with the shared `send_with_retries`.
    assert len(fake_google.seen) == 3
    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (GARBAGE, "Google Text-to-Speech answered with something that is not audio."),
        (NO_AUDIO, "Google Text-to-Speech answered without audio for this text in this language."),
        (NOT_MP3, "Google Text-to-Speech returned something that is not an MP3."),
        (403, "Google Text-to-Speech refused the request (HTTP 403)."),
        (404, "translate.google.com has no text-to-speech. Check SPEECH_GTTS_TLD"),
    ],
)
def test_answers_that_hold_no_audio_are_reported_at_once(
    google: GttsSpeechProvider, fake_google: FakeGoogle, answer: str | int, message: str
) -> None:
    fake_google.answer_with(answer)

    with pytest.raises(ProviderError) as raised:
        google.synthesize(SpeechRequest(text="Hello.", language="en"))

    assert str(raised.value).startswith(message)
    assert raised.value.retryable is False
    assert len(fake_google.seen) == 1


def test_a_server_that_does_not_answer_in_time(fake_google: FakeGoogle) -> None:
    fake_google.answer_with(SLOW)
    impatient = GttsSpeechProvider(
        tld="com", timeout_seconds=0.3, max_characters=2000, retry_policy=RetryPolicy(attempts=1)
    )

    with pytest.raises(ProviderError) as raised:
        impatient.synthesize(SpeechRequest(text="Hello.", language="en"))

    assert str(raised.value) == (
        "Google Text-to-Speech did not answer in time. Try again later, or use the offline voices."
    )


def test_an_unreachable_google(fake_google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr("gtts.tts._translate_url", lambda tld="com", path="": f"{closed}/{path}")
    provider = GttsSpeechProvider(
        tld="com",
        timeout_seconds=5,
        max_characters=2000,
        retry_policy=RetryPolicy(attempts=2, initial_delay=0.01, max_delay=0.01),
    )

    with pytest.raises(ProviderError) as raised:
        provider.synthesize(SpeechRequest(text="Hello.", language="en"))

    assert str(raised.value) == (
        "Could not reach Google Text-to-Speech at translate.google.com. "
        "Check the network, or use the offline voices."
    )


@pytest.mark.parametrize(
    ("text", "language", "message"),
    [
        ("   ", "en", "There is no text to speak. Type a sentence first."),
        ("?!… —", "en", "There is nothing to speak in this text, only symbols."),
        ("x" * 2001, "en", "The text is 2,001 characters long; the limit is 2,000."),
        (
            "Hello.",
            "tlh",
            "Google Text-to-Speech does not speak 'tlh'. Pick a language from the list.",
        ),
    ],
)
def test_requests_google_cannot_serve_never_leave_the_machine(
    google: GttsSpeechProvider, fake_google: FakeGoogle, text: str, language: str, message: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        google.synthesize(SpeechRequest(text=text, language=language))

    assert str(raised.value).startswith(message)
    assert fake_google.seen == []


def test_language_codes_are_matched_to_googles_spelling(
    google: GttsSpeechProvider, fake_google: FakeGoogle
) -> None:
    google.synthesize(SpeechRequest(text="你好", language="zh-cn"))
    google.synthesize(SpeechRequest(text="Hello.", language="en-GB"))

    assert [seen.lang for seen in fake_google.seen] == ["zh-CN", "en"]


def test_lists_googles_languages_with_names(google: GttsSpeechProvider) -> None:
    languages = google.languages()

    for code in ("en", "es", "fr", "de", "it", "pt", "ja", "zh-CN"):
        assert code in languages
    assert languages["zh-CN"] == "Chinese (Simplified)"
    assert google.supports_slow
