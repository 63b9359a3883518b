"""The Pollinations client against a local fake that speaks its wire format over real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from core.config import Settings
from core.errors import InvalidInput, ProviderError
from core.providers.http import RetryPolicy
from core.providers.image.base import ImageRequest
from core.providers.image.pollinations import PollinationsOptions, PollinationsProvider
from core.providers.image.styles import STYLES
from tests.providers.image.images import decode, jpeg_bytes
from tests.support.fake_pollinations import FakePollinations, Reply
from tests.support.ports import free_port

FAST_RETRIES = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
def fake() -> Iterator[FakePollinations]:
    server = FakePollinations().start()
    yield server
    server.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_provider(base_url: str, **changes: Any) -> PollinationsProvider:
    values: dict[str, Any] = {
        "base_url": base_url,
        "retry": FAST_RETRIES,
        "read_timeout": 5.0,
        "connect_timeout": 2.0,
    }
    clock = changes.pop("clock", None)
    options = PollinationsOptions(**(values | changes))
    return PollinationsProvider(options, clock=clock) if clock else PollinationsProvider(options)


def request(**changes: Any) -> ImageRequest:
    values: dict[str, Any] = {
        "prompt": "a red fox",
        "width": 320,
        "height": 192,
        "seed": 42,
        "model": "flux",
    }
    return ImageRequest(**(values | changes))


# --- the request on the wire ---------------------------------------------------------------


def test_a_jpeg_answer_becomes_a_png_of_that_size(fake: FakePollinations) -> None:
    result = make_provider(fake.base_url).generate(request())
    image = decode(result.png)
    assert image.size == (320, 192)
    assert (result.width, result.height) == (320, 192)
    assert result.model == "flux"
    assert result.details["upstream_content_type"] == "image/jpeg"
    assert result.details["attempts"] == 1
    # The fake paints the top-left quarter yellow: the pixels survived the conversion.
    red, _green, blue = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
    assert red > 200 and blue < 100


def test_the_request_carries_the_encoded_prompt_and_the_parameters(fake: FakePollinations) -> None:
    prompt = "a cat / dog & 100% fun? #1"
    make_provider(fake.base_url).generate(request(prompt=prompt, style="watercolor", seed=7))
    [received] = fake.received
    sent = f"{prompt}, {STYLES['watercolor'].prompt_suffix}"
    assert received.raw_path == "/prompt/" + quote(sent, safe="")
    assert received.prompt == sent
    assert received.query == {
        "width": "320",
        "height": "192",
        "seed": "7",
        "model": "flux",
        "nologo": "true",
        "private": "true",
    }
    assert "authorization" not in {name.lower() for name in received.headers}


def test_the_token_is_sent_as_a_bearer_header(fake: FakePollinations) -> None:
    make_provider(fake.base_url, api_token="tok-123").generate(request())
    assert fake.received[0].headers["Authorization"] == "Bearer tok-123"


def test_a_reference_url_goes_out_as_image_for_kontext(fake: FakePollinations) -> None:
    url = "https://files.example.org/avatars/u1.png?sig=a%2Fb&x=1"
    result = make_provider(fake.base_url).generate(
        request(model="kontext", reference_url=url, reference_png=jpeg_bytes())
    )
    assert fake.received[0].query["image"] == url
    assert fake.received[0].query["model"] == "kontext"
    assert result.details["reference_url"] == url


def test_a_reference_with_a_model_that_ignores_it_is_refused(fake: FakePollinations) -> None:
    with pytest.raises(InvalidInput, match=r"flux does not use a reference image.*kontext"):
        make_provider(fake.base_url).generate(request(reference_url="https://x.org/a.png"))
    assert fake.received == []


def test_a_reference_without_a_public_url_is_refused(fake: FakePollinations) -> None:
    with pytest.raises(InvalidInput, match="from a web address"):
        make_provider(fake.base_url).generate(request(model="kontext", reference_png=jpeg_bytes()))
    assert fake.received == []


def test_the_real_decoded_size_wins_over_the_requested_one(fake: FakePollinations) -> None:
    fake.reply_with(Reply(body=jpeg_bytes((512, 512))))
    result = make_provider(fake.base_url).generate(request(width=320, height=192))
    assert (result.width, result.height) == (512, 512)
    assert decode(result.png).size == (512, 512)
    assert result.details["requested_size"] == "320x192"


# --- slow, busy and failing service ----------------------------------------------------------


def test_a_slow_answer_times_out_with_a_clear_message_and_is_not_retried(
    fake: FakePollinations,
) -> None:
    fake.reply_with(Reply(delay=30))
    provider = make_provider(fake.base_url, read_timeout=0.3)
    with pytest.raises(ProviderError) as caught:
        provider.generate(request())
    assert str(caught.value).startswith("Pollinations did not send the image within 0.3 s.")
    assert len(fake.received) == 1


@pytest.mark.parametrize("retry_after", [None, "1"])
def test_429_then_success(fake: FakePollinations, retry_after: str | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    fake.reply_with(
        Reply(status=429, body=b'{"error":"Too Many Requests"}', headers=headers), Reply()
    )
    result = make_provider(fake.base_url).generate(request())
    assert decode(result.png).size == (320, 192)
    assert len(fake.received) == 2
    assert result.details["attempts"] == 2


def test_429_forever_says_we_are_rate_limited(fake: FakePollinations) -> None:
    fake.reply_with(Reply(status=429, body=b"slow down", content_type="text/plain"))
    with pytest.raises(ProviderError, match="Pollinations is rate limiting us"):
        make_provider(fake.base_url).generate(request())
    assert len(fake.received) == FAST_RETRIES.attempts


def test_500_then_success(fake: FakePollinations) -> None:
    fake.reply_with(Reply(status=500, body=b"oops", content_type="text/plain"), Reply())
    result = make_provider(fake.base_url).generate(request())
    assert decode(result.png).size == (320, 192)
    assert len(fake.received) == 2


def test_500_forever_gives_up_after_the_attempts(fake: FakePollinations) -> None:
    fake.reply_with(Reply(status=500, body=b"oops", content_type="text/plain"))
    with pytest.raises(ProviderError, match=r"Pollinations is having trouble \(HTTP 500\)"):
        make_provider(fake.base_url).generate(request())
    assert len(fake.received) == FAST_RETRIES.attempts


def test_a_transfer_cut_off_midway_is_retried_then_reported(fake: FakePollinations) -> None:
    fake.reply_with(Reply(body=jpeg_bytes((64, 64))[:300], missing_bytes=5000))
    with pytest.raises(ProviderError, match="broke off while sending the image") as caught:
        make_provider(fake.base_url).generate(request())
    assert caught.value.retryable
    assert len(fake.received) == FAST_RETRIES.attempts


def test_an_unreachable_service_is_reported_as_such() -> None:
    provider = make_provider(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError, match="Could not reach Pollinations"):
        provider.generate(request())


# --- answers that are not images -------------------------------------------------------------


def test_html_instead_of_an_image_is_quoted_back(fake: FakePollinations) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 400 + b"</body>"
    fake.reply_with(Reply(body=page, content_type="text/html"))
    with pytest.raises(ProviderError) as caught:
        make_provider(fake.base_url).generate(request())
    message = str(caught.value)
    assert message.startswith(
        "Pollinations answered with text instead of an image: <html><head><title>502 Bad Gateway"
    )
    assert message.endswith("…")
    assert len(message) < 300


def test_json_instead_of_an_image_is_quoted_back(fake: FakePollinations) -> None:
    body = json.dumps({"error": "Content policy", "message": "prompt was flagged"}).encode()
    fake.reply_with(Reply(body=body, content_type="application/json"))
    with pytest.raises(ProviderError, match=r"text instead of an image: .*prompt was flagged"):
        make_provider(fake.base_url).generate(request())


def test_a_truncated_jpeg_is_refused_as_retryable(fake: FakePollinations) -> None:
    whole = jpeg_bytes((256, 256))
    fake.reply_with(Reply(body=whole[: len(whole) // 2]))
    with pytest.raises(
        ProviderError, match="sent an image we cannot use: it is damaged or cut off"
    ):
        make_provider(fake.base_url).generate(request())
    assert len(fake.received) == 1


def test_a_declared_huge_body_is_refused_before_reading(fake: FakePollinations) -> None:
    fake.reply_with(Reply(body=b"", missing_bytes=30 * 1024 * 1024))
    with pytest.raises(ProviderError, match="sent more than 25 MB"):
        make_provider(fake.base_url).generate(request())


def test_a_400_quotes_the_service_s_reason(fake: FakePollinations) -> None:
    body = json.dumps({"error": "Bad Request", "message": "width must be <= 2048"}).encode()
    fake.reply_with(Reply(status=400, body=body, content_type="application/json"))
    with pytest.raises(ProviderError, match=r"refused the request \(HTTP 400\): width must be"):
        make_provider(fake.base_url).generate(request())
    assert len(fake.received) == 1


def test_a_401_points_at_the_token_setting(fake: FakePollinations) -> None:
    fake.reply_with(Reply(status=401, body=b'{"error":"invalid token"}'))
    with pytest.raises(ProviderError, match="IMAGE_POLLINATIONS_API_TOKEN"):
        make_provider(fake.base_url, api_token="wrong").generate(request())


def test_an_invalid_request_sends_nothing(fake: FakePollinations) -> None:
    with pytest.raises(InvalidInput, match="width must be"):
        make_provider(fake.base_url).generate(request(width=4000))
    assert fake.received == []


# --- the model list --------------------------------------------------------------------------


def test_models_come_from_the_service_and_are_cached(fake: FakePollinations) -> None:
    clock = FakeClock()
    provider = make_provider(fake.base_url, clock=clock)
    assert provider.models() == ["flux", "turbo"]
    assert provider.models() == ["flux", "turbo"]
    assert fake.models_requests == 1
    clock.now += 601
    fake.models_reply = Reply(body=b'["flux", "kontext", "flux"]', content_type="application/json")
    assert provider.models() == ["flux", "kontext"]
    assert fake.models_requests == 2


def test_models_as_objects_are_read_by_name(fake: FakePollinations) -> None:
    fake.models_reply = Reply(
        body=json.dumps([{"name": "flux", "aliases": []}, {"name": "gptimage"}]).encode(),
        content_type="application/json",
    )
    assert make_provider(fake.base_url).models() == ["flux", "gptimage"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, body=b"down", content_type="text/plain"),
        Reply(body=b"<html>not json</html>", content_type="text/html"),
        Reply(body=b'{"models": "flux"}', content_type="application/json"),
        Reply(body=b"[]", content_type="application/json"),
    ],
)
def test_models_fall_back_to_the_settings_list(fake: FakePollinations, reply: Reply) -> None:
    fake.models_reply = reply
    clock = FakeClock()
    provider = make_provider(fake.base_url, models=("flux", "turbo", "kontext"), clock=clock)
    assert provider.models() == ["flux", "turbo", "kontext"]
    # A failure is remembered for a short while, then asked again.
    provider.models()
    assert fake.models_requests == 1
    clock.now += 61
    provider.models()
    assert fake.models_requests == 2


def test_models_are_not_fetched_when_disabled(fake: FakePollinations) -> None:
    provider = make_provider(fake.base_url, fetch_models=False, models=("turbo",))
    assert provider.models() == ["turbo"]
    assert fake.models_requests == 0


def test_options_come_from_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        image_pollinations_base_url="http://127.0.0.1:9/",
        image_pollinations_api_token="secret-token",
        image_pollinations_models=" flux, turbo ,",
        image_pollinations_reference_models="kontext,gptimage",
        image_pollinations_read_timeout_seconds=45,
        image_pollinations_retry_attempts=5,
    )
    options = PollinationsOptions.from_settings(settings)
    assert options.base_url == "http://127.0.0.1:9/"
    assert options.api_token == "secret-token"
    assert options.models == ("flux", "turbo")
    assert options.reference_models == frozenset({"kontext", "gptimage"})
    assert options.read_timeout == 45
    assert options.retry.attempts == 5
