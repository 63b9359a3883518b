"""Google Translate's voice through the `gtts` package: online, no key, MP3 straight from Google.

gTTS splits long text into parts of at most 100 characters and asks Google for each; the parts'
MP3s are joined, and the duration is the sum of what each part really holds.
"""

from __future__ import annotations

import binascii

import requests
from gtts import gTTS, gTTSError

from core.errors import ProviderError
from core.providers.http import RETRYABLE_STATUS, RetryPolicy, retrying
from core.providers.speech.audio import mp3_duration
from core.providers.speech.base import SpeechRequest, SpeechResult
from core.providers.speech.languages import gtts_languages, match_language
from core.providers.speech.text import speakable_text

SERVICE = "Google Text-to-Speech"
_OFFLINE_HINT = "or use the offline voices"
_NOT_AUDIO = (
    f"{SERVICE} answered with something that is not audio. Google may have changed its "
    "service; the gTTS package may need an update."
)


class GttsSpeechProvider:
    name = "gtts"
    label = "Google Translate voice (online)"
    supports_slow = True
    supports_instant = False
    job_queue = "cpu"

    def __init__(
        self,
        *,
        tld: str,
        timeout_seconds: float,
        max_characters: int,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._tld = tld
        self._timeout_seconds = timeout_seconds
        self._max_characters = max_characters
        self._retry_policy = retry_policy or RetryPolicy()

    def close(self) -> None:
        """Nothing to release: gTTS opens a connection per request."""

    def languages(self) -> dict[str, str]:
        return gtts_languages()

    def loading_note(self, language: str, *, instant: bool = False) -> str | None:
        """None: Google speaks, nothing loads here."""
        return None

    def describe_reader(self, language: str, *, instant: bool = False) -> str:
        return f"gTTS · {language} (translate.google.{self._tld}) — natural, needs the internet"

    def synthesize(self, request: SpeechRequest) -> SpeechResult:
        text = speakable_text(request.text, max_characters=self._max_characters)
        language = match_language(request.language, self.languages())
        if language is None:
            raise ProviderError(
                f"{SERVICE} does not speak {request.language!r}. Pick a language from the list."
            )
        parts = self._fetch_with_retries(text, language, request.slow)
        return SpeechResult(
            mp3=b"".join(parts),
            duration_seconds=sum(mp3_duration(part, source=SERVICE) for part in parts),
            engine="gTTS",
            voice=f"{language} (translate.google.{self._tld})",
            details={
                "language": language,
                "slow": request.slow,
                "tld": self._tld,
                "parts": len(parts),
            },
        )

    def _fetch_with_retries(self, text: str, language: str, slow: bool) -> list[bytes]:
        try:
            for attempt in retrying(self._retry_policy, service=SERVICE):
                with attempt:
                    return self._fetch(text, language, slow)
        except ProviderError as error:
            if not error.retryable:
                raise
            # Every attempt is spent, as with `send_with_retries`: the pipeline need not retry.
            raise ProviderError(str(error)) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _fetch(self, text: str, language: str, slow: bool) -> list[bytes]:
        tts = gTTS(
            text,
            tld=self._tld,
            lang=language,
            slow=slow,
            # The language is checked against gTTS's own list above; this skips its warnings.
            lang_check=False,
            timeout=self._timeout_seconds,
        )
        try:
            parts = list(tts.stream())
        except gTTSError as error:
            raise self._plain_error(error) from None
        except binascii.Error:
            raise ProviderError(_NOT_AUDIO) from None
        # An answer without any audio line makes gTTS yield nothing at all.
        if not parts:
            raise ProviderError(_NOT_AUDIO)
        return parts

    def _plain_error(self, error: gTTSError) -> ProviderError:
        response = error.rsp
        if response is None:
            if isinstance(error.__context__, requests.Timeout):
                return ProviderError(
                    f"{SERVICE} did not answer in time. Try again later, {_OFFLINE_HINT}.",
                    retryable=True,
                )
            return ProviderError(
                f"Could not reach {SERVICE} at translate.google.{self._tld}. "
                f"Check the network, {_OFFLINE_HINT}.",
                retryable=True,
            )
        status = response.status_code
        if status == 429:
            return ProviderError(
                f"{SERVICE} is rate limiting us. Wait a minute and try again, {_OFFLINE_HINT}.",
                retryable=True,
            )
        if status in RETRYABLE_STATUS:
            return ProviderError(
                f"{SERVICE} is having trouble (HTTP {status}). Try again later, {_OFFLINE_HINT}.",
                retryable=True,
            )
        if status == 200:
            return ProviderError(
                f"{SERVICE} answered without audio for this text in this language. "
                "Try another language or shorter sentences."
            )
        if status == 404:
            return ProviderError(
                f"translate.google.{self._tld} has no text-to-speech. Check SPEECH_GTTS_TLD "
                '(for example "com" or "co.uk").'
            )
        return ProviderError(
            f"{SERVICE} refused the request (HTTP {status}). The gTTS package may need an update."
        )
