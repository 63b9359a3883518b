"""Chat over any OpenAI-compatible API, streamed as server-sent events.

GitHub Models, OpenAI, Ollama (`/v1`), vLLM, LocalAI and Pollinations all answer
`POST {base}/chat/completions` with `stream: true` as SSE `data:` lines ending in `[DONE]`.

Events are decoded by `httpx-sse` rather than by splitting lines here: it follows the SSE spec
(multi-line `data:` fields, CR/LF/CRLF endings, comments and keep-alives) and is maintained next
to httpx itself, so the fiddly part is not ours to get wrong.

Retries (429, 5xx, connection errors) only happen before the first token: the attempt reads up
to the first piece of text, so a stream that breaks early is simply tried again, while one that
breaks later raises `StreamInterrupted` after the partial text has been yielded.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatRequest, StreamInterrupted
from core.providers.chat.openai_wire import (
    DONE_MARKER,
    StreamChunk,
    chat_completion_body,
    error_message_from_body,
    estimate_prompt_tokens,
    estimate_text_tokens,
    parse_full_completion,
    parse_stream_chunk,
)
from core.providers.http import RetryPolicy, send_with_retries

log = logging.getLogger(__name__)

# Listing models is a convenience for the model picker: it must never hold the page up long.
_MODELS_TIMEOUT_SECONDS = 3.0
_MODELS_CACHE_SECONDS = 300.0

_KNOWN_SERVICES = {
    "models.github.ai": "GitHub Models",
    "models.inference.ai.azure.com": "GitHub Models",
    "api.openai.com": "OpenAI",
    "text.pollinations.ai": "Pollinations",
}
_OLLAMA_PORT = 11434


def label_for_base_url(base_url: str) -> str:
    """A name people recognise for the service behind `base_url`."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    if host in _KNOWN_SERVICES:
        return _KNOWN_SERVICES[host]
    if parts.port == _OLLAMA_PORT:
        return f"Ollama at {host}"
    address = f"{host}:{parts.port}" if parts.port else host
    return f"OpenAI-compatible API at {address}"


@dataclass(frozen=True)
class ChatApiConfig:
    base_url: str
    api_key: str = field(default="", repr=False)
    models: tuple[str, ...] = ()
    label: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    first_token_timeout: float = 90.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class _Answer:
    """One open streamed response: the chunks read ahead (up to the first text) and the rest."""

    def __init__(self, response: httpx.Response, service: str) -> None:
        self.response = response
        self.service = service
        self.done = False  # `[DONE]` (or a whole JSON answer) was read
        self.chunks = self._read_chunks()
        self.read_ahead: list[StreamChunk] = []

    def remaining_chunks(self) -> Iterator[StreamChunk]:
        return itertools.chain(self.read_ahead, self.chunks)

    def _read_chunks(self) -> Iterator[StreamChunk]:
        content_type = self.response.headers.get("content-type", "")
        if "application/json" in content_type:
            # Some servers ignore `stream: true` and send the whole answer at once.
            self.response.read()
            try:
                yield parse_full_completion(self.response.json())
            except ValueError as error:
                raise ProviderError(
                    f"{self.service} sent an answer we could not read ({error})."
                ) from None
            self.done = True
            return
        if "text/event-stream" not in content_type:
            raise ProviderError(
                f"{self.service} answered with {content_type or 'no content type'} instead of "
                "a stream of events: CHAT_API_BASE_URL probably points at the wrong address."
            )
        for event in EventSource(self.response).iter_sse():
            if event.data == DONE_MARKER:
                self.done = True
                return
            if not event.data:
                continue
            try:
                yield parse_stream_chunk(event.data)
            except ValueError as error:
                # One garbled event should not cost the whole answer; it is logged to be seen.
                log.warning(
                    "skipping a malformed stream event",
                    extra={"service": self.service, "data": event.data[:200], "error": str(error)},
                )


