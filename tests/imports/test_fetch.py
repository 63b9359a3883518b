"""The downloader against real sockets: limits, retries, redirects, sizes and the guard.

The backoff waits go through an injected `sleep` that records them and returns at once, so the
only time that passes is the servers' scripted delays.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from core.imports.errors import DownloadRefused
from core.imports.fetch import Downloader, Fetched, FetchLimits, domain_of, retry_after_seconds
from core.imports.guard import AddressGuard
from core.imports.reasons import PLAIN_WORDS, FailureReason
from core.imports.validate import ImageLimits, inspect_image
from tests.support.event_loop import run_apart
from tests.support.image_hosts import ImageHosts, Reply, huge_png, image_bytes, redirect

JPEG = image_bytes("JPEG", 64, 48)
LOOPBACK = AddressGuard(allow_private=True)


@pytest.fixture
def hosts() -> Iterator[ImageHosts]:
    with ImageHosts(count=4) as running:
        yield running


class Backoff:
    """Stands in for asyncio.sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def download(
    *urls: str,
    limits: FetchLimits | None = None,
    guard: AddressGuard = LOOPBACK,
    backoff: Backoff | None = None,
    random_unit: Callable[[], float] = lambda: 1.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Fetched]:
    async def main() -> list[Fetched]:
        async with Downloader(
            limits or FetchLimits(),
            guard,
            sleep=backoff or Backoff(),
            random_unit=random_unit,
            transport=transport,
        ) as downloader:
            return list(await asyncio.gather(*(downloader.fetch(url) for url in urls)))

    return run_apart(main())


def run_with(
    scenario: Callable[[Downloader], Awaitable[None]], limits: FetchLimits | None = None
) -> None:
    async def main() -> None:
        async with Downloader(limits or FetchLimits(), LOOPBACK, sleep=Backoff()) as downloader:
            await scenario(downloader)

    run_apart(main())


async def until_received(hosts: ImageHosts, path: str) -> None:
    for _ in range(1000):
        if hosts.requests_for(path):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{path} never arrived")


# --- a plain download ---------------------------------------------------------------------


def test_an_image_arrives_with_what_the_server_said(hosts: ImageHosts) -> None:
    hosts.script("/a.jpg", Reply(body=JPEG, content_type="image/jpeg; charset=binary"))
    url = hosts.url(0, "/a.jpg")

    [fetched] = download(url)

    assert fetched.ok
    assert (fetched.data, fetched.declared_type, fetched.status_code) == (JPEG, "image/jpeg", 200)
    assert (fetched.url, fetched.final_url, fetched.attempts) == (url, url, 1)
    assert (fetched.reason, fetched.detail) == (None, None)
    [received] = hosts.received
    assert received.host_header == hosts.authority(0)
    assert received.headers["User-Agent"] == "Atelier-import/1"


