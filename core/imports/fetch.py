"""Downloading the images of an import: many at once, politely, and never more than allowed.

At most `max_concurrent` requests are in flight, and at most `per_domain` to one host, so an
import of a thousand images from one site does not hammer it. Timeouts, refused connections,
429 and 5xx are tried again with exponential backoff and full jitter (or after the server's
`Retry-After`); other 4xx are final. Redirects are followed by hand so that the address guard
sees every hop. A body is read as a stream and dropped as soon as it passes `max_bytes`.

`Downloader.fetch` never raises for a bad URL or a bad server: it answers a `Fetched` with the
reason. Only cancellation goes through.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from core import metrics
from core.imports.errors import DownloadRefused
from core.imports.guard import AddressGuard, Target
from core.imports.reasons import FailureReason
from core.imports.sockets import asyncio_transport

log = logging.getLogger(__name__)

USER_AGENT = "Atelier-import/1"
ACCEPT = "image/jpeg,image/png,image/webp,image/gif,*/*;q=0.8"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The statuses whose Retry-After is a promise about when to come back (RFC 9110 §10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class FetchLimits:
    max_concurrent: int = 20
    per_domain: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # Tries in all for one address, the first included.
    max_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    retry_after_max_seconds: float = 30.0
    max_redirects: int = 5
    max_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    url: str
    # Where the redirects led (or where the download was refused).
    final_url: str
    data: bytes | None
    # The media type the server announced, without parameters ("image/jpeg").
    declared_type: str | None
    status_code: int | None
    # Tries of the final address.
    attempts: int
    elapsed_ms: int
    reason: FailureReason | None
    # The plain words of `reason` and what was seen ("... (HTTP 404)").
    detail: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None


def domain_of(url: httpx.URL) -> str:
    """The key of the per-domain limit: the host, with its port when not the default."""
    return url.netloc.decode("ascii").lower()


def retry_after_seconds(header: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), or None."""
    if header is None:
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class _TryAgain(Exception):
    """A failure that another try may not meet; the last one becomes the refusal."""

    def __init__(
        self, reason: FailureReason, detail: str, retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)


@dataclass(frozen=True)
class _Redirect:
    location: httpx.URL


@dataclass(frozen=True)
class _Body:
    data: bytes
    declared_type: str | None


@dataclass
class _Host:
    """One domain's share of an import: its limit, its pool, and the requests that want it."""

    slots: asyncio.Semaphore
    client: httpx.AsyncClient
    # Waiting for a slot or in flight.
    users: int = 0


@dataclass
class _Progress:
    """What one `fetch` has reached so far, for the answer whichever way it ends."""

    final_url: str
    attempts: int = 0
    status_code: int | None = None


