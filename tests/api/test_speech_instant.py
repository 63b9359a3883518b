"""`POST /tts/generate` with `instant`: the offline voices read with espeak-ng, and the choice
is kept with the generation; anything but a JSON boolean is refused."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Caller


def test_instant_speech_is_read_by_espeak_ng_and_kept(http: httpx.Client, caller: Caller) -> None:
    made = http.post(
        "/tts/generate",
        json={"prompt": "Hola.", "voice": "es", "model": "offline", "instant": True},
        headers=caller.headers,
    )

    assert made.status_code == 200, made.text
    meta = made.json()["meta"]
    assert meta["spokenBy"] == "espeak-ng · es" and meta["instant"] is True
    kept = http.get(f"/tts/{made.json()['id']}", headers=caller.headers)
    assert kept.json()["meta"]["instant"] is True


@pytest.mark.parametrize("instant", ["maybe", "true", 1, None, []])
def test_an_instant_that_is_not_a_boolean_is_refused(
    http: httpx.Client, caller: Caller, instant: object
) -> None:
    refused = http.post(
        "/tts/generate",
        json={"prompt": "Hola.", "voice": "es", "instant": instant},
        headers=caller.headers,
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "instant"]
