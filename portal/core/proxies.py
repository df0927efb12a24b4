"""Which peers may tell us who the client is: the `TRUSTED_PROXIES` setting, as networks.

A request's `X-Forwarded-For` is anyone's to write, so it counts only when the peer that sent
the request is a proxy we run. Then the client is the right-most forwarded address that is
not one of our proxies: each proxy appends the address it saw, so everything to the left of
that was written by the client itself and proves nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from portal.core.errors import N_, ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    # Some proxies write the client's port too: `192.0.2.1:5123`, `[2001:db8::1]:5123`.
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer seen through an IPv6 socket is still that IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


class TrustedProxies:
    """The configured proxies; empty (the default) trusts nobody, loopback included."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: list[Network] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ConfigError(N_("TRUSTED_PROXIES: %(entry)r is not an IP address or "
                                     "network"), entry=entry) from None

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, peer: str) -> bool:
        address = _address(peer)
        return address is not None and any(address in net for net in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address: `peer` itself unless `peer` is one of our proxies.

        `forwarded_for` holds every X-Forwarded-For header value in order. An address that
        does not parse ends the walk at the proxy, so garbage cannot become a fresh identity.
        """
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer
            if not any(address in net for net in self.networks):
                return str(address)
        return peer
