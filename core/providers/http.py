"""Calling an outside HTTP service: timeouts, retries with backoff on 429/5xx, plain errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.errors import ProviderError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0


class RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"HTTP {response.status_code}")


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, ProviderError):
        return error.retryable
    return isinstance(error, RetryableResponse | httpx.TimeoutException | httpx.TransportError)


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=policy.initial_delay, max=policy.max_delay)

    def wait(state: RetryCallState) -> float:
        # A server that says when to come back (Retry-After, in seconds) is believed, within limits.
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableResponse):
            header = error.response.headers.get("retry-after", "")
            if header.isdigit():
                return min(float(header), policy.max_delay)
        return float(backoff(state))

    return wait


def retrying(policy: RetryPolicy, *, service: str) -> Retrying:
    """A tenacity loop: `for attempt in retrying(...): with attempt: ...`."""

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "retrying provider call",
            extra={
                "service": service,
                "attempt": state.attempt_number,
                "error": repr(error),
                "wait_seconds": state.next_action.sleep if state.next_action else None,
            },
        )

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=retry_if_exception(is_retryable),
        before_sleep=log_retry,
        reraise=True,
    )


def send_with_retries(
    send: Callable[[], httpx.Response], policy: RetryPolicy, *, service: str
) -> httpx.Response:
    """Call `send` until it answers with a non-retryable status or the attempts run out.

    Returns the response for any status that is not retryable (the caller decides what a 4xx
    means); raises `ProviderError` with a plain message when every attempt failed.
    """
    try:
        for attempt in retrying(policy, service=service):
            with attempt:
                response = send()
                if response.status_code in RETRYABLE_STATUS:
                    raise RetryableResponse(response)
                return response
    except RetryableResponse as error:
        status = error.response.status_code
        if status == 429:
            raise ProviderError(
                f"{service} is rate limiting us. Wait a minute and try again."
            ) from None
        raise ProviderError(
            f"{service} is having trouble (HTTP {status}). Try again later."
        ) from None
    except httpx.TimeoutException:
        raise ProviderError(f"{service} did not answer in time. Try again later.") from None
    except httpx.TransportError:
        raise ProviderError(
            f"Could not reach {service}. Check the network or its address."
        ) from None
    raise AssertionError("unreachable: tenacity either returns or raises")