class Downloader:
    """`async with Downloader(limits, guard) as downloader: await downloader.fetch(url)`."""

    def __init__(
        self,
        limits: FetchLimits,
        guard: AddressGuard,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random_unit: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._limits = limits
        self._guard = guard
        self._sleep = sleep
        self._random_unit = random_unit
        self._transport = transport
        self._open = False
        self._all = asyncio.Semaphore(limits.max_concurrent)
        self._hosts: dict[str, _Host] = {}
        self._in_flight: Counter[str] = Counter()
        # One certificate store for every host's pool: loading it costs milliseconds.
        self._tls = httpx.create_ssl_context(trust_env=False)

    async def __aenter__(self) -> Downloader:
        self._open = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._open = False
        hosts, self._hosts = self._hosts, {}
        for host in hosts.values():
            await host.client.aclose()

    def _client_for_one_host(self) -> httpx.AsyncClient:
        # A pool per host, sized to its share: httpcore looks over every connection of its
        # pool (a getpeername and a poll each) on each request and each response, which in
        # one pool of 40 connections over 10 hosts was half of the downloads' CPU.
        limits = self._limits
        return httpx.AsyncClient(
            transport=self._transport
            or asyncio_transport(ssl_context=self._tls, max_connections=limits.per_domain),
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
            timeout=httpx.Timeout(
                connect=limits.connect_timeout,
                read=limits.read_timeout,
                write=limits.read_timeout,
                pool=limits.connect_timeout,
            ),
            follow_redirects=False,
            # A proxy from the environment would connect on our behalf, past the guard.
            trust_env=False,
        )

    def in_flight(self) -> dict[str, int]:
        """Requests being sent or read right now, per domain (backoff waits not counted)."""
        return {domain: count for domain, count in self._in_flight.items() if count}

    async def fetch(self, url: str) -> Fetched:
        started = time.monotonic()
        progress = _Progress(final_url=url)
        try:
            body = await self._follow(url, progress)
        except DownloadRefused as refused:
            log.info(
                "import download failed",
                extra={
                    "url": url,
                    "final_url": progress.final_url,
                    "reason": str(refused.reason),
                    "detail": refused.detail,
                    "attempts": progress.attempts,
                },
            )
            return Fetched(
                url=url,
                final_url=progress.final_url,
                data=None,
                declared_type=None,
                status_code=progress.status_code,
                attempts=progress.attempts,
                elapsed_ms=_ms_since(started),
                reason=refused.reason,
                detail=str(refused),
            )
        return Fetched(
            url=url,
            final_url=progress.final_url,
            data=body.data,
            declared_type=body.declared_type,
            status_code=progress.status_code,
            attempts=progress.attempts,
            elapsed_ms=_ms_since(started),
            reason=None,
            detail=None,
        )

    async def _follow(self, url: str, progress: _Progress) -> _Body:
        location: str | httpx.URL = url
        for _hop in range(self._limits.max_redirects + 1):
            progress.final_url = str(location)
            target = await self._guard.resolve(location)
            answer = await self._with_retries(target, progress)
            if isinstance(answer, _Body):
                return answer
            location = answer.location
        raise DownloadRefused(
            FailureReason.TOO_MANY_REDIRECTS, f"more than {self._limits.max_redirects}"
        )

    async def _with_retries(self, target: Target, progress: _Progress) -> _Body | _Redirect:
        progress.attempts = 0
        while True:
            progress.attempts += 1
            try:
                return await self._try(target, progress)
            except _TryAgain as failure:
                if progress.attempts >= self._limits.max_attempts:
                    raise DownloadRefused(failure.reason, failure.detail) from None
                delay = self._delay(progress.attempts, failure.retry_after)
                log.debug(
                    "retrying import download",
                    extra={
                        "url": str(target.url),
                        "reason": str(failure.reason),
                        "detail": failure.detail,
                        "attempt": progress.attempts,
                        "wait_seconds": delay,
                    },
                )
                await self._sleep(delay)

    def _delay(self, attempts_made: int, retry_after: float | None) -> float:
        limits = self._limits
        if retry_after is not None:
            return min(retry_after, limits.retry_after_max_seconds)
        ceiling = min(
            limits.backoff_max_seconds, limits.backoff_base_seconds * 2.0 ** (attempts_made - 1)
        )
        # Full jitter: retries of many images failing together spread out instead of
        # coming back in waves.
        return ceiling * self._random_unit()

    @asynccontextmanager
    async def _slot(self, domain: str) -> AsyncIterator[httpx.AsyncClient]:
        host = self._hosts.get(domain)
        if host is None:
            host = self._hosts[domain] = _Host(
                asyncio.Semaphore(self._limits.per_domain), self._client_for_one_host()
            )
        host.users += 1
        try:
            # The domain's slot first: a request queued behind its busy domain must not sit
            # on a global slot that a request to another domain could use.
            async with host.slots, self._all:
                self._in_flight[domain] += 1
                metrics.import_download_started(domain)
                try:
                    yield host.client
                finally:
                    self._in_flight[domain] -= 1
                    metrics.import_download_ended(domain)
        finally:
            host.users -= 1
            # A host nobody waits for gives its connections back: an import of a thousand
            # sites must not keep a thousand sockets open to the end.
            if host.users == 0 and self._hosts.get(domain) is host:
                del self._hosts[domain]
                await host.client.aclose()

    async def _try(self, target: Target, progress: _Progress) -> _Body | _Redirect:
        if not self._open:
            raise RuntimeError("use the Downloader inside `async with`")
        progress.status_code = None
        async with self._slot(domain_of(target.url)) as client:
            request = client.build_request(
                "GET", target.connect_url, headers=target.headers, extensions=target.extensions
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException:
                raise _TryAgain(FailureReason.TIMEOUT, "no answer in time") from None
            except httpx.TransportError as error:
                raise _TryAgain(FailureReason.CONNECTION_FAILED, _describe(error)) from None
            try:
                progress.status_code = response.status_code
                return await self._answer(target, response)
            finally:
                await response.aclose()

    async def _answer(self, target: Target, response: httpx.Response) -> _Body | _Redirect:
        status = response.status_code
        if status in REDIRECT_STATUSES and "location" in response.headers:
            return _Redirect(_join(target.url, response.headers["location"]))
        if status == 429 or status >= 500:
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = retry_after_seconds(
                    response.headers.get("retry-after"), datetime.now(UTC)
                )
            reason = FailureReason.RATE_LIMITED if status == 429 else FailureReason.SERVER_ERROR
            raise _TryAgain(reason, f"HTTP {status}", retry_after)
        if not response.is_success:
            raise DownloadRefused(FailureReason.HTTP_ERROR, f"HTTP {status}")
        announced = _content_length(response)
        if announced is not None and announced > self._limits.max_bytes:
            raise DownloadRefused(
                FailureReason.TOO_LARGE,
                f"{announced} bytes announced, {self._limits.max_bytes} allowed",
            )
        data = await self._read_body(response)
        # HTTP/1.1 over h11 already fails a short body; other transports may not. Content-Length
        # counts the bytes before any Content-Encoding is undone, so only plain bodies compare.
        plain = response.headers.get("content-encoding", "identity") == "identity"
        if plain and announced is not None and len(data) < announced:
            raise _TryAgain(FailureReason.TRUNCATED, f"{len(data)} of {announced} bytes")
        return _Body(data, _media_type(response.headers.get("content-type")))

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self._limits.max_bytes
        data = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise DownloadRefused(FailureReason.TOO_LARGE, f"over {limit} bytes")
        except httpx.TimeoutException:
            raise _TryAgain(FailureReason.TIMEOUT, "the body stopped arriving") from None
        except (httpx.RemoteProtocolError, httpx.NetworkError, httpx.DecodingError) as error:
            raise _TryAgain(FailureReason.TRUNCATED, _describe(error)) from None
        return bytes(data)


def _join(base: httpx.URL, location: str) -> httpx.URL:
    try:
        return base.join(location)
    except httpx.InvalidURL as error:
        raise DownloadRefused(FailureReason.BAD_URL, f"redirect to {location!r}: {error}") from None


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _media_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _describe(error: httpx.HTTPError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
