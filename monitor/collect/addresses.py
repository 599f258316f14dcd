"""Which network addresses a source may reach: no server-side request forgery.

A feed address (or a redirect) must not make the service fetch from itself, the cloud
metadata service at 169.254.169.254 or the office network, unless the operator says that
source is an intranet site (`allow_private: true`). The check is made on the address
actually connected to, at connect time, twice over:

* `GuardedResolver` wraps aiohttp's resolver and drops refused addresses from every answer,
  so a name that resolves (or is re-bound) to 127.0.0.1 is refused with the name in the
  message; the connector caches only what passed.
* `AddressPolicy.socket_for` is the connector's socket factory: every socket is checked
  against the address it is about to connect to. aiohttp never asks the resolver about
  literal IPs (`http://10.0.0.1/`, a redirect to `http://[::1]/`); this catches them.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from operator import attrgetter

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Order matters: 127/8, 169.254/16 and 240/4 are also "private" to the ipaddress module,
# and the message should name the narrowest range.
_RANGES = (
    ("unspecified", attrgetter("is_unspecified")),
    ("loopback", attrgetter("is_loopback")),
    ("link-local", attrgetter("is_link_local")),
    ("multicast", attrgetter("is_multicast")),
    ("reserved", attrgetter("is_reserved")),
    ("private", attrgetter("is_private")),
)


class AddressRefused(OSError):
    """A connection the source may not make; an OSError so aiohttp treats it as a failed
    connect (and tries the host's next address, if any)."""

    def __init__(self, address: str, range_name: str, host: str | None = None) -> None:
        self.address = address
        self.range_name = range_name
        self.host = host
        via = f"{host} resolves to " if host and host != address else ""
        super().__init__(f"{via}{address}{_mapped_note(address)}, a {range_name} address")


def _mapped_note(address: str) -> str:
    """' (= 127.0.0.1)' for an IPv4-mapped IPv6 address, which reads as hex: ::ffff:7f00:1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return f" (= {mapped})" if mapped else ""


def refused_range(address: str) -> str | None:
    """The name of the non-public range `address` is in, or None for a public address."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 connects to 127.0.0.1
    for name, test in _RANGES:
        if test(ip):
            return name
    return None if ip.is_global else "non-public"  # e.g. 100.64.0.0/10, carrier-grade NAT


class AddressPolicy:
    """Refuses non-public addresses; `exempt` networks count as public (tests use it for
    their 127.0.0.1 site when they need a "public" hop before a refused one)."""

    def __init__(self, exempt: Iterable[IPNetwork] = ()) -> None:
        self._exempt = tuple(exempt)

    def check(self, address: str, host: str | None = None) -> None:
        range_name = refused_range(address)
        if range_name and not self._exempted(address):
            raise AddressRefused(address, range_name, host)

    def _exempted(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip in network for network in self._exempt)

    def socket_for(self, addr_info: tuple) -> socket.socket:
        """aiohttp's `socket_factory`: the last word before connect()."""
        family, type_, proto, _, sockaddr = addr_info
        self.check(sockaddr[0])
        return socket.socket(family=family, type=type_, proto=proto)


class GuardedResolver(AbstractResolver):
    """The default resolver (or the one given), answering only with allowed addresses."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed, refusals = [], []
        for answer in answers:
            try:
                self._policy.check(answer["host"], host)
                allowed.append(answer)
            except AddressRefused as exc:
                refusals.append(exc)
        if refusals and not allowed:
            raise refusals[0]
        return allowed

    async def close(self) -> None:
        await self._inner.close()
