"""The OpenAI-compatible provider against a local server that streams the real SSE format."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatMessage, ChatRequest, StreamInterrupted
from core.providers.chat.openai_compatible import (
    ChatApiConfig,
    OpenAICompatibleChatProvider,
    label_for_base_url,
)
from core.providers.http import RetryPolicy
from tests.support.fake_openai import (
    FakeOpenAI,
    RawEvent,
    Reply,
    answer_events,
    content_event,
    error_reply,
    role_event,
)

QUESTION = ChatRequest(
    messages=[
        ChatMessage("system", "You answer briefly."),
        ChatMessage("user", "Say hello to the world."),
    ],
    model="gpt-4o-mini",
    temperature=0.2,
    max_tokens=50,
)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def make_provider(server: FakeOpenAI, **overrides: object) -> OpenAICompatibleChatProvider:
    values: dict[str, object] = {
        "base_url": server.base_url,
        "api_key": "sk-test-key",
        "models": ("gpt-4o-mini",),
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "first_token_timeout": 10.0,
        "retry": RetryPolicy(attempts=3, initial_delay=0.01, max_delay=2.0),
    }
    return OpenAICompatibleChatProvider(ChatApiConfig(**(values | overrides)))  # type: ignore[arg-type]


def collect(
    provider: OpenAICompatibleChatProvider,
    request: ChatRequest = QUESTION,
    cancel: threading.Event | None = None,
) -> tuple[str, ChatDelta]:
    deltas = list(provider.stream(request, cancel))
    return "".join(d.text for d in deltas), deltas[-1]


def test_streams_text_and_reports_the_usage_chunk(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=answer_events(["Hello", ", ", "world", "!"], usage=(21, 4))))
    provider = make_provider(server)

    deltas = list(provider.stream(QUESTION))

    assert [d.text for d in deltas[:-1]] == ["Hello", ", ", "world", "!"]
    final = deltas[-1]
    assert (final.text, final.tokens_in, final.tokens_out) == ("", 21, 4)
    assert final.finish_reason == "stop"
    assert final.model == "gpt-4o-mini"
    assert final.usage_estimated is False


def test_sends_the_openai_request_shape(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=answer_events(["ok"])))
    collect(make_provider(server))

    (request,) = server.chat_requests()
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-key"
    assert request.json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "Say hello to the world."},
        ],
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 50,
    }


def test_estimates_usage_when_the_service_sends_none(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=answer_events(["Twelve chars"], usage=None)))
    text, final = collect(make_provider(server))

    assert text == "Twelve chars"
    assert final.usage_estimated is True
    assert final.tokens_out == 3  # 12 characters at ~4 per token
    assert final.tokens_in is not None and final.tokens_in > 0


def test_multi_line_data_and_keepalive_comments_are_decoded_per_the_sse_spec(
    server: FakeOpenAI,
) -> None:
    # A JSON chunk split over two `data:` lines, plus a `: ping` comment, both legal SSE.
    # Data lines are joined with a newline, which JSON reads as whitespace.
    head, tail = content_event("split").split(", ", 1)
    two_lines = RawEvent(f"data: {head},\r\ndata: {tail}\r\n\r\n")
    ping = RawEvent(": ping\n\n")
    server.enqueue(Reply(events=[role_event(), ping, two_lines, *answer_events(["!"])[1:]]))
    text, final = collect(make_provider(server))
    assert text == "split!"
    assert final.finish_reason == "stop"


def test_401_says_the_key_was_refused_without_retrying(server: FakeOpenAI) -> None:
    server.enqueue(error_reply(401, "Bad credentials"))
    with pytest.raises(ProviderError) as caught:
        collect(make_provider(server))
    assert "did not accept the API key (HTTP 401)" in str(caught.value)
    assert "Bad credentials" in str(caught.value)
    assert "sk-test-key" not in str(caught.value)
    assert caught.value.retryable is False
    assert len(server.chat_requests()) == 1


def test_403_says_access_was_refused(server: FakeOpenAI) -> None:
    server.enqueue(error_reply(403, "no access to this model"))
    with pytest.raises(ProviderError, match=r"refused access \(HTTP 403\)"):
        collect(make_provider(server))


def test_404_names_the_model_and_the_address(server: FakeOpenAI) -> None:
    server.enqueue(error_reply(404, "Unknown model: gpt-4o-mini"))
    with pytest.raises(ProviderError) as caught:
        collect(make_provider(server))
    message = str(caught.value)
    assert "does not know model 'gpt-4o-mini'" in message
    assert server.base_url in message
    assert "CHAT_API_BASE_URL" in message


def test_429_with_retry_after_waits_as_asked_then_succeeds(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    server.enqueue(
        error_reply(429, "slow down", **{"Retry-After": "1"}),
        Reply(events=answer_events(["after the wait"])),
    )
    with caplog.at_level(logging.WARNING, logger="core.providers.http"):
        text, _ = collect(make_provider(server))

    assert text == "after the wait"
    assert len(server.chat_requests()) == 2
    (retry,) = [r for r in caplog.records if r.getMessage() == "retrying provider call"]
    assert retry.wait_seconds == 1.0  # type: ignore[attr-defined]


def test_429_asking_for_a_long_wait_fails_at_once_with_the_wait(server: FakeOpenAI) -> None:
    server.enqueue(error_reply(429, "quota", **{"Retry-After": "120"}))
    with pytest.raises(ProviderError, match="asks to wait 120 s"):
        collect(make_provider(server))
    assert len(server.chat_requests()) == 1


def test_429_every_time_says_we_are_rate_limited(server: FakeOpenAI) -> None:
    server.enqueue(*(error_reply(429, "slow down") for _ in range(3)))
    with pytest.raises(ProviderError, match="rate limiting us"):
        collect(make_provider(server))
    assert len(server.chat_requests()) == 3


def test_500_then_success_retries_before_the_first_token(server: FakeOpenAI) -> None:
    server.enqueue(error_reply(500, "boom"), Reply(events=answer_events(["fine"])))
    text, final = collect(make_provider(server))
    assert text == "fine"
    assert final.finish_reason == "stop"
    assert len(server.chat_requests()) == 2


def test_5xx_every_time_gives_a_plain_message(server: FakeOpenAI) -> None:
    server.enqueue(*(error_reply(503, "overloaded") for _ in range(3)))
    with pytest.raises(ProviderError, match=r"having trouble \(HTTP 503\)"):
        collect(make_provider(server))


def test_a_cut_before_the_first_token_is_retried(server: FakeOpenAI) -> None:
    server.enqueue(
        Reply(events=answer_events(["never seen"]), cut_after=1),
        Reply(events=answer_events(["second try"])),
    )
    text, _ = collect(make_provider(server))
    assert text == "second try"
    assert len(server.chat_requests()) == 2


def test_a_cut_mid_stream_keeps_the_partial_text_and_raises_stream_interrupted(
    server: FakeOpenAI,
) -> None:
    server.enqueue(Reply(events=answer_events(["The ", "quick ", "brown ", "fox"]), cut_after=3))
    received: list[str] = []

    with pytest.raises(StreamInterrupted, match="broke in the middle of the answer"):
        for delta in make_provider(server).stream(QUESTION):
            received.append(delta.text)

    assert "".join(received) == "The quick "
    assert len(server.chat_requests()) == 1  # never retried once text was shown


def test_a_stream_that_ends_without_done_or_finish_is_interrupted(server: FakeOpenAI) -> None:
    events = [role_event(), content_event("half an ")]
    server.enqueue(Reply(events=events))
    received: list[str] = []
    with pytest.raises(StreamInterrupted, match="before the answer was complete"):
        for delta in make_provider(server).stream(QUESTION):
            received.append(delta.text)
    assert received == ["half an "]


def test_silence_mid_stream_past_the_read_timeout_is_interrupted(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=answer_events(["one ", "two"]), pause_before={2: 1.5}))
    received: list[str] = []
    with pytest.raises(StreamInterrupted, match=r"went silent for 0\.3 s"):
        for delta in make_provider(server, read_timeout=0.3).stream(QUESTION):
            received.append(delta.text)
    assert received == ["one "]


def test_a_malformed_json_event_is_skipped_and_the_rest_arrives(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    events = answer_events(["Good ", "answer"])
    events.insert(2, '{"choices": [{"delta": {"content": "broken')
    server.enqueue(Reply(events=events))

    with caplog.at_level(logging.WARNING, logger="core.providers.chat"):
        text, final = collect(make_provider(server))

    assert text == "Good answer"
    assert final.finish_reason == "stop"
    assert any(r.getMessage() == "skipping a malformed stream event" for r in caplog.records)


def test_an_error_event_before_any_text_is_a_provider_error(server: FakeOpenAI) -> None:
    error = json.dumps({"error": {"message": "content filter triggered"}})
    server.enqueue(Reply(events=[role_event(), error]))
    with pytest.raises(ProviderError, match="content filter triggered"):
        collect(make_provider(server))


def test_cancel_stops_reading_and_closes_the_connection(server: FakeOpenAI) -> None:
    pieces = [f"w{i} " for i in range(200)]
    server.enqueue(Reply(events=answer_events(pieces), delay=0.01))
    cancel = threading.Event()
    received: list[ChatDelta] = []

    for delta in make_provider(server).stream(QUESTION, cancel):
        received.append(delta)
        if len(received) == 3:
            cancel.set()

    assert [d.text for d in received[:3]] == ["w0 ", "w1 ", "w2 "]
    assert received[-1].finish_reason == "cancelled"
    assert received[-1].usage_estimated is True
    assert len(received) == 4
    (request,) = server.chat_requests()
    assert request.answered.wait(timeout=10)
    assert request.client_went_away is True
    assert request.events_sent < len(pieces)


def test_a_server_ignoring_stream_true_still_answers(server: FakeOpenAI) -> None:
    body = {
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "All at once"}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
    }
    server.enqueue(
        Reply(events=None, body=json.dumps(body).encode(), content_type="application/json")
    )
    text, final = collect(make_provider(server))
    assert text == "All at once"
    assert (final.tokens_in, final.tokens_out, final.usage_estimated) == (9, 3, False)


def test_a_web_page_instead_of_an_api_says_the_address_is_wrong(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=None, body=b"<html>hello</html>", content_type="text/html"))
    with pytest.raises(ProviderError, match="CHAT_API_BASE_URL probably points"):
        collect(make_provider(server))


def test_servers_that_reject_stream_options_are_asked_again_without(server: FakeOpenAI) -> None:
    server.enqueue(
        error_reply(400, "Unrecognized request argument supplied: stream_options"),
        Reply(events=answer_events(["plain"], usage=None)),
    )
    text, final = collect(make_provider(server))
    assert text == "plain"
    assert final.usage_estimated is True
    first, second = server.chat_requests()
    assert "stream_options" in first.json
    assert "stream_options" not in second.json


def test_no_text_before_the_first_token_budget_runs_out(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=[role_event()] * 40 + answer_events(["late"]), delay=0.05))
    with pytest.raises(ProviderError, match=r"did not start answering within 0\.5 s"):
        collect(make_provider(server, first_token_timeout=0.5))


def test_unreachable_server_says_so(server: FakeOpenAI) -> None:
    base_url = server.base_url
    server.stop()
    provider = make_provider(server, base_url=base_url)
    with pytest.raises(ProviderError, match="Could not reach"):
        collect(provider)


def test_models_come_from_settings_or_from_the_api_once(server: FakeOpenAI) -> None:
    assert make_provider(server).models() == ["gpt-4o-mini"]

    listing = make_provider(server, models=())
    assert listing.models() == ["alpha-model", "beta-model"]
    assert listing.models() == ["alpha-model", "beta-model"]
    assert [r.path for r in server.requests] == ["/v1/models"]


def test_without_a_model_the_first_listed_one_is_used(server: FakeOpenAI) -> None:
    server.enqueue(Reply(events=answer_events(["hi"])))
    provider = make_provider(server, models=())
    collect(provider, ChatRequest(messages=QUESTION.messages, model=""))
    assert server.chat_requests()[0].json["model"] == "alpha-model"


@pytest.mark.parametrize(
    ("base_url", "label"),
    [
        ("https://models.github.ai/inference", "GitHub Models"),
        ("https://api.openai.com/v1", "OpenAI"),
        ("https://text.pollinations.ai/openai", "Pollinations"),
        ("http://localhost:11434/v1", "Ollama at localhost"),
        ("http://gpu-box:8000/v1", "OpenAI-compatible API at gpu-box:8000"),
    ],
)
def test_the_label_names_the_service(base_url: str, label: str) -> None:
    assert label_for_base_url(base_url) == label