def test_the_request_goes_to_the_checked_address_under_its_name() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=JPEG, headers={"Content-Type": "image/jpeg"})

    async def resolver(host: str, port: int) -> list[str]:
        return {"cdn.example.com": ["93.184.216.34"]}[host]

    [fetched] = download(
        "https://cdn.example.com/a.jpg",
        guard=AddressGuard(resolver=resolver),
        transport=httpx.MockTransport(answer),
    )

    assert fetched.ok
    [request] = seen
    assert str(request.url) == "https://93.184.216.34/a.jpg"
    assert request.headers["Host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"


def test_the_domain_key_is_the_host_with_a_port_that_is_not_the_default() -> None:
    assert domain_of(httpx.URL("https://Images.Example.com:443/a")) == "images.example.com"
    assert domain_of(httpx.URL("http://images.example.com:8080/a")) == "images.example.com:8080"


# --- concurrency --------------------------------------------------------------------------


def test_no_domain_ever_has_more_than_its_share_in_flight(hosts: ImageHosts) -> None:
    paths = [f"/c/{index}.jpg" for index in range(10)]
    for path in paths:
        hosts.script(path, Reply(body=JPEG, delay=0.05))
    urls = [hosts.url(host, path) for path in paths for host in range(4)]

    fetched = download(*urls, limits=FetchLimits(max_concurrent=5, per_domain=2))

    assert all(item.ok for item in fetched)
    assert len(hosts.received) == 40
    assert set(hosts.max_in_flight_per_host) == set(hosts.addresses)
    assert max(hosts.max_in_flight_per_host.values()) == 2
    assert hosts.max_in_flight_total == 5


def test_the_global_limit_holds_when_the_domains_would_allow_more(hosts: ImageHosts) -> None:
    paths = [f"/g/{index}.jpg" for index in range(6)]
    for path in paths:
        hosts.script(path, Reply(body=JPEG, delay=0.05))
    urls = [hosts.url(host, path) for path in paths for host in range(2)]

    fetched = download(*urls, limits=FetchLimits(max_concurrent=3, per_domain=10))

    assert all(item.ok for item in fetched)
    assert hosts.max_in_flight_total == 3


def test_in_flight_counts_the_requests_of_each_domain_right_now(hosts: ImageHosts) -> None:
    hosts.script("/slow.jpg", Reply(body=JPEG, delay=0.3))

    async def scenario(downloader: Downloader) -> None:
        task = asyncio.create_task(downloader.fetch(hosts.url(1, "/slow.jpg")))
        await until_received(hosts, "/slow.jpg")
        assert downloader.in_flight() == {hosts.authority(1): 1}
        assert (await task).ok
        assert downloader.in_flight() == {}

    run_with(scenario)


def test_a_backoff_wait_holds_no_slot(hosts: ImageHosts) -> None:
    hosts.script("/flaky.jpg", Reply(status=500), Reply(status=500), Reply(body=JPEG))
    seen_while_waiting: list[dict[str, int]] = []

    async def main() -> None:
        async def sleep(seconds: float) -> None:
            seen_while_waiting.append(downloader.in_flight())

        async with Downloader(FetchLimits(), LOOPBACK, sleep=sleep) as downloader:
            assert (await downloader.fetch(hosts.url(0, "/flaky.jpg"))).ok

    run_apart(main())

    assert seen_while_waiting == [{}, {}]


def test_cancelling_a_fetch_goes_through_and_frees_its_slot(hosts: ImageHosts) -> None:
    hosts.script("/slow.jpg", Reply(body=JPEG, delay=5.0))

    async def scenario(downloader: Downloader) -> None:
        task = asyncio.create_task(downloader.fetch(hosts.url(0, "/slow.jpg")))
        await until_received(hosts, "/slow.jpg")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert downloader.in_flight() == {}

    run_with(scenario)


# --- retries ------------------------------------------------------------------------------


def test_server_errors_are_retried_with_exponential_backoff_and_full_jitter(
    hosts: ImageHosts,
) -> None:
    hosts.script(
        "/flaky.jpg", Reply(status=500), Reply(status=502), Reply(status=503), Reply(body=JPEG)
    )
    jitter = iter([0.9, 0.1, 0.5])
    backoff = Backoff()

    [fetched] = download(
        hosts.url(0, "/flaky.jpg"), backoff=backoff, random_unit=lambda: next(jitter)
    )

    assert fetched.ok and fetched.attempts == 4
    assert backoff.delays == pytest.approx([0.5 * 0.9, 1.0 * 0.1, 2.0 * 0.5])
    assert len(hosts.requests_for("/flaky.jpg")) == 4


def test_the_backoff_stops_growing_at_its_maximum_and_the_last_error_is_final(
    hosts: ImageHosts,
) -> None:
    hosts.script("/down.jpg", Reply(status=500))
    backoff = Backoff()
    limits = FetchLimits(max_attempts=5, backoff_base_seconds=1.0, backoff_max_seconds=3.0)

    [fetched] = download(hosts.url(0, "/down.jpg"), limits=limits, backoff=backoff)

    assert (fetched.reason, fetched.status_code, fetched.attempts) == (
        FailureReason.SERVER_ERROR,
        500,
        5,
    )
    assert fetched.detail == f"{PLAIN_WORDS[FailureReason.SERVER_ERROR]} (HTTP 500)"
    assert backoff.delays == [1.0, 2.0, 3.0, 3.0]
    assert fetched.data is None


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_wait"),
    [
        (429, "3", 3.0),
        (503, "3", 3.0),
        (429, "120", 30.0),  # capped at retry_after_max_seconds
        (429, None, 0.5),  # no promise: the backoff
        (500, "7", 0.5),  # a 500 makes no promise about when to come back
    ],
)
def test_retry_after_is_honoured_for_429_and_503(
    hosts: ImageHosts, status: int, retry_after: str | None, expected_wait: float
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    hosts.script("/busy.jpg", Reply(status=status, headers=headers), Reply(body=JPEG))
    backoff = Backoff()

    [fetched] = download(hosts.url(0, "/busy.jpg"), backoff=backoff)

    assert fetched.ok and fetched.attempts == 2
    assert backoff.delays == [expected_wait]


def test_a_server_that_keeps_rate_limiting_is_rate_limited(hosts: ImageHosts) -> None:
    hosts.script("/busy.jpg", Reply(status=429, headers={"Retry-After": "1"}))

    [fetched] = download(hosts.url(0, "/busy.jpg"), limits=FetchLimits(max_attempts=3))

    assert (fetched.reason, fetched.attempts) == (FailureReason.RATE_LIMITED, 3)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds(" 12 ", now) == 12.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize("status", [404, 403, 410])
def test_other_client_errors_are_final_at_once(hosts: ImageHosts, status: int) -> None:
    hosts.script("/gone.jpg", Reply(status=status, body=b"no", content_type="text/plain"))
    backoff = Backoff()

    [fetched] = download(hosts.url(0, "/gone.jpg"), backoff=backoff)

    assert (fetched.reason, fetched.status_code, fetched.attempts) == (
        FailureReason.HTTP_ERROR,
        status,
        1,
    )
    assert f"HTTP {status}" in (fetched.detail or "")
    assert backoff.delays == []
    assert len(hosts.received) == 1


def test_a_slow_server_times_out_after_every_try(hosts: ImageHosts) -> None:
    hosts.script("/slow.jpg", Reply(body=JPEG, delay=3.0))
    limits = FetchLimits(read_timeout=0.1, max_attempts=2)

    [fetched] = download(hosts.url(0, "/slow.jpg"), limits=limits)

    assert (fetched.reason, fetched.attempts) == (FailureReason.TIMEOUT, 2)


def test_a_host_that_refuses_connections_fails_to_connect(hosts: ImageHosts) -> None:
    # Nothing listens on this loopback address.
    url = f"http://127.0.0.99:{hosts.port}/a.jpg"

    [fetched] = download(url, limits=FetchLimits(max_attempts=2))

    assert (fetched.reason, fetched.attempts, fetched.status_code) == (
        FailureReason.CONNECTION_FAILED,
        2,
        None,
    )


# --- bodies -------------------------------------------------------------------------------


def test_a_body_cut_off_before_its_content_length_is_truncated(hosts: ImageHosts) -> None:
    hosts.script("/cut.jpg", Reply(body=JPEG[:500], missing_bytes=2_000))

    [fetched] = download(hosts.url(0, "/cut.jpg"), limits=FetchLimits(max_attempts=3))

    assert (fetched.reason, fetched.attempts) == (FailureReason.TRUNCATED, 3)


def test_a_truncated_transfer_is_tried_again(hosts: ImageHosts) -> None:
    hosts.script("/cut.jpg", Reply(body=JPEG[:500], missing_bytes=2_000), Reply(body=JPEG))

    [fetched] = download(hosts.url(0, "/cut.jpg"))

    assert fetched.ok and fetched.data == JPEG and fetched.attempts == 2


def test_a_short_body_is_truncated_whatever_the_transport() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "100"}, content=b"short")

    [fetched] = download(
        "http://10.9.9.9/a.jpg",
        transport=httpx.MockTransport(answer),
        limits=FetchLimits(max_attempts=2),
    )

    assert (fetched.reason, fetched.attempts) == (FailureReason.TRUNCATED, 2)
    assert "5 of 100 bytes" in (fetched.detail or "")