class OpenAICompatibleChatProvider:
    name = "openai"

    def __init__(self, config: ChatApiConfig) -> None:
        self.config = config
        self.label = config.label or label_for_base_url(config.base_url)
        self._base_url = config.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.connect_timeout,
            ),
        )
        self._models_lock = threading.Lock()
        self._models_cache: tuple[float, list[str]] | None = None

    def close(self) -> None:
        self._client.close()

    def loading_note(self, model: str) -> str | None:
        """None: the server loads its models itself, out of our sight."""
        return None

    def model_label(self, model: str) -> str:
        return model

    def model_caption(self, model: str) -> str | None:
        """None: how fast a remote model answers depends on a server we do not measure."""
        return None

    def models(self) -> list[str]:
        if self.config.models:
            return list(self.config.models)
        # One lock for the lookup too: concurrent sessions wait for one request, not send many.
        with self._models_lock:
            now = time.monotonic()
            if self._models_cache is None or now - self._models_cache[0] > _MODELS_CACHE_SECONDS:
                self._models_cache = (now, self._list_models())
            return list(self._models_cache[1])

    def _list_models(self) -> list[str]:
        try:
            response = self._client.get(f"{self._base_url}/models", timeout=_MODELS_TIMEOUT_SECONDS)
            response.raise_for_status()
            entries = response.json().get("data", [])
            return sorted(e["id"] for e in entries if isinstance(e, dict) and "id" in e)
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            log.warning(
                "could not list chat models", extra={"service": self.label, "error": repr(error)}
            )
            return []

    def stream(
        self, request: ChatRequest, cancel: threading.Event | None = None
    ) -> Iterator[ChatDelta]:
        cancel = cancel or threading.Event()
        model = request.model or next(iter(self.models()), "")
        if not model:
            raise ProviderError(
                f"No model is chosen for {self.label}: set CHAT_API_MODELS "
                "(for example openai/gpt-4o-mini on GitHub Models)."
            )
        answer = self._open_answer(request, model, cancel)
        try:
            yield from self._relay(answer, request, model, cancel)
        finally:
            answer.response.close()

    def _open_answer(self, request: ChatRequest, model: str, cancel: threading.Event) -> _Answer:
        deadline = time.monotonic() + self.config.first_token_timeout
        response, opened = self._send(request, model, deadline, cancel, include_usage=True)
        if response.status_code in (400, 422) and b"stream_options" in response.content:
            # Older servers reject the usage option; answer without counts rather than not at all.
            log.info("retrying without stream_options", extra={"service": self.label})
            response, opened = self._send(request, model, deadline, cancel, include_usage=False)
        if response.status_code != 200 or opened is None:
            raise self._refusal(response, model)
        return opened

    def _send(
        self,
        request: ChatRequest,
        model: str,
        deadline: float,
        cancel: threading.Event,
        *,
        include_usage: bool,
    ) -> tuple[httpx.Response, _Answer | None]:
        """Send with retries; a 200 comes back with its answer read up to the first text."""
        body = chat_completion_body(request, model, include_usage=include_usage)
        opened: list[_Answer] = []

        def attempt() -> httpx.Response:
            if time.monotonic() > deadline:
                raise self._too_slow()
            response = self._client.send(
                self._client.build_request(
                    "POST",
                    f"{self._base_url}/chat/completions",
                    json=body,
                    headers={"Accept": "text/event-stream"},
                ),
                stream=True,
            )
            if response.status_code != httpx.codes.OK:
                response.read()
                response.close()
                self._refuse_long_retry_after(response, deadline)
                return response
            answer = _Answer(response, self.label)
            try:
                self._read_until_first_text(answer, deadline, cancel)
            except BaseException:
                response.close()
                raise
            opened.append(answer)
            return response

        response = send_with_retries(attempt, self.config.retry, service=self.label)
        return response, (opened[-1] if opened else None)

    def _read_until_first_text(
        self, answer: _Answer, deadline: float, cancel: threading.Event
    ) -> None:
        """Read ahead up to the first text, so that anything failing before it can be retried."""
        try:
            for chunk in answer.chunks:
                if chunk.error:
                    raise ProviderError(f"{self.label} reported an error: {chunk.error}")
                answer.read_ahead.append(chunk)
                if chunk.text or chunk.finish_reason or cancel.is_set():
                    return
                if time.monotonic() > deadline:
                    raise self._too_slow()
        except httpx.TimeoutException:
            raise  # the retry helper knows timeouts and says so plainly
        except httpx.TransportError:
            raise ProviderError(
                f"{self.label} closed the connection before answering.", retryable=True
            ) from None
        if not answer.done:
            raise ProviderError(
                f"{self.label} closed the connection before answering.", retryable=True
            )

    def _relay(
        self,
        answer: _Answer,
        request: ChatRequest,
        model: str,
        cancel: threading.Event,
    ) -> Iterator[ChatDelta]:
        parts: list[str] = []
        finish_reason: str | None = None
        usage: StreamChunk | None = None
        answered_by = model
        try:
            for chunk in answer.remaining_chunks():
                if cancel.is_set():
                    finish_reason = "cancelled"
                    break
                if chunk.error:
                    raise StreamInterrupted(
                        f"{self.label} stopped the answer with an error: {chunk.error}. "
                        "The part received is kept."
                    )
                if chunk.text:
                    parts.append(chunk.text)
                    yield ChatDelta(text=chunk.text)
                finish_reason = chunk.finish_reason or finish_reason
                answered_by = chunk.model or answered_by
                usage = chunk if chunk.has_usage else usage
        except httpx.TimeoutException:
            if finish_reason is None:
                raise StreamInterrupted(
                    f"{self.label} went silent for {self.config.read_timeout:g} s in the middle "
                    "of the answer. The part received is kept."
                ) from None
        except httpx.TransportError:
            # Losing the connection after the last word (only the usage was pending) is no loss.
            if finish_reason is None:
                raise StreamInterrupted(
                    f"The connection to {self.label} broke in the middle of the answer. "
                    "The part received is kept."
                ) from None
        if finish_reason is None:
            if not answer.done:
                raise StreamInterrupted(
                    f"{self.label} ended the stream before the answer was complete. "
                    "The part received is kept."
                )
            finish_reason = "stop"
        text = "".join(parts)
        final = ChatDelta(
            tokens_in=usage.tokens_in if usage else estimate_prompt_tokens(request.messages),
            tokens_out=usage.tokens_out if usage else estimate_text_tokens(text),
            finish_reason=finish_reason,
            model=answered_by,
            usage_estimated=usage is None,
        )
        log.info(
            "chat answer streamed",
            extra={
                "service": self.label,
                "model": answered_by,
                "finish_reason": finish_reason,
                "tokens_in": final.tokens_in,
                "tokens_out": final.tokens_out,
                "usage_estimated": final.usage_estimated,
            },
        )
        yield final

    def _refuse_long_retry_after(self, response: httpx.Response, deadline: float) -> None:
        """Fail at once when the service asks us to wait longer than we would."""
        header = response.headers.get("retry-after", "")
        if response.status_code != httpx.codes.TOO_MANY_REQUESTS or not header.isdigit():
            return
        wait = int(header)
        if wait > self.config.retry.max_delay or time.monotonic() + wait > deadline:
            raise ProviderError(
                f"{self.label} is rate limiting us and asks to wait {wait} s. Try again after that."
            )

    def _too_slow(self) -> ProviderError:
        return ProviderError(
            f"{self.label} did not start answering within "
            f"{self.config.first_token_timeout:g} s. Try again later."
        )

    def _refusal(self, response: httpx.Response, model: str) -> ProviderError:
        status = response.status_code
        said = error_message_from_body(response.content)
        if status == httpx.codes.UNAUTHORIZED:
            message = f"{self.label} did not accept the API key (HTTP 401): check CHAT_API_KEY."
        elif status == httpx.codes.FORBIDDEN:
            message = (
                f"{self.label} refused access (HTTP 403): the API key may not be allowed to use "
                f"model '{model}'."
            )
        elif status == httpx.codes.NOT_FOUND:
            message = (
                f"{self.label} does not know model '{model}', or {self._base_url} is not an "
                "OpenAI-compatible address (HTTP 404): check the model name and CHAT_API_BASE_URL."
            )
        elif status in (httpx.codes.BAD_REQUEST, httpx.codes.UNPROCESSABLE_ENTITY):
            message = f"{self.label} rejected the request (HTTP {status})."
        else:
            message = f"{self.label} answered with HTTP {status}."
        return ProviderError(f"{message} The service said: {said}" if said else message)
