"""The address guard: which URLs may be fetched, and the address a request is pinned to."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from core.imports.errors import DownloadRefused
from core.imports.guard import AddressGuard, Resolver, Target
from core.imports.reasons import FailureReason
from tests.support.event_loop import run_apart


def fixed_resolver(answers: dict[str, list[str]], asked: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if asked is not None:
            asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


def resolve(guard: AddressGuard, url: str | httpx.URL) -> Target:
    return run_apart(guard.resolve(url))


def refusal(guard: AddressGuard, url: str) -> DownloadRefused:
    with pytest.raises(DownloadRefused) as caught:
        resolve(guard, url)
    return caught.value


PUBLIC = fixed_resolver({"images.example.com": ["93.184.216.34"]})


def test_a_public_name_is_pinned_to_the_address_it_was_checked_at() -> None:
    target = resolve(AddressGuard(resolver=PUBLIC), "http://images.example.com/a.jpg?size=2")

    assert target.ip == ipaddress.ip_address("93.184.216.34")
    assert str(target.connect_url) == "http://93.184.216.34/a.jpg?size=2"
    assert target.headers == {"Host": "images.example.com"}
    assert target.extensions == {}


def test_https_keeps_the_name_for_sni_and_a_connection_per_name() -> None:
    target = resolve(AddressGuard(resolver=PUBLIC), "https://images.example.com:8443/a.jpg")

    assert str(target.connect_url) == "https://93.184.216.34:8443/a.jpg"
    assert target.headers == {"Host": "images.example.com:8443", "Connection": "close"}
    assert target.extensions == {"sni_hostname": "images.example.com"}


def test_an_ipv6_literal_is_pinned_with_brackets() -> None:
    target = resolve(AddressGuard(resolver=PUBLIC), "http://[2606:4700::1111]:8080/x")

    assert str(target.connect_url) == "http://[2606:4700::1111]:8080/x"
    assert target.headers == {"Host": "[2606:4700::1111]:8080"}


@pytest.mark.parametrize(
    "url", ["ftp://images.example.com/a.jpg", "file:///etc/passwd", "not a url", "http://", "//x"]
)
def test_anything_but_http_and_https_is_a_bad_url(url: str) -> None:
    assert refusal(AddressGuard(resolver=PUBLIC), url).reason is FailureReason.BAD_URL


def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    refused = refusal(AddressGuard(resolver=PUBLIC), "http://nowhere.example.com/a.jpg")

    assert refused.reason is FailureReason.DNS_FAILED
    assert "nowhere.example.com" in str(refused)


def test_a_name_without_addresses_is_a_dns_failure() -> None:
    guard = AddressGuard(resolver=fixed_resolver({"empty.example.com": []}))

    assert refusal(guard, "http://empty.example.com/").reason is FailureReason.DNS_FAILED


def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused() -> None:
    guard = AddressGuard(resolver=fixed_resolver({"images.example.com": ["10.0.0.7"]}))

    refused = refusal(guard, "https://images.example.com/a.jpg")

    assert refused.reason is FailureReason.BLOCKED_ADDRESS
    assert "images.example.com resolves to 10.0.0.7" in str(refused)


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    answers = {"images.example.com": ["93.184.216.34", "2606:4700::1111", "127.0.0.1"]}
    guard = AddressGuard(resolver=fixed_resolver(answers))

    assert refusal(guard, "http://images.example.com/").reason is FailureReason.BLOCKED_ADDRESS


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",  # noqa: S104 (refused here, never bound)
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "[::1]",
        "[::]",
        "[fe80::1]",
        "[fc00::1]",
        "[fec0::1]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:10.0.0.1]",
        "[2002:7f00:1::]",
    ],
)
def test_internal_addresses_are_refused_without_a_lookup(host: str) -> None:
    asked: list[str] = []
    guard = AddressGuard(resolver=fixed_resolver({}, asked))

    assert refusal(guard, f"http://{host}/latest/meta-data/").reason is (
        FailureReason.BLOCKED_ADDRESS
    )
    assert asked == []


def test_the_system_resolver_is_checked_too() -> None:
    # localhost comes from /etc/hosts, so this needs no network.
    assert refusal(AddressGuard(), "http://localhost:8000/").reason is (
        FailureReason.BLOCKED_ADDRESS
    )


def test_allow_private_lets_internal_addresses_through() -> None:
    target = resolve(AddressGuard(allow_private=True), "http://127.0.0.1:9000/a.jpg")

    assert target.ip == ipaddress.ip_address("127.0.0.1")


def test_allowed_networks_are_exceptions_and_nothing_more() -> None:
    guard = AddressGuard(allowed_networks=[ipaddress.ip_network("10.1.0.0/16")])

    assert resolve(guard, "http://10.1.2.3/").ip == ipaddress.ip_address("10.1.2.3")
    assert refusal(guard, "http://10.2.0.1/").reason is FailureReason.BLOCKED_ADDRESS
    assert refusal(guard, "http://127.0.0.1/").reason is FailureReason.BLOCKED_ADDRESS


def test_an_ipv4_mapped_address_is_judged_and_connected_to_as_ipv4() -> None:
    guard = AddressGuard(allowed_networks=[ipaddress.ip_network("10.1.0.0/16")])

    target = resolve(guard, "http://[::ffff:10.1.2.3]:81/a.jpg")

    assert target.ip == ipaddress.ip_address("10.1.2.3")
    assert str(target.connect_url) == "http://10.1.2.3:81/a.jpg"
    public = resolve(AddressGuard(resolver=PUBLIC), "http://[::ffff:93.184.216.34]/")
    assert public.ip == ipaddress.ip_address("93.184.216.34")


def test_a_parsed_url_is_taken_as_it_is_with_its_host_lowercased() -> None:
    target = resolve(AddressGuard(resolver=PUBLIC), httpx.URL("HTTP://Images.Example.COM/A.jpg"))

    assert target.host == "images.example.com"
    assert target.url.path == "/A.jpg"
