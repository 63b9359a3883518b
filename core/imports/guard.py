"""Refusing URLs that point inside our own network (SSRF) before anything is sent to them.

An import fetches addresses that users paste, so a URL may name the cloud metadata service
(169.254.169.254), a database on loopback or a host of the private network. Every address a name
resolves to is checked, and the request is then sent to the checked address itself with the
original `Host` (and TLS SNI): a second lookup at connect time could answer differently (DNS
rebinding) and is never made.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from core.imports.errors import DownloadRefused
from core.imports.reasons import FailureReason

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses it resolves to, as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]

DEFAULT_PORTS = {"http": 80, "https": 443}
# Carrier-grade NAT: not "private" to `ipaddress`, yet never a public web server.
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """A checked URL and the address it was checked at; the request goes to `ip` only."""

    url: httpx.URL
    ip: IPAddress

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.ip))

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Host": self.url.netloc.decode("ascii")}
        if self.url.scheme == "https":
            # The pool keys connections by address, so a kept-alive TLS connection made for
            # one name could carry the next request for another name on the same address,
            # whose certificate was never checked.
            headers["Connection"] = "close"
        return headers

    @property
    def extensions(self) -> dict[str, Any]:
        # The certificate is verified against the SNI name, not the address in the URL.
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


def is_internal(address: IPAddress) -> bool:
    """True for any address that is not a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_internal(address.ipv4_mapped)
        if address.sixtofour is not None and is_internal(address.sixtofour):
            return True
        if address.is_site_local:
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in SHARED_ADDRESS_SPACE
    )


class AddressGuard:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        allowed_networks: Sequence[IPNetwork] = (),
        resolver: Resolver = system_resolver,
    ) -> None:
        self._allow_private = allow_private
        self._allowed_networks = tuple(allowed_networks)
        self._resolver = resolver

    async def resolve(self, url: str | httpx.URL) -> Target:
        """The checked target of `url`; raises `DownloadRefused` (bad URL, DNS, blocked)."""
        parsed = _parse(url)
        host = parsed.raw_host.decode("ascii")
        addresses = await self._addresses(host, parsed.port or DEFAULT_PORTS[parsed.scheme])
        blocked = [address for address in addresses if not self._permits(address)]
        if blocked:
            log.warning(
                "import URL refused: internal address",
                extra={"url": str(parsed), "addresses": [str(address) for address in blocked]},
            )
            named = "" if host == str(blocked[0]) else f"{host} resolves to "
            raise DownloadRefused(FailureReason.BLOCKED_ADDRESS, f"{named}{blocked[0]}")
        return Target(parsed, _unmapped(addresses[0]))

    def _permits(self, address: IPAddress) -> bool:
        if self._allow_private or not is_internal(address):
            return True
        plain = _unmapped(address)
        return any(plain in network for network in self._allowed_networks)

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            answers = await self._resolver(host, port)
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except (OSError, ValueError) as error:
            raise DownloadRefused(FailureReason.DNS_FAILED, f"{host}: {error}") from None
        if not addresses:
            raise DownloadRefused(FailureReason.DNS_FAILED, f"{host}: no address")
        return addresses


def _parse(url: str | httpx.URL) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise DownloadRefused(FailureReason.BAD_URL, str(error)) from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise DownloadRefused(FailureReason.BAD_URL, f"scheme {parsed.scheme or 'missing'!r}")
    if not parsed.raw_host:
        raise DownloadRefused(FailureReason.BAD_URL, "no host")
    return parsed


def _unmapped(address: IPAddress) -> IPAddress:
    """::ffff:a.b.c.d is a.b.c.d: judged, allowed and connected to as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