def test_a_body_announced_over_the_limit_is_refused_before_reading(hosts: ImageHosts) -> None:
    hosts.script("/big.jpg", Reply(body=bytes(5_000)))

    [fetched] = download(hosts.url(0, "/big.jpg"), limits=FetchLimits(max_bytes=1_000))

    assert (fetched.reason, fetched.attempts) == (FailureReason.TOO_LARGE, 1)
    assert "5000 bytes announced" in (fetched.detail or "")


def test_a_body_without_a_length_is_dropped_once_it_passes_the_limit(hosts: ImageHosts) -> None:
    hosts.script("/stream.jpg", Reply(body=bytes(2_000_000), close_delimited=True))

    [fetched] = download(hosts.url(0, "/stream.jpg"), limits=FetchLimits(max_bytes=64 * 1024))

    assert (fetched.reason, fetched.attempts) == (FailureReason.TOO_LARGE, 1)
    assert "over 65536 bytes" in (fetched.detail or "")


def test_a_body_without_a_length_within_the_limit_arrives(hosts: ImageHosts) -> None:
    hosts.script("/stream.jpg", Reply(body=JPEG, close_delimited=True))

    [fetched] = download(hosts.url(0, "/stream.jpg"))

    assert fetched.ok and fetched.data == JPEG


def test_html_sent_as_a_jpeg_arrives_and_is_then_not_an_image(hosts: ImageHosts) -> None:
    hosts.script("/login.jpg", Reply(body=b"<html><body>Log in</body></html>"))

    [fetched] = download(hosts.url(0, "/login.jpg"))

    assert fetched.ok and fetched.declared_type == "image/jpeg"
    assert fetched.data is not None
    with pytest.raises(DownloadRefused) as caught:
        inspect_image(fetched.data, fetched.declared_type, ImageLimits())
    assert caught.value.reason is FailureReason.NOT_AN_IMAGE


