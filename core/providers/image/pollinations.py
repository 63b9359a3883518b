"""Pollinations (image.pollinations.ai): free online text-to-image over one GET request.

Wire format: `GET {base}/prompt/{url-encoded prompt}?width=&height=&seed=&model=&nologo=true`
answers with the image bytes (JPEG). We also send `private=true` so a user's prompt never shows
in Pollinations' public feed, and `image={url}` with a reference image for models that take one
(kontext). Pollinations fetches that URL itself, so a reference needs an address it can reach.

Generation takes 30–60 s and nothing arrives before the image is done, so the read timeout is
the time allowed for the whole drawing; it is not retried (a second wait is rarely shorter).
429 and 5xx are retried with backoff by the shared helper. The answer must decode as an image
(Pillow, with size limits) or the generation fails with the reason; the result is PNG bytes of
the size actually received.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from core.config import Settings
from core.errors import InvalidInput, ProviderError
from core.providers.http import RetryPolicy, send_with_retries
from core.providers.image.base import ImageRequest, ImageResult
from core.providers.image.checks import check_request
from core.providers.image.decoding import MAX_BYTES, UnreadableImage, decode_image, encode_png
from core.providers.image.sizes import SizeLimits
from core.providers.image.styles import styled_prompt

log = logging.getLogger(__name__)

SERVICE = "Pollinations"
# How much of an unexpected answer is quoted back to the user.
QUOTE_CHARS = 200


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class PollinationsOptions:
    base_url: str = "https://image.pollinations.ai"
    api_token: str = ""
    models: tuple[str, ...] = ("flux", "turbo", "kontext")
    reference_models: frozenset[str] = frozenset({"kontext"})
    fetch_models: bool = True
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # The model list is a nicety: ask briefly, remember the answer, and fall back quietly.
    models_timeout: float = 3.0
    models_cache_seconds: float = 600.0
    models_failure_cache_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PollinationsOptions:
        return cls(
            base_url=settings.image_pollinations_base_url,
            api_token=settings.image_pollinations_api_token.get_secret_value(),
            models=_names(settings.image_pollinations_models) or cls.models,
            reference_models=frozenset(_names(settings.image_pollinations_reference_models)),
            fetch_models=settings.image_pollinations_fetch_models,
            connect_timeout=settings.image_pollinations_connect_timeout_seconds,
            read_timeout=settings.image_pollinations_read_timeout_seconds,
            retry=RetryPolicy(attempts=settings.image_pollinations_retry_attempts),
        )


@dataclass
class _CachedModels:
    names: list[str]
    expires: float


class PollinationsProvider:
    name = "pollinations"
    label = "Pollinations (online AI)"
    is_ai = True
    job_queue = "cpu"
    size_limits = SizeLimits(minimum=64, maximum=1536, multiple=8)

    def __init__(
        self, options: PollinationsOptions, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._options = options
        self._clock = clock
        headers = {"User-Agent": "Atelier image studio"}
        if options.api_token:
            headers["Authorization"] = f"Bearer {options.api_token}"
        # One client per provider: it is thread-safe and keeps connections alive between calls.
        self._client = httpx.Client(
            base_url=options.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(
                connect=options.connect_timeout,
                read=options.read_timeout,
                write=options.connect_timeout,
                pool=options.connect_timeout,
            ),
            follow_redirects=True,
        )
        self._models_lock = threading.Lock()
        self._models_cache: _CachedModels | None = None

    def close(self) -> None:
        self._client.close()

    # --- models -------------------------------------------------------------------------

    def models(self) -> list[str]:
        """Pollinations' current list when it answers quickly, else the configured one."""
        if not self._options.fetch_models:
            return list(self._options.models)
        with self._models_lock:
            now = self._clock()
            if self._models_cache is None or now >= self._models_cache.expires:
                fetched = self._fetch_models()
                if fetched:
                    self._models_cache = _CachedModels(
                        fetched, now + self._options.models_cache_seconds
                    )
                else:
                    self._models_cache = _CachedModels(
                        list(self._options.models), now + self._options.models_failure_cache_seconds
                    )
            return list(self._models_cache.names)

    def _fetch_models(self) -> list[str]:
        try:
            response = self._client.get("/models", timeout=self._options.models_timeout)
            response.raise_for_status()
            return _model_names(response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning(
                "pollinations model list unavailable, using the configured one",
                extra={"error": repr(error)},
            )
            return []

    # --- generation ---------------------------------------------------------------------

    def generate(self, request: ImageRequest) -> ImageResult:
        check_request(request, self.size_limits)
        if not request.model:
            raise InvalidInput("Choose a Pollinations model.")
        prompt = styled_prompt(request.prompt, request.style)
        params: dict[str, str | int] = {
            "width": request.width,
            "height": request.height,
            "seed": request.seed,
            "model": request.model,
            "nologo": "true",
            "private": "true",
        }
        if request.reference_png is not None or request.reference_url is not None:
            params["image"] = self._reference_url(request)
        path = "/prompt/" + quote(prompt, safe="")

        attempts = 0

        def send() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            return self._fetch(path, params)

        started = time.perf_counter()
        response = send_with_retries(send, self._options.retry, service=SERVICE)
        if response.status_code != 200:
            raise _refusal(response)
        try:
            image = decode_image(response.content)
        except UnreadableImage as error:
            raise _unusable_answer(response, error) from None
        png = encode_png(image)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        log.info(
            "pollinations image received",
            extra={
                "model": request.model,
                "size": f"{image.width}x{image.height}",
                "attempts": attempts,
                "ms": elapsed_ms,
            },
        )
        return ImageResult(
            png=png,
            width=image.width,
            height=image.height,
            model=request.model,
            details={
                "prompt_sent": prompt,
                "requested_size": f"{request.width}x{request.height}",
                "upstream_content_type": response.headers.get("content-type", ""),
                "upstream_bytes": len(response.content),
                "attempts": attempts,
                "latency_ms": elapsed_ms,
                **({"reference_url": params["image"]} if "image" in params else {}),
            },
        )

    def _reference_url(self, request: ImageRequest) -> str:
        if request.model not in self._options.reference_models:
            takers = ", ".join(sorted(self._options.reference_models)) or "none configured"
            raise InvalidInput(
                f"The Pollinations model {request.model} does not use a reference image. "
                f"Choose a model that does ({takers}) or remove the reference."
            )
        if not request.reference_url:
            raise InvalidInput(
                "Pollinations fetches the reference image from a web address, and this one has "
                "none (the image store is not public). Remove the reference or use another engine."
            )
        return request.reference_url

    def _fetch(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        """One GET, its body read with a size cap; a read timeout ends the generation."""
        try:
            with self._client.stream("GET", path, params=params) as streamed:
                body = _read_capped(streamed)
        except httpx.ReadTimeout:
            raise ProviderError(
                f"{SERVICE} did not send the image within {self._options.read_timeout:g} s. "
                "It may be busy: try again, or choose a faster model such as turbo.",
                # Not retried here: the retry loop would make the user wait that long again.
                retryable=False,
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            # The answer started and broke off: worth another attempt, and not "unreachable".
            raise ProviderError(
                f"{SERVICE} broke off while sending the image. Try again.", retryable=True
            ) from None
        return httpx.Response(
            streamed.status_code, headers=streamed.headers, content=body, request=streamed.request
        )


def _read_capped(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > MAX_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ProviderError:
    return ProviderError(f"{SERVICE} sent more than {MAX_BYTES // (1024 * 1024)} MB; not an image.")


def _model_names(payload: Any) -> list[str]:
    """Names from `["flux", ...]` or `[{"name": "flux", ...}, ...]`, in order, once each."""
    if not isinstance(payload, list):
        raise ValueError("the model list is not a JSON list")
    names: list[str] = []
    for entry in payload:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[:QUOTE_CHARS] + "…"


def _error_detail(response: httpx.Response) -> str:
    """The service's own words: the `error`/`message` of a JSON body, else the start of the text."""
    text = response.content.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except ValueError:
        return _quote(text)
    if isinstance(payload, dict):
        for key in ("message", "error", "detail"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return _quote(value)
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return _quote(value["message"])
    return _quote(text)


def _refusal(response: httpx.Response) -> ProviderError:
    status = response.status_code
    detail = _error_detail(response) or "no reason given"
    if status in (401, 403):
        return ProviderError(
            f"{SERVICE} refused access (HTTP {status}): {detail}. Check "
            "IMAGE_POLLINATIONS_API_TOKEN, or choose a model that needs no token."
        )
    if status == 402:
        return ProviderError(f"{SERVICE} wants a paid tier for this (HTTP 402): {detail}.")
    return ProviderError(f"{SERVICE} refused the request (HTTP {status}): {detail}.")


def _looks_like_text(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if content_type.startswith(("text/", "application/json", "application/problem+json")):
        return True
    try:
        response.content[:512].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unusable_answer(response: httpx.Response, error: UnreadableImage) -> ProviderError:
    if _looks_like_text(response):
        text = response.content.decode("utf-8", errors="replace")
        return ProviderError(f"{SERVICE} answered with text instead of an image: {_quote(text)}")
    # A cut-off transfer can go right the next time.
    return ProviderError(f"{SERVICE} sent an image we cannot use: {error}.", retryable=True)