def test_a_small_file_of_too_many_pixels_arrives_and_is_then_refused(hosts: ImageHosts) -> None:
    hosts.script("/bomb.png", Reply(body=huge_png(12_000, 12_000), content_type="image/png"))

    [fetched] = download(hosts.url(0, "/bomb.png"))

    assert fetched.ok and fetched.data is not None
    with pytest.raises(DownloadRefused) as caught:
        inspect_image(fetched.data, fetched.declared_type, ImageLimits())
    assert caught.value.reason is FailureReason.TOO_MANY_PIXELS


# --- redirects ----------------------------------------------------------------------------


def test_a_redirect_to_another_host_is_followed_there(hosts: ImageHosts) -> None:
    target = hosts.url(1, "/a.jpg")
    hosts.script("/moved.jpg", redirect(target, status=301))
    hosts.script("/a.jpg", Reply(body=JPEG))

    [fetched] = download(hosts.url(0, "/moved.jpg"))

    assert fetched.ok and fetched.final_url == target and fetched.data == JPEG
    [arrived] = hosts.requests_for("/a.jpg")
    assert (arrived.address, arrived.host_header) == (hosts.addresses[1], hosts.authority(1))


def test_a_relative_redirect_is_resolved_against_the_page_that_sent_it(
    hosts: ImageHosts,
) -> None:
    hosts.script("/old/a.jpg", redirect("../new/a.jpg", status=307))
    hosts.script("/new/a.jpg", Reply(body=JPEG))

    [fetched] = download(hosts.url(2, "/old/a.jpg"))

    assert fetched.ok and fetched.final_url == hosts.url(2, "/new/a.jpg")


def test_a_redirect_loop_ends_as_too_many_redirects(hosts: ImageHosts) -> None:
    hosts.script("/loop", redirect("/loop"))

    [fetched] = download(hosts.url(0, "/loop"), limits=FetchLimits(max_redirects=5))

    assert (fetched.reason, fetched.status_code) == (FailureReason.TOO_MANY_REDIRECTS, 302)
    assert len(hosts.requests_for("/loop")) == 6


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/", "other host"],
)
def test_a_redirect_into_the_private_network_is_refused(hosts: ImageHosts, location: str) -> None:
    if location == "other host":
        # Loopback too, but outside the one exception the guard was given.
        location = hosts.url(1, "/a.jpg")
    hosts.script("/innocent.jpg", redirect(location))
    first_host_only = AddressGuard(allowed_networks=[ipaddress.ip_network("127.0.0.2/32")])

    [fetched] = download(hosts.url(0, "/innocent.jpg"), guard=first_host_only)

    assert (fetched.reason, fetched.final_url) == (FailureReason.BLOCKED_ADDRESS, location)
    assert [received.path for received in hosts.received] == ["/innocent.jpg"]


# --- the guard at the door ----------------------------------------------------------------


def test_a_private_address_is_refused_before_anything_is_sent(hosts: ImageHosts) -> None:
    hosts.script("/a.jpg", Reply(body=JPEG))

    [fetched] = download(hosts.url(0, "/a.jpg"), guard=AddressGuard())

    assert (fetched.reason, fetched.attempts) == (FailureReason.BLOCKED_ADDRESS, 0)
    assert hosts.received == []


def test_a_name_that_resolves_to_a_private_address_is_refused(hosts: ImageHosts) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"images.invalid": [hosts.addresses[0]]}[host]

    url = f"http://images.invalid:{hosts.port}/a.jpg"
    hosts.script("/a.jpg", Reply(body=JPEG))

    [refused] = download(url, guard=AddressGuard(resolver=resolver))
    assert refused.reason is FailureReason.BLOCKED_ADDRESS
    assert hosts.received == []

    # Allowed, the request reaches the checked address: the name never resolves anywhere else.
    allowed = [ipaddress.ip_network(f"{hosts.addresses[0]}/32")]
    [fetched] = download(url, guard=AddressGuard(allowed_networks=allowed, resolver=resolver))
    assert fetched.ok
    [received] = hosts.received
    assert (received.address, received.host_header) == (
        hosts.addresses[0],
        f"images.invalid:{hosts.port}",
    )


def test_bad_urls_and_unknown_names_are_answered_not_raised() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    bad, unknown = download(
        "ftp://images.example.com/a.jpg",
        "http://nowhere.invalid/a.jpg",
        guard=AddressGuard(resolver=resolver),
    )

    assert (bad.reason, bad.attempts, bad.data) == (FailureReason.BAD_URL, 0, None)
    assert (unknown.reason, unknown.attempts) == (FailureReason.DNS_FAILED, 0)
    assert unknown.detail is not None
    assert unknown.detail.startswith(PLAIN_WORDS[FailureReason.DNS_FAILED])
